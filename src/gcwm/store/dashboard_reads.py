"""Reads the operator dashboard shows that no repository has: step and Genesys call timings with the
time each ended (the latency charts draw them over time) and the newest audit entries first.

Each is one short read-only transaction, so a page view never waits for a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from gcwm.store.audit import AuditEntry
from gcwm.store.store import Store
from gcwm.store.tables import audit_entries, genesys_calls, job_steps

__all__ = ["StepTiming", "call_timings", "recent_audit", "step_timings"]


@dataclass(frozen=True)
class StepTiming:
    """One finished step: its name, when it finished and how long it took."""

    step: str
    finished_at: datetime
    duration_ms: float


def step_timings(store: Store, *, since: datetime | None = None, limit: int = 20_000) -> list[StepTiming]:
    """Steps finished at or after `since`, oldest first; at most the newest `limit` of them."""
    c = job_steps.c
    return _timings(store, c.step, c.finished_at, c.duration_ms, since, limit, "reading step timings")


def call_timings(store: Store, *, since: datetime | None = None, limit: int = 20_000) -> list[StepTiming]:
    """Genesys call attempts of finished jobs made at or after `since`, oldest first; at most the newest
    `limit`. Each as a StepTiming named by its operation, so the step charts' code draws them alike."""
    c = genesys_calls.c
    return _timings(store, c.operation, c.at, c.duration_ms, since, limit, "reading Genesys call timings")


def _timings(
    store: Store,
    name: sa.ColumnElement[str],
    at: sa.ColumnElement[datetime],
    ms: sa.ColumnElement[float],
    since: datetime | None,
    limit: int,
    action: str,
) -> list[StepTiming]:
    query = sa.select(name, at, ms)
    if since is not None:
        query = query.where(at >= since)
    newest = query.order_by(at.desc()).limit(limit)
    with store.read_connection(action) as connection:
        rows = [StepTiming(str(n), when, float(d)) for n, when, d in connection.execute(newest)]
    rows.reverse()
    return rows


def recent_audit(store: Store, *, channel: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest `limit` audit entries (of one channel, when given), newest first."""
    query = sa.select(audit_entries).order_by(audit_entries.c.seq.desc()).limit(limit)
    if channel is not None:
        query = query.where(audit_entries.c.channel == channel)
    with store.read_connection("reading the audit log") as connection:
        return [AuditEntry(**row._mapping) for row in connection.execute(query)]
