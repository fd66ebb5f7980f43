"""Reads the operator dashboard shows that no repository has: step and Genesys call timings with the
time each ended (the latency charts draw them over time) and the newest audit entries first.

Each is one short read-only transaction, so a page view never waits for a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from gcwm.store.store import Store
from gcwm.store.tables import audit_entries, genesys_calls, job_steps

__all__ = ["AuditRow", "StepTiming", "call_timings", "recent_audit", "step_timings"]


@dataclass(frozen=True)
class StepTiming:
    """One finished step: its name, when it finished and how long it took."""

    step: str
    finished_at: datetime
    duration_ms: float


@dataclass(frozen=True)
class AuditRow:
    """One audit entry as stored: the body is its canonical JSON, `hash` its link in the chain."""

    seq: int
    at: datetime
    action: str
    org_id: str
    channel: str | None
    job_id: str | None
    body: str
    hash: str


def step_timings(store: Store, *, since: datetime | None = None, limit: int = 20_000) -> list[StepTiming]:
    """Steps finished at or after `since`, oldest first; at most the newest `limit` of them."""
    query = sa.select(job_steps.c.step, job_steps.c.finished_at, job_steps.c.duration_ms)
    if since is not None:
        query = query.where(job_steps.c.finished_at >= since)
    newest = query.order_by(job_steps.c.finished_at.desc()).limit(limit)
    with store.read_connection("reading step timings") as connection:
        rows = [StepTiming(str(s), at, float(ms)) for s, at, ms in connection.execute(newest)]
    rows.reverse()
    return rows


def call_timings(store: Store, *, since: datetime | None = None, limit: int = 20_000) -> list[StepTiming]:
    """Genesys call attempts of finished jobs made at or after `since`, oldest first; at most the newest
    `limit`. Each as a StepTiming named by its operation, so the step charts' code draws them alike."""
    query = sa.select(genesys_calls.c.operation, genesys_calls.c.at, genesys_calls.c.duration_ms)
    if since is not None:
        query = query.where(genesys_calls.c.at >= since)
    newest = query.order_by(genesys_calls.c.at.desc()).limit(limit)
    with store.read_connection("reading Genesys call timings") as connection:
        rows = [StepTiming(str(op), at, float(ms)) for op, at, ms in connection.execute(newest)]
    rows.reverse()
    return rows


def recent_audit(store: Store, *, channel: str | None = None, limit: int = 200) -> list[AuditRow]:
    """The newest `limit` audit entries (of one channel, when given), newest first."""
    query = sa.select(audit_entries).order_by(audit_entries.c.seq.desc()).limit(limit)
    if channel is not None:
        query = query.where(audit_entries.c.channel == channel)
    with store.read_connection("reading the audit log") as connection:
        return [AuditRow(**row._mapping) for row in connection.execute(query)]
