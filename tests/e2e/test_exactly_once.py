"""Every channel exactly once: regressions for three ways a channel was doubled or left unrecoverable.

Each test runs the real `gcwm` command against the emulator, as a user does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from gcwm.store import Store, connect
from tests.conftest import EXAMPLES, gcwm_command
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until

DEPLOYMENTS = "/api/v2/webdeployments/deployments"


def _spec(path: Path, name: str, domains: str = "[example.com]") -> Path:
    path.write_text(
        f"channels:\n  - name: {name}\n    routingQueue: Support\n"
        f"    inboundMessageFlow: Support Messaging Flow\n    allowedDomains: {domains}\n"
    )
    return path


def test_names_differing_only_by_space_and_underscore_are_two_channels(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """`web one` then `web_one`: the second gets objects of its own and leaves the first alone."""
    first = run_gcwm(["provision", str(_spec(tmp_path / "a.yaml", "web one")), "-o", "json"], gcwm_env)
    second = run_gcwm(["provision", str(_spec(tmp_path / "b.yaml", "web_one")), "-o", "json"], gcwm_env)

    assert first.code == 0 and second.code == 0, second.stderr
    (made,) = second.json()["channels"]
    assert made["outcome"] == "created", made["notes"]
    by_id = {d["id"]: d["name"] for d in emulator.deployments()}
    assert by_id == {
        first.json()["channels"][0]["deployment"]["id"]: "web one",
        made["deployment"]["id"]: "web_one",
    }
    assert len(emulator.configurations()) == 2


def test_names_differing_only_by_case_are_one_channel(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Genesys compares names case-insensitively, and so does gcwm: `Web One` renames `web one`."""
    first = run_gcwm(["provision", str(_spec(tmp_path / "a.yaml", "web one")), "-o", "json"], gcwm_env)
    again = run_gcwm(["provision", str(_spec(tmp_path / "b.yaml", "Web One")), "-o", "json"], gcwm_env)

    assert again.code == 0, again.stderr
    (channel,) = again.json()["channels"]
    assert channel["outcome"] == "updated"
    assert channel["deployment"]["id"] == first.json()["channels"][0]["deployment"]["id"]
    assert [d["name"] for d in emulator.deployments()] == ["Web One"]


def test_rolled_back_job_can_be_resumed_to_success(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """A refused deployment rolls the configuration back; `jobs resume` then makes the channel anew."""
    emulator.add_fault("POST", DEPLOYMENTS, "http400")
    gcwm_env = {**gcwm_env, "GCWM_TRANSIENT_400_SECONDS": "0"}  # the injected 400 is a refusal
    failed = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "-o", "json"], gcwm_env)
    assert failed.code == 3
    (channel,) = failed.json()["channels"]
    assert "rolled back: removed configuration" in channel["error"]["message"]
    assert emulator.configurations() == [] and emulator.deployments() == []

    resumed = run_gcwm(["jobs", "resume", channel["jobId"], "-o", "json"], gcwm_env)

    assert resumed.code == 0, resumed.stdout + resumed.stderr
    (done,) = resumed.json()["channels"]
    assert done["deployment"]["status"] == "Active"
    assert [d["id"] for d in emulator.deployments()] == [done["deployment"]["id"]]
    assert len(emulator.configurations()) == 1


def test_a_newer_spec_waits_for_the_job_whose_create_is_in_flight(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Two runs for one channel: the second does not start its own create while the first one's is in
    flight (sent, not yet carried out); it waits, then updates what the first made. One
    configuration, one deployment, one POST."""
    # A short lease: the running job hears of the cancel at its next renewal (a third of the lease).
    # The second run waits out the first's create (its request timeout, here 10 s) before it plans.
    env = {
        **gcwm_env,
        "GCWM_DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
        "GCWM_LEASE_SECONDS": "3",
        "GCWM_GENESYS_TIMEOUT_SECONDS": "10",
    }
    emulator.add_fault("POST", DEPLOYMENTS, "latency", latency_ms=120_000)
    older = subprocess.Popen(
        [*gcwm_command(), "provision", str(_spec(tmp_path / "v1.yaml", "web")), "-o", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: emulator.delayed_requests() == 1, what="the first run's deployment create")
        newer_spec = _spec(tmp_path / "v2.yaml", "web", "[shop.example.com]")
        newer = subprocess.Popen(
            [*gcwm_command(), "provision", str(newer_spec), "-o", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        store = Store(connect(env["GCWM_DATABASE_URL"]))
        try:
            wait_until(lambda: len(store.list_jobs()) == 2, what="the second run to queue its job")
        finally:
            store.engine.dispose()
        emulator.release_held()
        newer_out, newer_err = newer.communicate(timeout=60)
    finally:
        if older.poll() is None:
            older.kill()
        older.communicate(timeout=60)

    assert newer.returncode == 0, newer_err
    (channel,) = json.loads(newer_out)["channels"]
    assert channel["deployment"]["status"] == "Active"
    (deployment,) = emulator.deployments()
    assert deployment["allowedDomains"] == ["shop.example.com"]
    assert len(emulator.configurations()) == 1
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 1
