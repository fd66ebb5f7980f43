"""Reads of what gcwm knows of channels besides their records: each channel's newest job and newest
audit entries, for many channels in one query each (a listing of 30 channels is three reads, not 60).

Each read is one short read-only transaction, so a page view never waits for a writer.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from gcwm.store.audit import AuditEntry
from gcwm.store.channels import _channel
from gcwm.store.job_reads import _job
from gcwm.store.models import Channel, Job
from gcwm.store.store import Store
from gcwm.store.tables import audit_entries, channels, jobs

__all__ = ["channels_with_key", "latest_audit_entries", "latest_jobs"]


def channels_with_key(store: Store, key: str) -> list[Channel]:
    """The channels with this key (gcwm.spec.channel_key of their names) in every org, by org."""
    query = sa.select(channels).where(channels.c.name_key == key).order_by(channels.c.org_id)
    with store.read_connection(f"reading channel {key!r}") as connection:
        return [_channel(row) for row in connection.execute(query)]


def latest_jobs(store: Store, org_id: str, keys: Iterable[str]) -> dict[str, Job]:
    """The newest job (by creation) of each of these channel keys in the org that has one."""
    wanted = list(keys)
    if not wanted:
        return {}
    newest = (
        sa.func.row_number()
        .over(partition_by=jobs.c.channel_key, order_by=(jobs.c.created_at.desc(), jobs.c.id.desc()))
        .label("newest")
    )
    ranked = sa.select(jobs, newest).where(jobs.c.org_id == org_id, jobs.c.channel_key.in_(wanted)).subquery()
    query = sa.select(*(ranked.c[column.name] for column in jobs.c)).where(ranked.c.newest == 1)
    with store.read_connection(f"reading the last jobs of {len(wanted)} channels") as connection:
        found = [_job(row) for row in connection.execute(query)]
    return {job.channel_key: job for job in found}


def latest_audit_entries(
    store: Store,
    org_id: str,
    keys: Iterable[str],
    names: Iterable[str],
    *,
    per_name: int,
    leave_out: Iterable[str] = (),
) -> dict[str, list[AuditEntry]]:
    """The org's newest `per_name` audit entries of each channel name, newest first, by name as the
    entries spell it, without the actions in `leave_out`.

    Entries name a channel as its job spelt it, so the names searched are `names` and every name the
    org's jobs of these `keys` used (the index on the channel column serves both)."""
    spelt = {*names}
    key_list = list(keys)
    if not spelt and not key_list:
        return {}
    e = audit_entries.c
    used = sa.select(jobs.c.channel_name).where(jobs.c.org_id == org_id, jobs.c.channel_key.in_(key_list))
    newest = sa.func.row_number().over(partition_by=e.channel, order_by=e.seq.desc()).label("newest")
    inner = sa.select(audit_entries, newest).where(
        e.org_id == org_id, sa.or_(e.channel.in_(sorted(spelt)), e.channel.in_(used))
    )
    skipped = list(leave_out)
    if skipped:
        inner = inner.where(e.action.not_in(skipped))
    ranked = inner.subquery()
    query = (
        sa.select(*(ranked.c[column.name] for column in audit_entries.c))
        .where(ranked.c.newest <= per_name)
        .order_by(ranked.c.seq.desc())
    )
    found: dict[str, list[AuditEntry]] = {}
    with store.read_connection("reading channels' audit entries") as connection:
        for row in connection.execute(query):
            entry = AuditEntry(**row._mapping)
            found.setdefault(entry.channel or "", []).append(entry)
    return found
