"""A create whose answer is lost is looked up and adopted, never sent twice (real HTTP, both databases)."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Provision, channel_yaml
from tests.support.emulator import RunningEmulator

CREATE_STEPS = {
    "configuration": ("POST", r"/api/v2/webdeployments/configurations"),
    "publish": ("POST", r"/api/v2/webdeployments/configurations/[^/]+/versions/draft/publish"),
    "deployment": ("POST", r"/api/v2/webdeployments/deployments"),
}


def _published_versions(emulator: RunningEmulator, configuration_id: str) -> list[str]:
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        answer = http.get(
            f"/api/v2/webdeployments/configurations/{configuration_id}/versions", headers=emulator._auth(http)
        )
        answer.raise_for_status()
        return sorted(v["version"] for v in answer.json()["entities"] if v["version"] != "DRAFT")


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("fault", ["commit_then_fail", "commit_then_reset"])
@pytest.mark.parametrize("step", sorted(CREATE_STEPS))
async def test_lost_create_answer_leaves_exactly_one_object(
    provision: Provision, emulator: RunningEmulator, step: str, fault: str
) -> None:
    """The write happens but the answer is a 500 or a dropped connection: one object, adopted."""
    method, path = CREATE_STEPS[step]
    emulator.add_fault(method, path, fault)
    (job,) = await provision(channel_yaml())
    assert job.status == "succeeded", job.error
    assert emulator.stats()["commitThenFail"] == 1
    configurations, deployments = emulator.configurations(), emulator.deployments()
    assert len(configurations) == 1 and len(deployments) == 1
    assert deployments[0]["id"] == job.result["deployment"]["id"]
    assert _published_versions(emulator, configurations[0]["id"]) == ["1"]


@pytest.mark.usefixtures("no_backoff")
async def test_repeated_unavailability_is_retried(provision: Provision, emulator: RunningEmulator) -> None:
    """502/503 on reads are retried until they pass; the channel still comes out once."""
    emulator.add_fault("GET", r"/api/v2/routing/queues", "http503", count=2)
    emulator.add_fault("GET", r"/api/v2/webdeployments/deployments/[^/]+", "http502", count=2)
    (job,) = await provision(channel_yaml())
    assert job.status == "succeeded", job.error
    assert emulator.stats()["byStatus"].get("503") == 2
    assert len(emulator.deployments()) == 1


@pytest.mark.usefixtures("no_backoff")
async def test_bulk_run_under_random_faults_makes_no_duplicates(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """10% 5xx and 15% commit-then-fail over 12 channels: all Active, one object each. (At 5% the
    36 writes met no commit-then-fail about one run in six, by the order the channels' requests
    happened to come in: then the hazard below did not happen.)"""
    emulator.set_faults(fault_5xx_rate=0.10, commit_then_fail_rate=0.15, seed=7)
    spec = "channels:\n" + "".join(channel_yaml(f"web-{i:02d}").split("channels:\n", 1)[1] for i in range(12))
    jobs = await provision(spec)
    assert [j.status for j in jobs] == ["succeeded"] * 12, [j.error for j in jobs if j.error]
    stats = emulator.stats()
    emulator.set_faults(fault_5xx_rate=0, commit_then_fail_rate=0)  # the test's own reads must pass
    names = sorted(d["name"] for d in emulator.deployments())
    assert names == [f"web-{i:02d}" for i in range(12)]
    assert len(emulator.configurations()) == 12
    # The hazard happened: writes were committed and their answers lost, not only refused.
    assert stats["commitThenFail"] > 0, stats
    assert stats["http5xx"] > stats["commitThenFail"], stats
