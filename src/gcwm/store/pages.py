"""Keyset pages of jobs, channels, audit entries and notifications, for the HTTP API's listings.

Each read starts after the last row of the previous page (its sort key, never an offset), so a row
added or removed meanwhile neither repeats nor skips one already listed. Each page is one short
read-only transaction; `limit + 1` rows are read so the caller knows whether another page follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from gcwm.store.audit import AuditEntry
from gcwm.store.channels import _channel
from gcwm.store.job_reads import _job
from gcwm.store.models import Channel, Job
from gcwm.store.outbox import OutboxMessage, _message
from gcwm.store.store import Store
from gcwm.store.tables import audit_entries, channels, jobs, outbox


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries: each filter is optional."""

    channel: str | None = None
    action: str | None = None
    job_id: str | None = None
    since: datetime | None = None


def jobs_page(
    store: Store,
    org_id: str,
    *,
    status: str | None = None,
    channel_key: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[Job]:
    """The org's jobs, newest first, after the job whose (created_at, id) is `after`."""
    query = sa.select(jobs).where(jobs.c.org_id == org_id)
    if status is not None:
        query = query.where(jobs.c.status == status)
    if channel_key is not None:
        query = query.where(jobs.c.channel_key == channel_key)
    if after is not None:
        at, ident = after
        query = query.where(
            sa.or_(jobs.c.created_at < at, sa.and_(jobs.c.created_at == at, jobs.c.id < ident))
        )
    query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit + 1)
    with store.reading() as tx:
        return [_job(row) for row in tx.connection.execute(query)]


def channels_page(store: Store, org_id: str, *, after: str | None = None, limit: int = 50) -> list[Channel]:
    """The org's channels not removed, by name key, after the channel whose name key is `after`."""
    query = sa.select(channels).where(channels.c.org_id == org_id, channels.c.status != "removed")
    if after is not None:
        query = query.where(channels.c.name_key > after)
    query = query.order_by(channels.c.name_key).limit(limit + 1)
    with store.reading() as tx:
        return [_channel(row) for row in tx.connection.execute(query)]


def audit_page(
    store: Store, which: AuditQuery, *, after: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Audit entries in chain order (seq), after seq `after`."""
    e = audit_entries.c
    query = sa.select(audit_entries)
    if which.channel is not None:
        query = query.where(e.channel == which.channel)
    if which.action is not None:
        query = query.where(e.action == which.action)
    if which.job_id is not None:
        query = query.where(e.job_id == which.job_id)
    if which.since is not None:
        query = query.where(e.at >= which.since)
    if after is not None:
        query = query.where(e.seq > after)
    query = query.order_by(e.seq).limit(limit + 1)
    with store.reading() as tx:
        return [AuditEntry(**row._mapping) for row in tx.connection.execute(query)]


def notifications_page(
    store: Store,
    *,
    status: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[OutboxMessage]:
    """Notifications, newest first, after the one whose (created_at, id) is `after`."""
    o = outbox.c
    query = sa.select(outbox)
    if status is not None:
        query = query.where(o.status == status)
    if after is not None:
        at, ident = after
        query = query.where(sa.or_(o.created_at < at, sa.and_(o.created_at == at, o.id < ident)))
    query = query.order_by(o.created_at.desc(), o.id.desc()).limit(limit + 1)
    with store.reading() as tx:
        return [_message(row) for row in tx.connection.execute(query)]
