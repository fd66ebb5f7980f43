"""A running `gcwm serve` leaves the jobs a CLI queued to that CLI while it lives (issue 24, item 9): the
CLI works them in its own environment (its secrets, its --concurrency); the service takes a job over
only once the CLI's lease on it has run out."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import EXAMPLES, gcwm_command
from tests.support.service import RunningService


@pytest.mark.parametrize("service", ["sqlite", "postgresql"], indirect=True)
def test_a_cli_provision_beside_a_running_service_works_every_job_itself(service: RunningService) -> None:
    """The CLI works one job at a time (its --concurrency); the idle service must not take the 19
    waiting (it did: its worker processes took most of them, in their own environment)."""
    env = {**service.env, "GCWM_CONCURRENCY": "1"}
    cli = subprocess.Popen(
        [*gcwm_command(), "provision", str(EXAMPLES / "bulk.yaml"), "--output", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = cli.communicate(timeout=180)
    assert cli.returncode == 0, err
    channels = json.loads(out)["channels"]
    assert len(channels) == 20
    with service.client("viewer") as http:
        workers = {c["name"]: http.get(f"/v1/jobs/{c['jobId']}").json()["result"]["worker"] for c in channels}
    elsewhere = {name: w for name, w in workers.items() if f":{cli.pid}:" not in w}
    assert elsewhere == {}, f"another process worked the CLI's jobs: {elsewhere}"
