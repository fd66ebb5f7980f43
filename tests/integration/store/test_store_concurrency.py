"""Several gcwm processes on one database: each job is claimed once, and migration runs once."""

from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext

from gcwm.store import Store, connect, head_revision
from tests.support import store_workers

PROCESSES = 4
JOBS = 50
DEADLINE_S = 60


def _run_processes(target: Callable[..., None], url: str) -> dict[str, Any]:
    """Start PROCESSES spawned processes on `target`, released together; return what each reported."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(url, f"worker-{n}", start, results)) for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports: dict[str, Any] = {}
    try:
        for _ in processes:
            worker_id, report = results.get(timeout=DEADLINE_S)
            reports[worker_id] = report
    except queue.Empty:
        raise AssertionError(f"only {sorted(reports)} reported within {DEADLINE_S} s") from None
    finally:
        for process in processes:
            process.join(timeout=DEADLINE_S)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    failures = {
        worker: report for worker, report in reports.items() if isinstance(report, str) and report != "ok"
    }
    assert not failures, "\n".join(f"{worker}:\n{report}" for worker, report in failures.items())
    return reports


def test_processes_claiming_at_once_claim_each_job_exactly_once(database_url: str) -> None:
    """4 processes drain 50 queued jobs; every job is claimed by exactly one of them, once."""
    engine = connect(database_url)
    try:
        store = Store(engine)
        with store.unit_of_work() as tx:
            enqueued = {
                tx.jobs.enqueue(
                    batch_id="batch-1",
                    org_id="org-1",
                    channel_name=f"channel-{n:02d}",
                    channel_key=f"channel-{n:02d}",
                    kind="provision",
                    spec={"n": n},
                    actor="test",
                    correlation_id=f"corr-{n}",
                ).id
                for n in range(JOBS)
            }

        reports = _run_processes(store_workers.claim_until_empty, database_url)

        claims = Counter(job_id for claimed in reports.values() for job_id in claimed)
        spread = {worker: len(claimed) for worker, claimed in reports.items()}
        assert set(claims) == enqueued, f"claimed per worker: {spread}"
        assert set(claims.values()) == {1}, f"claimed twice: {[j for j, n in claims.items() if n > 1]}"
        # The race happened: every process got work while the others were claiming.
        assert len(spread) == PROCESSES and min(spread.values()) >= 1, f"claimed per worker: {spread}"
        claimed_by = {job_id: worker for worker, claimed in reports.items() for job_id in claimed}
        jobs = store.list_jobs(limit=JOBS)
        assert {(job.status, job.attempts) for job in jobs} == {("succeeded", 1)}
        assert {job.id: (job.result or {}).get("worker") for job in jobs} == claimed_by
        print(f"claimed per worker: {spread}")
    finally:
        engine.dispose()


def test_processes_connecting_at_once_migrate_the_database_once(database_url: str) -> None:
    """4 processes run connect() on an empty database together; all succeed and one version row remains."""
    _run_processes(store_workers.connect_at_once, database_url)

    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
            assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
        assert {"channels", "jobs", "job_steps"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
