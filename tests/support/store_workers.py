"""Functions the store's concurrency tests run in separate processes (spawned, so importable by name)."""

from __future__ import annotations

import time
import traceback
from typing import Any

from gcwm.store import Store, connect


def claim_until_empty(url: str, worker_id: str, start: Any, results: Any) -> None:
    """Claim and finish jobs until none is left; put (worker_id, claimed ids) or (worker_id, error)."""
    try:
        engine = connect(url)
        try:
            store = Store(engine)
            claimed: list[str] = []
            start.wait(timeout=60)
            first = True
            while True:
                with store.unit_of_work() as tx:
                    job = tx.jobs.claim_next(worker_id, 60)
                if first:
                    # Every process holds its first claim before any takes a second (the barrier is
                    # cyclic): the claims overlap, and no process can drain the table alone.
                    start.wait(timeout=60)
                    first = False
                if job is None:
                    break
                claimed.append(job.id)
                # Stand-in for the job's work outside any transaction: without it one SQLite process
                # takes the write lock back before the others wake from their busy wait, and no claims
                # interleave.
                time.sleep(0.002)
                with store.unit_of_work() as tx:
                    tx.jobs.finish(job.id, worker_id, status="succeeded", result={"worker": worker_id})
        finally:
            engine.dispose()
        results.put((worker_id, claimed))
    except BaseException:
        results.put((worker_id, traceback.format_exc()))


def connect_at_once(url: str, worker_id: str, start: Any, results: Any) -> None:
    """Wait for the others, then connect (which migrates); put (worker_id, "ok") or (worker_id, error)."""
    try:
        start.wait(timeout=60)
        connect(url).dispose()
        results.put((worker_id, "ok"))
    except BaseException:
        results.put((worker_id, traceback.format_exc()))


def claim_once(url: str, worker_id: str, lease_s: float) -> None:
    """Claim one job and print its id, or "none" (run as a script under a skewed clock)."""
    engine = connect(url)
    try:
        with Store(engine).unit_of_work() as tx:
            job = tx.jobs.claim_next(worker_id, lease_s)
        print(job.id if job is not None else "none")
    finally:
        engine.dispose()
