"""A worker frozen past its lease (a VM pause, SIGSTOP) with a create in flight (issue 22, item 3): the
worker that takes its job over must not send that create again while the frozen one's may still be
carried out. Real `gcwm` processes, a real database, the emulator holding the create."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gcwm.store import Job, Store, connect
from tests.conftest import gcwm_command
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until

DEPLOYMENTS = "/api/v2/webdeployments/deployments"


def _spec(path: Path) -> Path:
    path.write_text(
        "channels:\n  - name: frozen-web\n    routingQueue: Support\n"
        "    inboundMessageFlow: Support Messaging Flow\n    allowedDomains: [example.com]\n"
    )
    return path


def test_a_takeover_waits_for_a_frozen_workers_create_and_adopts_it_instead_of_sending_it_twice(
    gcwm_env: dict[str, str], emulator: RunningEmulator, any_database_url: str, tmp_path: Path
) -> None:
    """Worker A sends the deployment create; the emulator holds the request (not carried out yet) and A
    is frozen. A's lease runs out; worker B takes the job over and looks: nothing there yet. Then A's
    request is carried out. B waits until A's request must have ended (A's timeout) before sending
    its own: it finds the deployment and adopts it. One POST, one deployment."""
    env = {
        **gcwm_env,
        "GCWM_DATABASE_URL": any_database_url,
        "GCWM_LEASE_SECONDS": "2",
        # A's request must still be held when B's wait for it ends: the test releases it within this
        # (a lease of 2 s, B's start and two lookups take seconds on a busy machine).
        "GCWM_GENESYS_TIMEOUT_SECONDS": "20",
    }
    emulator.add_fault("POST", f"{DEPLOYMENTS}$", "latency", latency_ms=120_000)
    store = Store(connect(any_database_url))
    frozen = _start_worker(env, tmp_path)
    taker: subprocess.Popen[str] | None = None
    try:
        _freeze_past_lease(
            frozen, store, lambda: emulator.delayed_requests() == 1, what="A's deployment create"
        )
        looked = emulator.calls(f"GET {DEPLOYMENTS}")
        taker = subprocess.Popen(
            [*gcwm_command(), "jobs", "resume", "-o", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # B has taken the job over and looked for what A's create made: nothing yet.
        wait_until(
            lambda: emulator.calls(f"GET {DEPLOYMENTS}") >= looked + 2, timeout_s=30, what="B's lookups"
        )
        assert emulator.calls(f"POST {DEPLOYMENTS}") == 1 and emulator.deployments() == []
        emulator.release_held()  # A's create is carried out now, while A is still frozen
        out, err = taker.communicate(timeout=90)
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
        frozen.wait(timeout=60)
        if taker is not None and taker.poll() is None:
            taker.kill()
        store.engine.dispose()
    assert taker.returncode == 0, err
    (channel,) = json.loads(out)["channels"]
    assert channel["outcome"] == "created", channel
    assert any("answer to the request was lost" in n for n in channel["notes"]), channel["notes"]
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 1
    assert [d["id"] for d in emulator.deployments()] == [channel["deployment"]["id"]]


def _start_worker(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    """Worker A: `gcwm provision` of the spec in a process of its own."""
    return subprocess.Popen(
        [*gcwm_command(), "provision", str(_spec(tmp_path / "spec.yaml")), "-o", "json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _freeze_past_lease(
    worker: subprocess.Popen[bytes], store: Store, moment: Callable[[], bool], *, what: str
) -> Job:
    """Once `moment` has come, SIGSTOP the worker and wait until its job's lease has run out."""
    wait_until(moment, timeout_s=60, what=what)
    os.kill(worker.pid, signal.SIGSTOP)
    (job,) = store.list_jobs(limit=5)
    wait_until(
        lambda: _lease_expired(store, job.id), timeout_s=30, what="the frozen worker's lease to run out"
    )
    return job


def _lease_expired(store: Store, job_id: str) -> bool:
    job = store.get_job(job_id)
    return job.lease_expires_at is not None and job.lease_expires_at < datetime.now(UTC)


def test_a_worker_frozen_while_it_waits_out_a_429_on_its_create_sends_nothing_once_thawed(
    gcwm_env: dict[str, str], emulator: RunningEmulator, any_database_url: str, tmp_path: Path
) -> None:
    """Worker A's deployment create gets a 429 (not carried out: Genesys says try again in 6 s), and A
    is frozen while it waits. A's lease runs out; worker B takes the job over, waits out what A may
    have in flight, finds nothing and creates the deployment. When A is thawed its wait is over: it
    must not send the create again (found by the model-based search: a send that went out after its
    job was taken over, with a stamp older than the takeover's wait). Two POSTs, one deployment."""
    env = {
        **gcwm_env,
        "GCWM_DATABASE_URL": any_database_url,
        "GCWM_LEASE_SECONDS": "2",
        "GCWM_GENESYS_TIMEOUT_SECONDS": "3",
    }
    emulator.add_fault("POST", f"{DEPLOYMENTS}$", "http429", retry_after_s=6)
    store = Store(connect(any_database_url))
    frozen = _start_worker(env, tmp_path)
    try:
        job = _freeze_past_lease(
            frozen, store, lambda: emulator.calls(f"POST {DEPLOYMENTS}") == 1, what="A's 429"
        )
        taker = subprocess.run(
            [*gcwm_command(), "jobs", "resume", "-o", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert taker.returncode == 0, taker.stderr
        (channel,) = json.loads(taker.stdout)["channels"]
        assert channel["outcome"] == "created", channel
        assert emulator.calls(f"POST {DEPLOYMENTS}") == 2
        wait_until(lambda: store.get_job(job.id).status == "succeeded", what="B's end of the job")
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
        frozen.wait(timeout=60)
        store.engine.dispose()
    # A, thawed, is past its 429's wait: whatever it does next, it sends no create.
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 2
    assert [d["id"] for d in emulator.deployments()] == [channel["deployment"]["id"]]
