"""`gcwm destroy NAME...`: removes a channel's deployment, then its configuration, as a durable job."""

from __future__ import annotations

import subprocess

import httpx
import sqlalchemy as sa

from tests.conftest import EXAMPLES, gcwm_command
from tests.e2e.conftest import Result, run_gcwm
from tests.support.emulator import RunningEmulator

CHANNEL = str(EXAMPLES / "channel.yaml")


def _status_of(emulator: RunningEmulator, path: str) -> int:
    """The status the emulator's public API answers for a GET of `path`, with a token of its own."""
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(emulator.config.client_id, emulator.config.client_secret),
        ).json()["access_token"]
        return http.get(path, headers={"Authorization": f"Bearer {token}"}).status_code


def _jobs(env: dict[str, str]) -> list[dict[str, object]]:
    listed = run_gcwm(["jobs", "list", "--output", "json"], env)
    assert listed.code == 0, listed.stderr
    jobs: list[dict[str, object]] = listed.json()["jobs"]
    return jobs


def test_destroy_removes_the_deployment_then_the_configuration_and_forgets_the_channel(
    gcwm_env: dict[str, str], emulator: RunningEmulator, any_database_url: str
) -> None:
    """Both objects answer 404 once destroy returns; plan sees a channel to create; audit says destroyed."""
    env = {**gcwm_env, "GCWM_DATABASE_URL": any_database_url}
    provisioned = run_gcwm(["provision", CHANNEL, "--output", "json"], env)
    assert provisioned.code == 0, provisioned.stderr
    (made,) = provisioned.json()["channels"]
    deployment, configuration = made["deployment"]["id"], made["configuration"]["id"]

    result = run_gcwm(["destroy", "support-web", "--auto-approve", "--output", "json"], env)

    assert result.code == 0, result.stderr
    (channel,) = result.json()["channels"]
    assert (channel["name"], channel["outcome"]) == ("support-web", "destroyed")
    profile = made["supportedContent"]["id"]  # examples/channel.yaml takes attachments
    assert channel["removed"] == {
        "deployments": [deployment],
        "configurations": [configuration],
        "supportedContent": [profile],
    }
    # The job waited for the 404s: nothing is left, not even an object still Deleting.
    assert _status_of(emulator, f"/api/v2/webdeployments/deployments/{deployment}") == 404
    assert (
        _status_of(emulator, f"/api/v2/webdeployments/configurations/{configuration}/versions/draft") == 404
    )
    assert emulator.deployments() == [] and emulator.configurations() == []
    # DELETE of the deployment came before DELETE of the configuration (it would be in use otherwise).
    assert emulator.calls("DELETE /api/v2/webdeployments/deployments/{deploymentId}") == 1
    assert emulator.calls("DELETE /api/v2/webdeployments/configurations/{configurationId}") == 1

    plan = run_gcwm(["plan", CHANNEL, "--output", "json"], env)
    assert plan.code == 2, plan.stderr
    (change,) = plan.json()["changes"]
    assert change["action"] == "create" and not change.get("notes"), change
    engine = sa.create_engine(any_database_url, poolclass=sa.NullPool)
    with engine.connect() as db:
        status = db.execute(sa.text("select status from channels where name = 'support-web'")).scalar_one()
    engine.dispose()
    assert status == "removed"
    actions = [e["action"] for e in run_gcwm(["audit", "show", "--output", "json"], env).json()["entries"]]
    assert actions[-1] == "channel.destroyed"
    kinds = sorted((j["channel"], j["status"]) for j in _jobs(env))
    assert kinds == [("support-web", "succeeded"), ("support-web", "succeeded")]


def test_destroy_of_an_unknown_channel_exits_1_and_queues_nothing(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """The name is checked before anything is queued; the message names the channel."""
    assert run_gcwm(["provision", CHANNEL], gcwm_env).code == 0
    before = _jobs(gcwm_env)

    result = run_gcwm(
        ["destroy", "no-such-channel", "support-web", "--auto-approve", "--output", "json"], gcwm_env
    )

    assert result.code == 1
    assert result.json()["error"] == "ChannelNotFound" and "'no-such-channel'" in result.json()["message"]
    assert _jobs(gcwm_env) == before
    assert len(emulator.deployments()) == 1 and len(emulator.configurations()) == 1


def test_destroy_without_auto_approve_and_no_terminal_refuses(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """No terminal to ask on and no --auto-approve: it shows what would go, refuses, exits 1."""
    assert run_gcwm(["provision", CHANNEL], gcwm_env).code == 0
    (deployment,) = emulator.deployments()
    done = subprocess.run(
        [*gcwm_command(), "destroy", "support-web"],
        env=gcwm_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = Result(done.returncode, done.stdout, done.stderr)

    assert result.code == 1
    assert deployment["id"] in result.stderr and "--auto-approve" in result.stderr
    assert result.stdout == ""
    assert [j["channel"] for j in _jobs(gcwm_env)] == ["support-web"]  # the provision job alone
    assert [d["id"] for d in emulator.deployments()] == [deployment["id"]]
