"""Queue a job per desired channel: record the spec, reuse a crashed run's job, supersede an old one,
and take the slots its creates need in the same transaction. Queue a destroy job per channel to remove."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gcwm.errors import ChannelNotFound
from gcwm.observability.context import actor, correlation_id
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.roles import KIND_DESTROY, KIND_PROVISION
from gcwm.spec import ChannelSpec, channel_key
from gcwm.store import Channel, Job, Store, UnitOfWork

SUPERSEDED = "JobSuperseded"


@dataclass(frozen=True)
class Admission:
    """What a batch takes: the slots each channel's creates need, the check that there is room for
    them (given what queued jobs already hold, per kind), and the CSP proposed per channel."""

    slots: Mapping[str, Sequence[str]] = field(default_factory=dict)  # channel key -> kinds
    check: Callable[[dict[str, int], set[str]], None] | None = None  # (held per kind, reused keys)
    since: datetime | None = None  # the observation the held slots are counted against
    csp: Mapping[str, str] = field(default_factory=dict)


def enqueue_channels(
    store: Store,
    org_id: str,
    specs: Sequence[ChannelSpec],
    admission: Admission | None = None,
    evidence: Evidence | None = None,
) -> list[str]:
    """The ids of `queue_channel_jobs`'s jobs."""
    return [job.id for job in queue_channel_jobs(store, org_id, specs, admission, evidence)]


@dataclass(frozen=True)
class QueueOwner:
    """The process that queues jobs and works them while it lives (others take them over once its
    lease on them runs out): its identity and how long that lease lasts unrenewed."""

    owner: str
    lease_s: float


def queue_channel_jobs(
    store: Store,
    org_id: str,
    specs: Sequence[ChannelSpec],
    admission: Admission | None = None,
    evidence: Evidence | None = None,
    by: QueueOwner | None = None,
) -> list[Job]:
    """Record the desired channels and queue a job for each; the jobs as queued, in spec order.

    A channel whose unfinished job has the same spec keeps that job (a crashed run left it: finish
    it, do not add a twin). One with another spec is superseded: the old job is cancelled (asked to
    stop after its step in hand, if it is running) and the new one waits until it has stopped.
    With an `admission`, the org's limits are checked and the slots taken in this transaction, so two
    runs cannot both take the last free one; a check that fails leaves nothing queued.
    """
    admit = admission or Admission()
    batch_id = uuid.uuid4().hex
    queued: list[Job] = []
    with store.unit_of_work() as tx:
        mine = tx.jobs.unfinished(org_id=org_id, channel_keys={s.key for s in specs})
        pending = {j.channel_key: j for j in mine if not j.cancel_requested}
        # Only a provision job of the same spec is reused; an unfinished destroy job is superseded.
        reused = {
            s.key
            for s in specs
            if (j := pending.get(s.key)) is not None
            and j.kind == KIND_PROVISION
            and j.spec == s.to_document()
        }
        if admit.check is not None:
            tx.slots.lock_org(org_id)
            since = admit.since if admit.since is not None else tx.jobs.now()
            held = tx.slots.counted(org_id, since)
            # Jobs this batch supersedes give their slots up: a corrected spec of a channel must
            # not be refused for the slots of the job it replaces.
            replaced = tx.slots.held_by(j.id for k, j in pending.items() if k not in reused)
            admit.check({kind: n - replaced.get(kind, 0) for kind, n in held.items()}, reused)
        for spec in specs:
            document = spec.to_document()
            tx.channels.upsert_desired(
                org_id, spec.name, spec.key, document, spec.spec_hash(), proposed_csp=admit.csp.get(spec.key)
            )
            existing = pending.get(spec.key)
            if spec.key in reused and existing is not None:
                queued.append(existing)
                continue
            job = _enqueue(tx, batch_id, org_id, spec.name, spec.key, KIND_PROVISION, document, by)
            if existing is not None:
                tx.jobs.cancel(existing.id, reason=superseded(job))
            tx.slots.reserve(org_id, job.id, admit.slots.get(spec.key, ()))
            if evidence is not None:
                summary = {"specHash": spec.spec_hash(), "creates": list(admit.slots.get(spec.key, ()))}
                evidence.for_job(tx, job, "job.queued", "queued", summary)
            queued.append(job)
    return queued


