"""The use cases: plan, provision, resume and cancel. `cli.py` (and the HTTP API) only parse and render.

Data flows one way: specs -> observe the org (once per batch) -> plan (pure) -> apply as durable jobs
through one Genesys client -> the result document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gcwm.errors import Finding, JobError, LimitExceeded, PolicyViolation
from gcwm.genesys import GenesysClient
from gcwm.policy import LimitUse, LocalPolicy
from gcwm.provisioning import admission
from gcwm.provisioning.apply import Timeouts
from gcwm.provisioning.batch import Batch
from gcwm.provisioning.checks import proposed_policy
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
    ) -> None:
        self.store = store
        self.client = client
        self.org = org
        self.timeouts = timeouts or Timeouts()
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.policy = policy or LocalPolicy()

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
        review = admission.review(specs, source=source, policy=self.policy, org=self.org)
        if blocking := review.blocking(self.policy):
            return refused_document(self.org, specs, review.channels, PolicyViolation(blocking))
        batch = self._batch()
        snapshot = await batch.observe(specs)  # the one read of the org this batch's jobs plan from
        plan = build_plan(specs, snapshot)
        admit = admission.admission(specs, plan, snapshot, self.policy, review, source=source)
        try:
            job_ids = enqueue_channels(self.store, self.org.id, list(specs), admit)
        except LimitExceeded as refused:
            return refused_document(self.org, specs, review.channels, refused)
        document = await self._work(batch, job_ids, concurrency, on_event)
        return with_checks(document, review.channels)

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
        )
        jobs = await worker.run_until_done(job_ids, on_event)
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
