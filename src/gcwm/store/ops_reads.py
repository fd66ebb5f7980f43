"""Reads for operating gcwm: stored step, job and Genesys call timings (latency reports) and the
counts `/metrics` exposes (jobs and outbox messages by status, audit chain length).

Plain functions over the store's engine, each one short read-only transaction, so a scrape or a
report never waits for a writer and holds no lock a worker needs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from gcwm.store.models import JOB_STATUSES
from gcwm.store.outbox import OUTBOX_STATUSES
from gcwm.store.store import Store
from gcwm.store.tables import audit_entries, genesys_calls, job_steps, jobs, outbox


@dataclass(frozen=True)
class Timings:
    """Stored durations in milliseconds: (step, ms) per finished step, (kind, ms) per finished job."""

    steps: list[tuple[str, float]]
    jobs: list[tuple[str, float]]


def timings(
    store: Store, *, since: datetime | None = None, job_ids: Collection[str] | None = None
) -> Timings:
    """Step timings of steps finished at or after `since`, and end-to-end timings (first claim to
    end) of jobs finished at or after it; only of `job_ids` when given. Oldest first."""
    step_query = sa.select(job_steps.c.step, job_steps.c.duration_ms).order_by(
        job_steps.c.finished_at, job_steps.c.job_id, job_steps.c.seq
    )
    job_query = (
        sa.select(jobs.c.kind, jobs.c.started_at, jobs.c.finished_at)
        .where(jobs.c.started_at.is_not(None), jobs.c.finished_at.is_not(None))
        .order_by(jobs.c.finished_at, jobs.c.id)
    )
    if since is not None:
        step_query = step_query.where(job_steps.c.finished_at >= since)
        job_query = job_query.where(jobs.c.finished_at >= since)
    if job_ids is not None:
        ids = list(job_ids)
        step_query = step_query.where(job_steps.c.job_id.in_(ids))
        job_query = job_query.where(jobs.c.id.in_(ids))
    with store.read_connection("reading step and job timings") as connection:
        steps = [(str(step), float(ms)) for step, ms in connection.execute(step_query)]
        ended = [
            (str(kind), (finished - started).total_seconds() * 1000)
            for kind, started, finished in connection.execute(job_query)
        ]
    return Timings(steps, ended)


def call_timings(store: Store, *, since: datetime | None = None) -> list[tuple[str, str, float]]:
    """(operation, status, ms) of every stored Genesys call attempt made at or after `since`, oldest first."""
    query = sa.select(genesys_calls.c.operation, genesys_calls.c.status, genesys_calls.c.duration_ms)
    if since is not None:
        query = query.where(genesys_calls.c.at >= since)
    query = query.order_by(genesys_calls.c.at, genesys_calls.c.job_id, genesys_calls.c.seq)
    with store.read_connection("reading Genesys call timings") as connection:
        return [(str(op), str(status), float(ms)) for op, status, ms in connection.execute(query)]


def jobs_by_status(store: Store) -> dict[str, int]:
    """How many jobs are in each status (every status present, zero or not)."""
    query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
    counts: dict[str, int] = dict.fromkeys(JOB_STATUSES, 0)
    with store.read_connection("counting jobs by status") as connection:
        counts.update({str(status): int(n) for status, n in connection.execute(query)})
    return counts


def outbox_by_status(store: Store) -> dict[str, int]:
    """How many ITSM notifications are pending, delivered and dead."""
    query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
    counts: dict[str, int] = dict.fromkeys(OUTBOX_STATUSES, 0)
    with store.read_connection("counting outbox messages by status") as connection:
        counts.update({str(status): int(n) for status, n in connection.execute(query)})
    return counts


def audit_length(store: Store) -> int:
    """How many entries the audit log's chain holds."""
    with store.read_connection("counting audit entries") as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(audit_entries)).scalar_one())


def migration_revision(store: Store) -> str | None:
    """The Alembic revision the database is at (None: never migrated); compare with `head_revision()`."""
    from alembic.runtime.migration import MigrationContext

    with store.read_connection("reading the database's migration revision") as connection:
        return MigrationContext.configure(connection).get_current_revision()
