"""Ten runs race for three free slots: the limit holds under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import gcwm_command
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until

RUNS = 10
FREE = 3


def test_ten_runs_for_three_free_slots_make_exactly_three_channels(
    gcwm_env: dict[str, str], emulator: RunningEmulator, any_database_url: str, tmp_path: Path
) -> None:
    """Each run reserves its slot in the transaction that queues its job: three get one, seven are
    refused naming the limit, and nothing is left half-made (no configuration without a deployment)."""
    emulator._admin("PUT", "limits", {"web.deployments.deployments.max": FREE})
    # Every run reads the org's limits before it reserves: each read is held until all ten are
    # waiting there, so all ten have seen three free slots before any reserves one.
    limits_read = "/api/v2/organizations/limits/namespaces/.+"
    emulator.add_fault("GET", limits_read, "latency", count=RUNS, latency_ms=170_000)
    env = {**gcwm_env, "GCWM_DATABASE_URL": any_database_url, "GCWM_GENESYS_TIMEOUT_SECONDS": "175"}
    specs = []
    for n in range(RUNS):
        spec = tmp_path / f"web-{n}.yaml"
        spec.write_text(
            f"channels:\n  - {{name: web-{n}, routingQueue: Support,"
            f" inboundMessageFlow: Support Messaging Flow, allowedDomains: [shop{n}.example.com]}}\n"
        )
        specs.append(spec)
    runs = [
        subprocess.Popen(
            [*gcwm_command(), "provision", str(spec), "--output", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    try:
        wait_until(lambda: emulator.delayed_requests() == RUNS, timeout_s=120, what="ten runs reading limits")
    except AssertionError:
        for run in runs:
            run.kill()
            run.communicate()
        raise
    finally:
        released = emulator.release_held()
    results = [(run.wait(timeout=180), *run.communicate()) for run in runs]
    assert released == RUNS  # the runs overlapped: all ten were past their reads and before reserving

    created = [json.loads(out) for code, out, _ in results if code == 0]
    refused = [json.loads(out) for code, out, _ in results if code == 3]
    assert len(created) == FREE and len(refused) == RUNS - FREE, [err[-400:] for _, _, err in results]
    for document in refused:
        (channel,) = document["channels"]
        assert channel["outcome"] == "refused"
        # Refused by the plan's check (the org already held three) or, having raced past it, by the
        # reservation: that refusal carries its finding at the document's level.
        findings = channel["findings"] + document.get("refusal", {}).get("findings", [])
        (finding,) = [f for f in findings if f["check"] == "limit_exceeded"]
        assert finding["location"] == "web.deployments.deployments.max"
        assert f"is {FREE}" in finding["description"]
    assert len(emulator.deployments()) == FREE
    assert len(emulator.configurations()) == FREE
    assert emulator.stats()["byStatus"].get("400", 0) == 0  # gcwm refused; Genesys never had to