def enqueue_destroys(
    store: Store,
    org_id: str,
    names: Sequence[str],
    evidence: Evidence | None = None,
    by: QueueOwner | None = None,
) -> list[str]:
    """Queue a destroy job per named channel; the job ids, in name order (a name given twice, once).

    Raises ChannelNotFound, queueing nothing, for a name the org's store does not hold (or holds as
    destroyed already). A channel's unfinished destroy job is kept: asking twice queues one. An
    unfinished provision job is superseded as a newer spec supersedes it: cancelled, and the destroy
    waits until it has stopped (the store runs one job per channel at a time, oldest first), then
    removes whatever that job made too.
    """
    batch_id = uuid.uuid4().hex
    job_ids: dict[str, str] = {}
    with store.unit_of_work() as tx:
        records: list[Channel] = []
        for name in names:
            records.append(destroyable(tx.channels.get(org_id, channel_key(name)), name, org_id))
        mine = tx.jobs.unfinished(org_id=org_id, channel_keys={r.name_key for r in records})
        pending = {j.channel_key: j for j in mine if not j.cancel_requested}
        for record in records:
            if record.name_key in job_ids:
                continue
            existing = pending.get(record.name_key)
            if existing is not None and existing.kind == KIND_DESTROY:
                job_ids[record.name_key] = existing.id
                continue
            # The channel's last desired spec: its ITSM subscription, its hash.
            job = _enqueue(tx, batch_id, org_id, record.name, record.name_key, KIND_DESTROY, record.spec, by)
            if existing is not None:
                tx.jobs.cancel(existing.id, reason=superseded(job))
            if evidence is not None:
                summary = {"specHash": record.spec_hash, "kind": KIND_DESTROY}
                evidence.for_job(tx, job, "job.queued", "queued", summary)
            job_ids[record.name_key] = job.id
    return list(job_ids.values())


def superseded(newer: Job) -> dict[str, str]:
    """The error a job superseded by `newer` ends with: not to be resumed (it would carry on from a
    plan made before `newer`), so it names `newer` instead of advising `gcwm jobs resume`."""
    what = "a newer spec of the channel" if newer.kind == KIND_PROVISION else "a destroy of the channel"
    return {
        "error": SUPERSEDED,
        "message": f"superseded by job {newer.id} ({what}); that job carries on for this channel",
        "supersededBy": newer.id,
    }


def destroyable(record: Channel | None, name: str, org_id: str) -> Channel:
    """The channel record to destroy; ChannelNotFound if the org's store has none, or a removed one."""
    if record is None or record.status == "removed":
        said = "it was destroyed already" if record is not None else "gcwm never provisioned it"
        msg = f"no channel named {name!r} in org {org_id}; {said}"
        raise ChannelNotFound(msg, channel=name)
    return record


def _enqueue(
    tx: UnitOfWork,
    batch_id: str,
    org_id: str,
    name: str,
    key: str,
    kind: str,
    spec: dict[str, Any],
    by: QueueOwner | None,
) -> Job:
    """A job of `kind` for one channel, asked for by the current actor in the current run, and worked
    by the process that queued it (`by`) while it lives."""
    return tx.jobs.enqueue(
        owner=by.owner if by is not None else None,
        lease_s=by.lease_s if by is not None else 0.0,
        batch_id=batch_id,
        org_id=org_id,
        channel_name=name,
        channel_key=key,
        kind=kind,
        spec=spec,
        actor=actor() or "unknown",
        correlation_id=correlation_id() or batch_id,
    )
