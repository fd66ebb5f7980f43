"""`dependency_400s`: the first N publishes of a configuration, and the first N deployment creates
naming a published version, answer a transient 400 before anything is done (README, Corrections:
Genesys's provider retries such 400s for 30 s)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from gcwm.emulator import EmulatorConfig
from tests.emulator.harness import Emulator
from tests.emulator.steps import (
    CONFIGS,
    DEPLOYMENTS,
    configuration_body,
    deployment_body,
    flow_id,
    wait_until_active,
)


def _active_draft(api: httpx.Client, name: str = "support-web") -> str:
    config_id = str(api.post(CONFIGS, json=configuration_body(name)).json()["id"])
    wait_until_active(api, f"{CONFIGS}/{config_id}/versions/draft")
    return config_id


def _versions(api: httpx.Client, config_id: str) -> list[str]:
    return [v["version"] for v in api.get(f"{CONFIGS}/{config_id}/versions").json()["entities"]]


def test_first_publishes_of_each_configuration_are_refused_then_succeed(
    start_emulator: Callable[..., Emulator],
) -> None:
    """With 2, each configuration's first two publishes answer 400 bad.request naming it, and
    publish nothing; the third publishes version 1; later publishes are not refused."""
    emu = start_emulator(dependency_400s=2)
    with emu.client() as api:
        config_id = _active_draft(api)
        publish = f"{CONFIGS}/{config_id}/versions/draft/publish"
        for _ in range(2):
            refused = api.post(publish)
            assert refused.status_code == 400
            body = refused.json()
            assert (body["code"], body["entityId"]) == ("bad.request", config_id)
            assert config_id in body["message"]
            assert _versions(api, config_id) == ["DRAFT"]
        assert api.post(publish).json()["version"] == "1"
        assert api.post(publish).json()["version"] == "2"
        other = _active_draft(api, "other")
        assert api.post(f"{CONFIGS}/{other}/versions/draft/publish").status_code == 400
    assert emu.admin("GET", "stats")["dependency400s"] == 3


def test_first_deployment_creates_naming_a_version_are_refused_and_make_nothing(
    start_emulator: Callable[..., Emulator],
) -> None:
    """With 1, the first create naming each published version answers 400 naming that version and
    makes no deployment; the next one succeeds."""
    emu = start_emulator(dependency_400s=1)
    with emu.client() as api:
        config_id = _active_draft(api)
        publish = f"{CONFIGS}/{config_id}/versions/draft/publish"
        assert api.post(publish).status_code == 400
        assert api.post(publish).json()["version"] == "1"
        body = deployment_body(config_id, flow_id(api, "Support Messaging Flow"))
        refused = api.post(DEPLOYMENTS, json=body)
        assert refused.status_code == 400
        assert refused.json()["code"] == "bad.request"
        assert f"Version 1 of configuration {config_id}" in refused.json()["message"]
        assert api.get(DEPLOYMENTS).json()["entities"] == []
        assert api.post(DEPLOYMENTS, json=body).status_code == 200
        assert api.post(publish).json()["version"] == "2"  # this configuration's publishes are used up
        second = deployment_body(config_id, flow_id(api, "Sales Messaging Flow"), name="v2")
        second["configuration"]["version"] = "2"
        assert api.post(DEPLOYMENTS, json=second).status_code == 400  # a new version, counted anew
        assert api.post(DEPLOYMENTS, json=second).status_code == 200
        assert api.get(DEPLOYMENTS).json()["total"] == 2
    assert emu.admin("GET", "stats")["dependency400s"] == 3


def test_knob_changes_at_run_time_and_reset_turns_it_off(emulator: Emulator, api: httpx.Client) -> None:
    """PUT /emulator/faults {"dependency_400s": 1} applies at once; POST /emulator/reset sets it to 0."""
    assert emulator.admin("GET", "faults")["dependency_400s"] == 0
    assert emulator.admin("PUT", "faults", {"dependency_400s": 1})["dependency_400s"] == 1
    config_id = _active_draft(api)
    publish = f"{CONFIGS}/{config_id}/versions/draft/publish"
    assert [api.post(publish).status_code for _ in range(2)] == [400, 200]
    emulator.admin("POST", "reset")
    assert emulator.admin("GET", "faults")["dependency_400s"] == 0
    fresh = _active_draft(api)
    assert api.post(f"{CONFIGS}/{fresh}/versions/draft/publish").status_code == 200
    assert emulator.admin("GET", "stats")["dependency400s"] == 0


def test_writes_that_fail_on_their_own_are_neither_refused_nor_counted(
    start_emulator: Callable[..., Emulator],
) -> None:
    """An unknown configuration is still 404; a deployment naming the DRAFT still the usual 400;
    neither uses up the object's count."""
    emu = start_emulator(dependency_400s=1)
    with emu.client() as api:
        missing = api.post(f"{CONFIGS}/no-such-config/versions/draft/publish")
        assert missing.status_code == 404
        config_id = _active_draft(api)
        draft = deployment_body(config_id, flow_id(api, "Support Messaging Flow"))
        draft["configuration"]["version"] = "DRAFT"
        usual = api.post(DEPLOYMENTS, json=draft)
        assert [d["fieldName"] for d in usual.json()["details"]] == ["configuration.version"]
    assert emu.admin("GET", "stats")["dependency400s"] == 0


def test_knob_refuses_negative_values(emulator: Emulator) -> None:
    """A negative count is refused by the config and by the admin API."""
    with pytest.raises(ValueError, match="dependency_400s"):
        EmulatorConfig(dependency_400s=-1)
    answer = httpx.put(f"{emulator.url}/emulator/faults", json={"dependency_400s": -1})
    assert answer.status_code == 400
