"""Ten runs race for three free slots: the limit holds under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import gcwm_command
from tests.support.emulator import RunningEmulator

RUNS = 10
FREE = 3


def test_ten_runs_for_three_free_slots_make_exactly_three_channels(
    gcwm_env: dict[str, str], emulator: RunningEmulator, any_database_url: str, tmp_path: Path
) -> None:
    """Each run reserves its slot in the transaction that queues its job: three get one, seven are
    refused naming the limit, and nothing is left half-made (no configuration without a deployment)."""
    emulator._admin("PUT", "limits", {"web.deployments.deployments.max": FREE})
    env = {**gcwm_env, "GCWM_DATABASE_URL": any_database_url}
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
    results = [(run.wait(timeout=180), *run.communicate()) for run in runs]

    created = [json.loads(out) for code, out, _ in results if code == 0]
    refused = [json.loads(out) for code, out, _ in results if code == 3]
    assert len(created) == FREE and len(refused) == RUNS - FREE, [err[-400:] for _, _, err in results]
    for document in refused:
        (channel,) = document["channels"]
        assert channel["outcome"] == "refused"
        (finding,) = [f for f in channel["findings"] if f["check"] == "limit_exceeded"]
        assert finding["location"] == "web.deployments.deployments.max"
        assert f"is {FREE}" in finding["description"]
    assert len(emulator.deployments()) == FREE
    assert len(emulator.configurations()) == FREE
    assert emulator.stats()["byStatus"].get("400", 0) == 0  # gcwm refused; Genesys never had to
