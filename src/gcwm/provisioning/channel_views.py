"""A channel as gcwm knows it, in one document: the ids and status its record holds, its snippet and
the CSP gcwm proposes for the embedding site, its last job and its newest audit entries.

`gcwm channels list|show`, `GET /v1/channels[/{name}]` and the dashboard's channel page all show this
document. It is read from gcwm's database alone, never from Genesys: what the last job recorded.

    {"name": "support-web", "org": "...", "status": "active",
     "configurationId": "...", "configurationVersion": "1", "deploymentId": "...",
     "deploymentStatus": "...", "supportedContentId": "...", "allowedDomains": ["example.com"],
     "specHash": "...", "createdAt": "...", "updatedAt": "...",
     "snippet": "<script ...>", "proposedCsp": "script-src 'nonce-...' ...",
     "lastJob": {"id", "kind", "status", "actor", "createdAt", "finishedAt", "error"} | null,
     "audit": [{"seq", "at", "action", "outcome", "actor", "job", "summary"}, ...]}

`show_channel` adds the stored `spec`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from gcwm.errors import ChannelNotFound
from gcwm.spec import channel_key
from gcwm.store import Channel, Job, Store
from gcwm.store.audit import AuditEntry
from gcwm.store.channel_reads import channels_with_key, latest_audit_entries, latest_jobs

__all__ = [
    "LISTED_AUDIT_ENTRIES",
    "SHOWN_AUDIT_ENTRIES",
    "channel_documents",
    "list_channels",
    "show_channel",
]

#: Audit entries per channel in a listing, and in one channel's document.
LISTED_AUDIT_ENTRIES = 3
SHOWN_AUDIT_ENTRIES = 10
# Every checkpointed step has an entry, and `gcwm jobs show` lists the steps: a channel's document
# keeps to what happened to the channel (queued, created, updated, failed, refused, removed...).
_LEFT_OUT = ("step.done",)


def list_channels(store: Store, org_id: str | None = None) -> list[dict[str, Any]]:
    """The documents of the channels gcwm holds (of one org, when given), by org and name; removed
    channels are left out."""
    records = [c for c in store.list_channels(org_id) if c.status != "removed"]
    return channel_documents(store, records)


def show_channel(store: Store, name: str, org_id: str | None = None) -> dict[str, Any]:
    """One channel's document, with its spec and more audit entries; names compare case-insensitively.

    Without `org_id` the channel may be in any org of the database, but in one only. Raises
    ChannelNotFound when no org holds it, when it was removed, or when several orgs hold it."""
    key = channel_key(name)
    found = [c for c in channels_with_key(store, key) if org_id is None or c.org_id == org_id]
    live = [c for c in found if c.status != "removed"]
    where = f"org {org_id}" if org_id is not None else "gcwm's database"
    if len(live) > 1:
        orgs = ", ".join(c.org_id for c in live)
        msg = f"channel {name!r} is in {len(live)} orgs of gcwm's database ({orgs}); say which with its org"
        raise ChannelNotFound(msg, channel=name)
    if not live:
        if found:
            removed = found[-1]
            msg = (
                f"channel {removed.name!r} in org {removed.org_id} was removed (gcwm destroy) at "
                f"{removed.updated_at.isoformat()}; provision it again to use it"
            )
        else:
            msg = f"no channel named {name!r} in {where}; `gcwm channels list` shows those gcwm knows"
        raise ChannelNotFound(msg, channel=name)
    document = channel_documents(store, live, audit_entries=SHOWN_AUDIT_ENTRIES)[0]
    document["spec"] = live[0].spec
    return document


def channel_documents(
    store: Store, records: Sequence[Channel], *, audit_entries: int = LISTED_AUDIT_ENTRIES
) -> list[dict[str, Any]]:
    """The documents of these channel records, in their order: two reads per org they belong to."""
    jobs: dict[tuple[str, str], Job] = {}
    entries: dict[tuple[str, str], list[AuditEntry]] = {}
    by_org = sorted(records, key=lambda c: c.org_id)
    for org_id, group in groupby(by_org, key=lambda c: c.org_id):
        channels = list(group)
        keys = [c.name_key for c in channels]
        for key, job in latest_jobs(store, org_id, keys).items():
            jobs[org_id, key] = job
        found = latest_audit_entries(
            store,
            org_id,
            keys,
            [c.name for c in channels],
            per_name=audit_entries,
            leave_out=_LEFT_OUT,
        )
        for name, listed in found.items():
            entries.setdefault((org_id, channel_key(name)), []).extend(listed)
    documents = []
    for record in records:
        at = (record.org_id, record.name_key)
        newest = sorted(entries.get(at, []), key=lambda e: e.seq, reverse=True)[:audit_entries]
        documents.append(_document(record, jobs.get(at), newest))
    return documents


def _document(record: Channel, job: Job | None, entries: list[AuditEntry]) -> dict[str, Any]:
    return {
        "name": record.name,
        "org": record.org_id,
        "status": record.status,
        "configurationId": record.configuration_id,
        "configurationVersion": record.configuration_version,
        "deploymentId": record.deployment_id,
        "deploymentStatus": record.deployment_status,
        "supportedContentId": record.supported_content_id,
        "allowedDomains": list(record.spec.get("allowedDomains") or []),
        "specHash": record.spec_hash,
        "createdAt": record.created_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
        "snippet": record.snippet,
        "proposedCsp": record.proposed_csp,
        "lastJob": _job(job) if job is not None else None,
        "audit": [_entry(e) for e in entries],
    }


def _job(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "actor": job.actor,
        "createdAt": job.created_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "error": (job.error or {}).get("message"),
    }


def _entry(entry: AuditEntry) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(entry.body)
    return {
        "seq": entry.seq,
        "at": body.get("at") or entry.at.isoformat(),
        "action": entry.action,
        "outcome": body.get("outcome"),
        "actor": body.get("actor"),
        "job": entry.job_id,
        "summary": body.get("summary") or {},
    }
