"""Jobs survive kill -9 and share work between processes without running anything twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gcwm.provisioning import enqueue_channels
from gcwm.spec import parse_spec
from gcwm.store import Store, connect
from tests.conftest import EXAMPLES, gcwm_command
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until


def _org_id(emulator: RunningEmulator) -> str:
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        return str(http.get("/api/v2/tokens/me", headers=emulator._auth(http)).json()["organization"]["id"])


def _steps_recorded(store: Store) -> int:
    return sum(len(store.job_steps(job.id)) for job in store.list_jobs(limit=100))


def _provision_and_kill(
    spec: Path, env: dict[str, str], *, when: Callable[[], bool], timeout_s: float
) -> None:
    """Run `gcwm provision spec`, and SIGKILL it once `when()` holds."""
    worker = subprocess.Popen(
        [*gcwm_command(), "provision", str(spec)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: when() or worker.poll() is not None, timeout_s=timeout_s, what="the moment to kill"
        )
        assert worker.poll() is None, "the run finished before it could be killed"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()


def test_kill_9_mid_run_then_resume_completes_every_channel_once(
    gcwm_env: dict[str, str], emulator: RunningEmulator, any_database_url: str
) -> None:
    """A worker killed with SIGKILL mid-run; the next gcwm resumes each job from its checkpoint."""
    env = {**gcwm_env, "GCWM_DATABASE_URL": any_database_url, "GCWM_CONCURRENCY": "4"}
    emulator.set_faults(latency_ms=40)  # slow enough to be caught in the middle
    store = Store(connect(any_database_url))
    try:
        _provision_and_kill(
            EXAMPLES / "bulk.yaml", env, when=lambda: _steps_recorded(store) >= 30, timeout_s=60
        )
        unfinished = store.unfinished_jobs()
        assert unfinished, "nothing was left unfinished"

        emulator.set_faults(latency_ms=0)
        resumed = run_gcwm(["jobs", "resume", "--output", "json"], env)
        assert resumed.code == 0, resumed.stderr
        jobs = store.list_jobs(limit=100)
        assert len(jobs) == 20 and {j.status for j in jobs} == {"succeeded"}
        assert any(j.attempts == 2 for j in jobs)  # taken over from the dead worker
    finally:
        store.engine.dispose()
    names = Counter(d["name"] for d in emulator.deployments())
    assert len(names) == 20 and set(names.values()) == {1}
    assert len(emulator.configurations()) == 20


def test_two_processes_share_fifty_jobs_on_postgresql_without_running_any_twice(
    gcwm_env: dict[str, str], emulator: RunningEmulator, postgres_url: str
) -> None:
    """Two gcwm workers on one PostgreSQL job table: 50 jobs, each claimed once, both busy."""
    specs = parse_spec(
        "channels:\n"
        + "".join(
            f"  - {{name: web-{i:02d}, routingQueue: Support, inboundMessageFlow: Support Messaging Flow,"
            f" allowedDomains: [shop{i}.example.com]}}\n"
            for i in range(50)
        )
    )
    store = Store(connect(postgres_url))
    try:
        job_ids = enqueue_channels(store, _org_id(emulator), specs)
        env = {**gcwm_env, "GCWM_DATABASE_URL": postgres_url, "GCWM_CONCURRENCY": "4"}

        async def both() -> list[tuple[bytes, bytes, int]]:
            procs = [
                await asyncio.create_subprocess_exec(
                    *gcwm_command(),
                    "jobs",
                    "resume",
                    "--output",
                    "json",
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                for _ in range(2)
            ]
            outs = [await p.communicate() for p in procs]
            return [(o, e, p.returncode or 0) for (o, e), p in zip(outs, procs, strict=True)]

        for out, err, code in asyncio.run(both()):
            assert code == 0, err.decode() + out.decode()[-3000:]
        jobs = [store.get_job(j) for j in job_ids]
    finally:
        store.engine.dispose()
    assert {j.status for j in jobs} == {"succeeded"}
    assert {j.attempts for j in jobs} == {1}, "a job was claimed twice"
    workers = Counter(j.result["worker"] for j in jobs if j.result)
    assert len(workers) == 2, workers
    names = Counter(d["name"] for d in emulator.deployments())
    assert len(names) == 50 and set(names.values()) == {1}


def test_cancelled_job_can_be_resumed(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A queued job that is cancelled does nothing; `jobs resume ID` runs it again to the end."""
    url = f"sqlite:///{tmp_path}/cancel.db"
    store = Store(connect(url))
    try:
        (job_id,) = enqueue_channels(
            store,
            _org_id(emulator),
            parse_spec(
                "channels:\n  - {name: web, routingQueue: Support,"
                " inboundMessageFlow: Support Messaging Flow,"
                " allowedDomains: [example.com]}\n"
            ),
        )
        env = {**gcwm_env, "GCWM_DATABASE_URL": url}
        assert run_gcwm(["jobs", "cancel", job_id[:10]], env).code == 0
        assert store.get_job(job_id).status == "cancelled"
        assert run_gcwm(["jobs", "resume", "--output", "json"], env).json()["channels"] == []
        assert emulator.deployments() == []
        resumed = run_gcwm(["jobs", "resume", job_id, "--output", "json"], env)
        assert resumed.code == 0, resumed.stderr
        assert resumed.json()["channels"][0]["deployment"]["status"] == "Active"
    finally:
        store.engine.dispose()


CREATES_IN_FLIGHT = {
    "configuration": "POST /api/v2/webdeployments/configurations",
    "publish": "POST /api/v2/webdeployments/configurations/{configurationId}/versions/draft/publish",
    "deployment": "POST /api/v2/webdeployments/deployments",
}


@pytest.mark.parametrize("create", sorted(CREATES_IN_FLIGHT))
def test_worker_killed_after_a_create_was_made_but_before_its_answer_adopts_it(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path, create: str
) -> None:
    """SIGKILL while Genesys has made the object and its answer is still on the way: the resumed job
    finds the object by its marker and carries on. The create was sent once, and the result says so."""
    url = f"sqlite:///{tmp_path}/inflight.db"
    env = {**gcwm_env, "GCWM_DATABASE_URL": url}
    operation = CREATES_IN_FLIGHT[create]
    method, path = operation.split(" ", 1)
    emulator.add_fault(
        method, path.replace("{configurationId}", "[^/]+"), "commit_then_delay", latency_ms=120_000
    )
    _provision_and_kill(
        EXAMPLES / "channel.yaml", env, when=lambda: emulator.held_answers() == 1, timeout_s=30
    )
    resumed = run_gcwm(["jobs", "resume", "--output", "json"], env)

    assert resumed.code == 0, resumed.stderr
    (channel,) = resumed.json()["channels"]
    assert emulator.calls(operation) == 1
    assert any("the answer to the request was lost" in note for note in channel["notes"]), channel["notes"]
    assert channel["deployment"]["status"] == "Active"
    assert channel["configuration"]["version"] == "1"
    assert len(emulator.configurations()) == 1 and len(emulator.deployments()) == 1
