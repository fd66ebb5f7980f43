"""Queue a job per desired channel: record the spec, reuse a crashed run's job, supersede an old one."""

from __future__ import annotations

import uuid

from gcwm.observability.context import actor, correlation_id
from gcwm.spec import ChannelSpec
from gcwm.store import Store

KIND_PROVISION = "provision"


def enqueue_channels(store: Store, org_id: str, specs: list[ChannelSpec]) -> list[str]:
    """Record the desired channels and queue a job for each; the job ids, in spec order.

    A channel whose unfinished job has the same spec keeps that job (a crashed run left it: finish
    it, do not add a twin). One with another spec is superseded: the old job is cancelled (asked to
    stop after its step in hand, if it is running) and the new one waits until it has stopped.
    """
    batch_id = uuid.uuid4().hex
    job_ids: list[str] = []
    with store.unit_of_work() as tx:
        pending = {j.channel_key: j for j in tx.jobs.unfinished(org_id=org_id) if not j.cancel_requested}
        for spec in specs:
            document = spec.to_document()
            tx.channels.upsert_desired(org_id, spec.name, spec.key, document, spec.spec_hash())
            existing = pending.get(spec.key)
            if existing is not None and existing.spec == document:
                job_ids.append(existing.id)
                continue
            if existing is not None:
                tx.jobs.cancel(existing.id)
            job = tx.jobs.enqueue(
                batch_id=batch_id,
                org_id=org_id,
                channel_name=spec.name,
                channel_key=spec.key,
                kind=KIND_PROVISION,
                spec=document,
                actor=actor() or "unknown",
                correlation_id=correlation_id() or batch_id,
            )
            job_ids.append(job.id)
    return job_ids
