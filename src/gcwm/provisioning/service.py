"""The use cases: plan, provision, resume and cancel. `cli.py` (and the HTTP API) only parse and render.

Data flows one way: specs -> observe the org (once per batch) -> plan (pure) -> apply as durable jobs
through one Genesys client -> the result document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gcwm.audit import AuditEvent, AuditTargets
from gcwm.errors import Finding, JobError, LimitExceeded, PolicyViolation
from gcwm.genesys import GenesysClient
from gcwm.notify import Dispatcher
from gcwm.observability.context import actor, correlation_id
from gcwm.policy import LimitUse, LocalPolicy
from gcwm.provisioning import admission
from gcwm.provisioning.apply import Timeouts
from gcwm.provisioning.batch import Batch
from gcwm.provisioning.checks import proposed_policy
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.plan import Plan, build_plan
from gcwm.provisioning.queue import enqueue_channels
from gcwm.provisioning.results import OrgRef, refused_document, run_document, with_checks
from gcwm.provisioning.worker import EventSink, Worker
from gcwm.spec import ChannelSpec, channel_key
from gcwm.store import Job, Store


@dataclass(frozen=True)
class PlanReport:
    """A plan with what the policy checks found and every limit it would use."""

    plan: Plan
    findings: list[Finding]
    limits: list[LimitUse]
    blocking: list[Finding]


class ProvisioningService:
    """Provisioning of web messaging channels in one org, through one client and one store."""

    def __init__(
        self,
        store: Store,
        client: GenesysClient,
        org: OrgRef,
        *,
        timeouts: Timeouts | None = None,
        concurrency: int = 32,
        lease_s: float = 15.0,
        policy: LocalPolicy | None = None,
        evidence: Evidence | None = None,
        notifications: Callable[[], Dispatcher] | None = None,
        notify_grace_s: float = 10.0,
    ) -> None:
        self.store = store
        self.client = client
        self.org = org
        self.timeouts = timeouts or Timeouts()
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.policy = policy or LocalPolicy()
        self.evidence = evidence or Evidence()
        self._notifications = notifications
        self._notify_grace_s = notify_grace_s

    def _batch(self) -> Batch:
        return Batch(self.client, self.store, self.org.id, self.timeouts)

    async def plan(self, specs: Sequence[ChannelSpec], *, source: str = "") -> PlanReport:
        """What `provision` would do, from the org as it is now, with findings and limits. Writes nothing."""
        review = admission.review(specs, source=source, policy=self.policy, org=self.org)
        snapshot = await self._batch().observe(specs)
        plan = build_plan(specs, snapshot)
        with self.store.unit_of_work() as tx:
            held = tx.slots.counted(self.org.id, snapshot.observed_at)
        limits = admission.uses(specs, plan, snapshot, self.policy, held)
        blocking = review.blocking(self.policy) + [
            Finding(
                "limit_exceeded",
                "high",
                u.key,
                f"{u.key} is {u.value}; after the plan {u.after}",
                source,
                u.channel,
            )
            for u in limits
            if u.exceeded
        ]
        return PlanReport(plan, review.findings, limits, blocking)

    async def provision(
        self,
        specs: Sequence[ChannelSpec],
        *,
        source: str = "",
        concurrency: int | None = None,
        on_event: EventSink | None = None,
    ) -> dict[str, Any]:
        """Check, then queue a job per channel, work them to the end, and return the result document.

        Anything the policy refuses refuses the whole batch before the first write, with every
        finding: the document then has `"outcome": "refused"` and the findings per channel."""
        self.evidence.ready(self.store)  # a key that may not sign this log stops the run here
        review = admission.review(specs, source=source, policy=self.policy, org=self.org)
        if blocking := review.blocking(self.policy):
            return self._refuse(specs, review, PolicyViolation(blocking))
        batch = self._batch()
        snapshot = await batch.observe(specs)  # the one read of the org this batch's jobs plan from
        plan = build_plan(specs, snapshot)
        admit = admission.admission(specs, plan, snapshot, self.policy, review, source=source)
        try:
            job_ids = enqueue_channels(self.store, self.org.id, list(specs), admit, self.evidence)
        except LimitExceeded as refused:
            return self._refuse(specs, review, refused)
        document = await self._work(batch, job_ids, concurrency, on_event)
        sent = await self._deliver(snapshot.observed_at, [s.name for s in specs])
        if sent is not None:
            document["notifications"] = sent
        return with_checks(document, review.channels)

    async def _deliver(self, since: datetime, channels: list[str]) -> dict[str, int] | None:
        """Send the notifications this run queued, within the grace period; an ITSM outage never
        holds or fails the run: what is left stays pending for `gcwm notify run`."""
        with self.store.unit_of_work() as tx:
            ids = tx.outbox.pending_since(self.org.id, since, channels)
        if not ids or self._notifications is None:
            return None
        async with self._notifications() as dispatcher:
            result = await dispatcher.run_until_empty(time.monotonic() + self._notify_grace_s, ids=ids)
        return result.to_dict()

    def _refuse(
        self, specs: Sequence[ChannelSpec], review: admission.Review, refusal: PolicyViolation
    ) -> dict[str, Any]:
        """Record the refusal (nothing else is written) and give the document that reports it."""
        with self.store.unit_of_work() as tx:
            for spec in specs:
                found = [f.to_dict() for f in refusal.findings if f.channel in ("", spec.name)]
                event = AuditEvent(
                    action="policy.refused",
                    actor=actor() or "unknown",
                    org_id=self.org.id,
                    targets=AuditTargets(channel=spec.name),
                    outcome="refused",
                    correlation_id=correlation_id(),
                    summary={"specHash": spec.spec_hash(), "findings": found},
                )
                self.evidence.record(tx, event)
        self.evidence.end_run(self.store)
        return refused_document(self.org, specs, review.channels, refusal)

    async def preview_material(self, name: str) -> tuple[str, str]:
        """A provisioned channel's snippet, read from Genesys now, and the CSP gcwm proposes for it."""
        record = self.store.get_channel(self.org.id, channel_key(name))
        if record is None or not record.deployment_id:
            msg = f"no provisioned channel named {name!r} in org {self.org.id}; provision it first"
            raise JobError(msg)
        deployment = await self.client.get_deployment(record.deployment_id)
        spec = ChannelSpec.model_validate(record.spec)
        policy = proposed_policy(spec, admission.site_needs(self.org))
        return deployment.snippet or "", policy.serialize()

    async def resume(
        self, job_id: str | None = None, *, concurrency: int | None = None, on_event: EventSink | None = None
    ) -> dict[str, Any]:
        """Finish the org's unfinished jobs, or run one failed or cancelled job again."""
        self.evidence.ready(self.store)
        if job_id:
            with self.store.unit_of_work() as tx:
                job = tx.jobs.get(job_id)
                if job.status in ("failed", "cancelled"):
                    tx.jobs.requeue(job.id)
            ids = [job.id]
        else:
            ids = [j.id for j in self.store.unfinished_jobs(self.org.id)]
        return await self._work(self._batch(), ids, concurrency, on_event)

    async def _work(
        self, batch: Batch, job_ids: list[str], concurrency: int | None, on_event: EventSink | None
    ) -> dict[str, Any]:
        worker = Worker(
            self.store,
            batch,
            org_id=self.org.id,
            concurrency=concurrency or self.concurrency,
            lease_s=self.lease_s,
            evidence=self.evidence,
        )
        jobs = await worker.run_until_done(job_ids, on_event)
        self.evidence.end_run(self.store)
        return run_document(self.org, jobs)


def cancel_job(store: Store, job_id: str) -> Job:
    """Cancel a job: a queued one at once, a running one after the step in hand."""
    with store.unit_of_work() as tx:
        return tx.jobs.cancel(store.get_job(job_id).id)


def job_details(store: Store, job_id: str) -> dict[str, Any]:
    """One job with its checkpointed steps, as `gcwm jobs show` prints it."""
    job = store.get_job(job_id)
    row = job_summary(job)
    row["result"] = job.result
    row["steps"] = [
        {"step": s.step, "durationMs": s.duration_ms, "attempt": s.attempt, "data": s.data}
        for s in store.job_steps(job.id)
    ]
    return row


def job_summary(job: Job) -> dict[str, Any]:
    """A job as one row of `gcwm jobs list`."""
    return {
        "id": job.id,
        "channel": job.channel_name,
        "org": job.org_id,
        "status": job.status,
        "cancelRequested": job.cancel_requested,
        "attempts": job.attempts,
        "actor": job.actor,
        "createdAt": job.created_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "error": (job.error or {}).get("message"),
    }
