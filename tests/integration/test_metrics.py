"""The metrics of Genesys calls and jobs, against the emulator and its faults."""

from __future__ import annotations

import pytest

from gcwm.observability.calls import recording_calls
from gcwm.observability.metrics import REGISTRY
from gcwm.settings import Settings
from gcwm.spec import parse_spec
from tests.integration.conftest import channel_yaml, gcwm_app
from tests.support.emulator import RunningEmulator

DEPLOYMENTS = "/api/v2/webdeployments/deployments"
CREATE_DEPLOYMENT = f"POST {DEPLOYMENTS}"
FIND_QUEUE = "GET /api/v2/routing/queues"


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.usefixtures("no_backoff")
async def test_retries_429s_and_head_room_are_measured_from_real_answers(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A 429 and a 503 are each one retry by their cause; the 429 is counted; the run's samples
    hold every attempt with its status; the head-room gauge follows the emulator's headers."""
    emulator.add_fault("POST", DEPLOYMENTS, "http429", retry_after_s=1)
    emulator.add_fault("GET", "/api/v2/routing/queues", "http503")
    retries_429 = {"operation": CREATE_DEPLOYMENT, "cause": "429"}
    retries_503 = {"operation": FIND_QUEUE, "cause": "503"}
    before = {
        "429": _sample("gcwm_genesys_retries_total", retries_429),
        "503": _sample("gcwm_genesys_retries_total", retries_503),
        "limited": _sample("gcwm_genesys_rate_limited_total", {"operation": CREATE_DEPLOYMENT}),
        "jobs": _sample("gcwm_job_duration_seconds_count", {"kind": "provision", "status": "succeeded"}),
    }
    with recording_calls() as calls:
        async with gcwm_app(settings) as app:
            document = await app.service.provision(parse_spec(channel_yaml()))
    assert [c["outcome"] for c in document["channels"]] == ["created"]
    assert _sample("gcwm_genesys_retries_total", retries_429) - before["429"] == 1
    assert _sample("gcwm_genesys_retries_total", retries_503) - before["503"] == 1
    assert (
        _sample("gcwm_genesys_rate_limited_total", {"operation": CREATE_DEPLOYMENT}) - before["limited"] == 1
    )
    assert (
        _sample("gcwm_job_duration_seconds_count", {"kind": "provision", "status": "succeeded"})
        - before["jobs"]
        == 1
    )
    operations = calls.distributions()
    assert operations[CREATE_DEPLOYMENT][1] == {"200": 1, "429": 1}
    assert operations[FIND_QUEUE][1] == {"200": 1, "503": 1}
    # Every attempt the emulator answered, and no other, is in the run's samples.
    answered = emulator.stats()["byOperation"]
    assert {op: d.count for op, (d, _) in operations.items()} == answered
    allowed = _sample("gcwm_genesys_rate_limit_allowed", {})
    remaining = _sample("gcwm_genesys_rate_limit_remaining", {})
    assert allowed == emulator.config.rate_limit_per_min
    assert 0 < remaining <= allowed - sum(answered.values())
