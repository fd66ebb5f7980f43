"""`gcwm plan FILE`: what provision would do, read from the org; writes nothing; terraform's exit codes."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import EXAMPLES
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator

CHANNEL = str(EXAMPLES / "channel.yaml")


def _writes(emulator: RunningEmulator) -> int:
    return sum(n for op, n in emulator.stats()["byOperation"].items() if not op.startswith("GET"))


def test_plan_on_an_empty_org_creates_every_channel_and_exits_2(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """Every channel is a create, and nothing is written to the org."""
    result = run_gcwm(["plan", str(EXAMPLES / "bulk.yaml"), "--output", "json"], gcwm_env)
    assert result.code == 2, result.stderr
    document = result.json()
    assert set(document) == {"org", "verdict", "counts", "changes", "findings", "limits"}
    assert {"id", "region"} <= set(document["org"])
    assert document["verdict"] == "20 to create, 0 to update, 0 to replace, 0 unchanged"
    assert document["counts"] == {"create": 20, "update": 0, "replace": 0, "no-op": 0}
    limits = {u["key"]: u for u in document["limits"]}
    assert limits["web.deployments.deployments.max"]["inUse"] == 0
    assert limits["web.deployments.deployments.max"]["after"] == 20
    assert len(document["changes"]) == 20
    assert {c["action"] for c in document["changes"]} == {"create"}
    # A create lists every field it sets, each from null, by spec path and API path.
    fields = {f["apiPath"]: f for f in document["changes"][0]["fields"]}
    assert all(f["old"] is None for f in fields.values())
    assert fields["deployment.allowedDomains"]["path"] == "allowedDomains"
    assert fields["configuration.messenger.styles.primaryColor"]["path"] == "messenger.primaryColor"
    assert fields["deployment.configuration.version"]["consequence"] is True
    assert _writes(emulator) == 0
    assert emulator.stats()["requests"] > 0  # it did read the org
    assert emulator.configurations() == [] and emulator.deployments() == []


def test_plan_of_a_converged_org_is_all_no_op_and_exits_0(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """After provisioning, the same spec plans no change."""
    assert run_gcwm(["provision", CHANNEL], gcwm_env).code == 0
    result = run_gcwm(["plan", CHANNEL, "--output", "json"], gcwm_env)
    assert result.code == 0, result.stderr
    assert [(c["channel"], c["action"], c["fields"]) for c in result.json()["changes"]] == [
        ("support-web", "no-op", [])
    ]


def test_a_domain_added_in_the_admin_ui_shows_as_an_update_of_that_field(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """An edit made behind gcwm's back is drift: the plan names the field, the org's value and the spec's."""
    provisioned = run_gcwm(["provision", CHANNEL, "--output", "json"], gcwm_env)
    deployment_id = provisioned.json()["channels"][0]["deployment"]["id"]
    _add_domain_by_hand(emulator, deployment_id, "evil.example.net")

    result = run_gcwm(["plan", CHANNEL, "--output", "json"], gcwm_env)
    assert result.code == 2, result.stderr
    (change,) = result.json()["changes"]
    assert change["action"] == "update"
    assert change["fields"] == [
        {
            "path": "allowedDomains",
            "apiPath": "deployment.allowedDomains",
            "old": ["example.com", "www.example.com", "evil.example.net"],
            "new": ["example.com", "www.example.com"],
            "added": [],
            "removed": ["evil.example.net"],
            "consequence": False,
        }
    ]
    text = run_gcwm(["plan", CHANNEL], gcwm_env)
    assert text.code == 2
    assert text.stdout.startswith("Plan: 0 to create, 1 to update, 0 to replace, 0 unchanged.")
    assert "~ update support-web\n    ~ allowedDomains:\n        - evil.example.net\n" in text.stdout


def test_a_spec_error_is_exit_1_as_terraform_says_and_reads_nothing_from_the_org(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The spec is checked before gcwm talks to Genesys at all; every error stopping a plan is 1, and
    the JSON's `error` says which."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  - name: web\n    routingQueue: Support\n")
    result = run_gcwm(["plan", str(bad), "--output", "json"], gcwm_env)
    assert result.code == 1
    assert result.json()["error"] == "SpecError"
    assert f"{bad}:2: channel 'web': inboundMessageFlow: required key is missing" in result.stderr
    assert emulator.stats()["requests"] == 0 and emulator.stats()["logins"] == 0


def test_a_missing_queue_is_an_error_with_exit_1(gcwm_env: dict[str, str], tmp_path: Path) -> None:
    """A plan that cannot be carried out says why, per channel, and exits 1."""
    spec = tmp_path / "q.yaml"
    spec.write_text(
        "channels:\n  - name: web\n    routingQueue: Nowhere\n"
        "    inboundMessageFlow: Support Messaging Flow\n    allowedDomains: [example.com]\n"
    )
    result = run_gcwm(["plan", str(spec), "--output", "json"], gcwm_env)
    assert result.code == 1
    (change,) = result.json()["changes"]
    assert change["error"]["field"] == "routingQueue"
    assert "routing queue 'Nowhere' not found" in change["error"]["message"]


def _add_domain_by_hand(emulator: RunningEmulator, deployment_id: str, domain: str) -> None:
    """What a person does in the Genesys admin UI: read the deployment, add a domain, save it whole."""
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        headers = emulator._auth(http)
        path = f"/api/v2/webdeployments/deployments/{deployment_id}"
        deployment = http.get(path, headers=headers).json()
        deployment["allowedDomains"].append(domain)
        http.put(path, json=deployment, headers=headers).raise_for_status()
