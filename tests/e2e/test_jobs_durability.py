"""Jobs survive kill -9 and share work between processes without running anything twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
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


def _org_id(emulator: RunningEmulator) -> str:
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        return str(http.get("/api/v2/tokens/me", headers=emulator._auth(http)).json()["organization"]["id"])


def _steps_recorded(store: Store) -> int:
    return sum(len(store.job_steps(job.id)) for job in store.list_jobs(limit=100))


def _provision_and_kill(
    spec: Path, env: dict[str, str], *, when: Callable[[], bool], timeout_s: float, pause_s: float = 0.0
) -> None:
    """Run `gcwm provision spec`, and SIGKILL it once `when()` holds (and `pause_s` has passed)."""
    worker = subprocess.Popen(
        [*gcwm_command(), "provision", str(spec)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    while not when() and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.02)
    time.sleep(pause_s)
    assert worker.poll() is None, "the run finished before it could be killed"
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

        for _out, err, code in asyncio.run(both()):
            assert code == 0, err.decode()
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
    "configuration_create_sent": r"/api/v2/webdeployments/configurations",
    "configuration_publish_sent": r"/api/v2/webdeployments/configurations/[^/]+/versions/draft/publish",
    "deployment_create_sent": r"/api/v2/webdeployments/deployments",
}


@pytest.mark.parametrize("intent", sorted(CREATES_IN_FLIGHT))
def test_worker_killed_while_a_create_is_in_flight_adopts_it_on_resume(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path, intent: str
) -> None:
    """SIGKILL while Genesys is still carrying out a create: the resumed job finds it, makes no twin."""
    url = f"sqlite:///{tmp_path}/inflight.db"
    env = {**gcwm_env, "GCWM_DATABASE_URL": url}
    emulator.add_fault("POST", CREATES_IN_FLIGHT[intent], "latency", latency_ms=1500)
    store = Store(connect(url))
    try:
        _provision_and_kill(
            EXAMPLES / "channel.yaml",
            env,
            when=lambda: any(s.step == intent for j in store.list_jobs() for s in store.job_steps(j.id)),
            timeout_s=30,
            pause_s=0.3,  # the request is on its way and Genesys is working on it
        )
        time.sleep(1.5)  # Genesys finishes the write although nobody waits for the answer
        resumed = run_gcwm(["jobs", "resume", "--output", "json"], env)
        assert resumed.code == 0, resumed.stderr
        (channel,) = resumed.json()["channels"]
    finally:
        store.engine.dispose()
    assert channel["deployment"]["status"] == "Active"
    assert channel["configuration"]["version"] == "1"  # the lost publish was adopted, not repeated
    assert len(emulator.configurations()) == 1 and len(emulator.deployments()) == 1
