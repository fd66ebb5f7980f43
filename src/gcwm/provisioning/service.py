"""The use cases: plan, provision (or only submit), destroy, resume, cancel, and the workers of a
service. `cli.py` (and the HTTP API) only parse and render.

Data flows one way: specs -> observe the org (once per batch) -> plan (pure) -> apply as durable jobs
through one Genesys client -> the result document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gcwm.errors import Finding, JobError, LimitExceeded, PolicyViolation, SpecError
from gcwm.genesys import GenesysClient
from gcwm.notify import Dispatcher, SecretSource
from gcwm.observability.context import actor, correlation_id
from gcwm.policy import LimitUse, LocalPolicy
from gcwm.provisioning import admission
from gcwm.provisioning.batch import Batch
from gcwm.provisioning.checks import itsm_problems, proposed_policy
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.identity import WorkerIdentity
from gcwm.provisioning.job_actions import cancel_job, resume_job
from gcwm.provisioning.plan import Plan, build_plan
from gcwm.provisioning.queue import QueueOwner, destroyable, enqueue_destroys, queue_channel_jobs
from gcwm.provisioning.results import OrgRef, refused_document, run_document, with_checks
from gcwm.provisioning.roles import Role
from gcwm.provisioning.tools import Timeouts
from gcwm.provisioning.worker import EventSink, Worker
from gcwm.spec import ChannelSpec, channel_key
from gcwm.store import Channel, Job, JobStep, Store
from gcwm.waits import event_set_within

# How old the snapshot the service's workers plan from may get (another process may change the org).
_SERVICE_SNAPSHOT_S = 5.0
# How often a serving process signs the audit chain's head (a no-op when it has not moved), so the
# head file outside the database never lags the log by more than this.
# A serving process signs the chain's head this often: `audit verify` (and the dashboard) fail closed
# on entries no signed head covers yet, so its jobs' entries must not wait long for one.
_SERVICE_HEAD_EVERY_S = 2.0


@dataclass(frozen=True)
class PlanReport:
    """A plan with what the policy checks found and every limit it would use."""

    plan: Plan
    findings: list[Finding]
    limits: list[LimitUse]
    blocking: list[Finding]


@dataclass(frozen=True)
class _Queued:
    """What queueing a batch leaves: the batch its jobs plan from, when it observed, the jobs."""

    batch: Batch
    observed_at: datetime
    jobs: list[Job]

    @property
    def job_ids(self) -> list[str]:
        return [job.id for job in self.jobs]


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
        secrets: SecretSource | None = None,
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
        self._secrets = secrets  # where this process reads ITSM secrets: checked at submission
        self._serving: Worker | None = None
        self._shared: Batch | None = None
        self._signer_checked = False

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
        references = admission.reference_findings(plan, source=source)
        blocking = (
            review.blocking(self.policy)
            + references
            + [
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
        )
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
        try:
            queued = await self._queue(specs, review, source)
        except PolicyViolation as refusal:  # recorded by _queue; LimitExceeded is one too
            return refused_document(self.org, specs, review.channels, refusal)
        document = await self._work(queued.batch, queued.job_ids, concurrency, on_event)
        sent = await self._deliver(queued.observed_at, [s.name for s in specs])
        if sent is not None:
            document["notifications"] = sent
        return with_checks(document, review.channels)

    async def submit(self, specs: Sequence[ChannelSpec], *, source: str = "") -> list[Job]:
        """Check and queue a job per channel as `provision` does, without working them; the queued jobs
        in spec order. Raises PolicyViolation or LimitExceeded after recording the refusal."""
        # A service answers many submissions a second: the database work runs off the event loop
        # (which also runs the workers), the org is read at most once per serving batch's age, and
        # the signing key is checked against the log once per process.
        if not self._signer_checked:
            await asyncio.to_thread(self.evidence.ready, self.store)
            self._signer_checked = True
        # An ITSM setting that could only fail at delivery, hours later, is a spec error now (issue 24).
        if problems := itsm_problems(specs, source=source, policy=self.policy, secrets=self._secrets):
            raise SpecError(problems)
        # The review is pure CPU (1000 channels: most of a second): off the loop too (issue 23, item 6).
        review = await asyncio.to_thread(
            admission.review, specs, source=source, policy=self.policy, org=self.org
        )
        return (await self._queue(specs, review, source, shared=True)).jobs

    async def _queue(
        self, specs: Sequence[ChannelSpec], review: admission.Review, source: str, *, shared: bool = False
    ) -> _Queued:
        """Policy review, observe, plan, admission and enqueue: what provision and submit share.
        `shared`: admit against the serving batch's recent snapshot instead of a read of one's own.
        Every problem of the batch refuses it at once, before any write: the policy's blocking
        findings and every queue or flow the org does not hold (issue 24: all in one run)."""
        if shared:
            batch = self._serving_batch()
            snapshot = await batch.recent(specs)
        else:
            batch = self._batch()
            snapshot = await batch.observe(specs)  # the one read of the org this batch's jobs plan from
        # Pure CPU, like the review (1000 channels: a good part of a second): off the event loop.
        plan = await asyncio.to_thread(build_plan, specs, snapshot)
        if blocking := review.blocking(self.policy) + admission.reference_findings(plan, source=source):
            raise await asyncio.to_thread(self._refuse, specs, PolicyViolation(blocking))
        admit = admission.admission(specs, plan, snapshot, self.policy, review, source=source)
        try:
            jobs = await self.store.write(
                queue_channel_jobs, self.store, self.org.id, list(specs), admit, self.evidence, self._owner()
            )
        except LimitExceeded as refused:
            raise await asyncio.to_thread(self._refuse, specs, refused) from None
        return _Queued(batch, snapshot.observed_at, jobs)

    async def aclose(self) -> None:
        """End what the service runs in the background (the serving batch's read of the org)."""
        if self._shared is not None:
            await self._shared.aclose()

    def _serving_batch(self) -> Batch:
        """The batch a serving process's workers and submissions share; its snapshot lives
        `_SERVICE_SNAPSHOT_S` at most (the service's unit of a batch)."""
        if self._shared is None:
            self._shared = Batch(
                self.client, self.store, self.org.id, self.timeouts, max_age_s=_SERVICE_SNAPSHOT_S
            )
        return self._shared

    def removal(self, names: Sequence[str]) -> list[Channel]:
        """The channels `destroy(names)` would remove, with the ids the store holds for them.

        Raises ChannelNotFound for a name the org does not hold (or holds as destroyed already)."""
        org = self.org.id
        return [destroyable(self.store.get_channel(org, channel_key(name)), name, org) for name in names]

    async def destroy(self, names: Sequence[str]) -> list[Job]:
        """Queue a job of kind "destroy" per channel name; ChannelNotFound (nothing queued) for an
        unknown name. A live provision job of the channel is superseded (cancelled; the destroy runs
        after it stopped and removes what it made)."""
        self.evidence.ready(self.store)
        job_ids = await asyncio.to_thread(
            enqueue_destroys, self.store, self.org.id, names, self.evidence, self._owner()
        )
        return [self.store.get_job(job_id) for job_id in job_ids]

    async def run_jobs(
        self, job_ids: list[str], *, concurrency: int | None = None, on_event: EventSink | None = None
    ) -> dict[str, Any]:
        """Work the org's queue until these jobs have finished; the result document (with what
        became of the notifications they queued, as for provision)."""
        self.evidence.ready(self.store)
        since = await asyncio.to_thread(self.store.database_now)
        document = await self._work(self._batch(), job_ids, concurrency, on_event)
        sent = await self._deliver(since, [c["name"] for c in document["channels"]])
        if sent is not None:
            document["notifications"] = sent
        return document

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Work the org's queue (provision and destroy jobs, queued by anyone) until `stop` is set;
        several processes on one database share the work through leases. Beats a heartbeat
        (`worker_alive`). Jobs in hand at stop go back to the queue at once (Worker.run_forever)."""
        self.evidence.ready(self.store)
        worker = self._worker(self._serving_batch(), None)
        self._serving = worker
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(worker.run_forever(stop))
                group.create_task(self._deliver_forever(stop))
                group.create_task(self._sign_head_every(_SERVICE_HEAD_EVERY_S, stop))
        finally:
            self._serving = None
            self.evidence.end_run(self.store)

    async def _deliver_forever(self, stop: asyncio.Event) -> None:
        """A serving process sends the ITSM notifications its jobs queue (and anyone's that fall due)."""
        if self._notifications is None:
            return
        async with self._notifications() as dispatcher:
            await dispatcher.run_forever(stop)

    async def _sign_head_every(self, period_s: float, stop: asyncio.Event) -> None:
        while not await event_set_within(stop, period_s):
            await asyncio.to_thread(self.evidence.end_run, self.store)

    def worker_alive(self, within_s: float = 10.0) -> bool:
        """Whether this process's worker loop ticked within `within_s` seconds."""
        beat = self._serving.last_beat if self._serving is not None else None
        return beat is not None and time.monotonic() - beat <= within_s

    async def _deliver(self, since: datetime, channels: list[str]) -> dict[str, int] | None:
        """Send the notifications this run queued, within the grace period; an ITSM outage never
        holds or fails the run: what is left stays pending for `gcwm notify run`."""
        with self.store.unit_of_work() as tx:
            ids = tx.outbox.pending_since(self.org.id, since, channels)
        if not ids or self._notifications is None:
            return None
        async with self._notifications() as dispatcher:
            result = await dispatcher.run_until_empty(time.monotonic() + self._notify_grace_s, ids=ids)
        # Deliveries append entries after the run's signed head: sign again, so the log verifies.
        await asyncio.to_thread(self.evidence.end_run, self.store)
        return result.to_dict()

    def _refuse(self, specs: Sequence[ChannelSpec], refusal: PolicyViolation) -> PolicyViolation:
        """Record the refusal (nothing else is written) and give it back, to be raised."""
        with self.store.unit_of_work() as tx:
            self.evidence.refusal(
                tx,
                org_id=self.org.id,
                actor=actor() or "unknown",
                correlation_id=correlation_id(),
                specs=specs,
                findings=refusal.findings,
            )
        self.evidence.end_run(self.store)
        return refusal

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
        self,
        job_id: str | None = None,
        *,
        role: Role = Role.admin,
        concurrency: int | None = None,
        on_event: EventSink | None = None,
    ) -> dict[str, Any]:
        """Finish the org's unfinished jobs, or run one failed or cancelled job again (as `role`; the
        CLI is an admin) and work it to the end."""
        self.evidence.ready(self.store)
        if job_id:
            job = self.store.get_job(job_id)
            if job.status in ("failed", "cancelled"):
                job = await self.requeue(job.id, role=role)
            elif job.org_id != self.org.id:
                msg = (
                    f"job {job.id} belongs to org {job.org_id}, not to org {self.org.id} of these credentials"
                )
                raise JobError(msg)
            ids = [job.id]
        else:
            ids = [j.id for j in self.store.unfinished_jobs(self.org.id)]
        return await self._work(self._batch(), ids, concurrency, on_event)

    async def requeue(self, job_id: str, *, role: Role) -> Job:
        """Queue a failed or cancelled job again, for this service's workers (or `resume`)."""
        return await self.store.write(
            resume_job, self.store, self.evidence, self.org.id, job_id, role, self._owner()
        )

    def _owner(self) -> QueueOwner:
        """This process: it works the jobs it queues while it lives; others take them over only once
        its lease on them runs out (a running `gcwm serve` leaves a CLI's jobs to the CLI)."""
        return QueueOwner(WorkerIdentity.process().render(), self.lease_s)

    async def cancel(self, job_id: str, *, role: Role) -> Job:
        """Cancel a job: a queued one at once, a running one after the step in hand."""
        return await self.store.write(cancel_job, self.store, self.evidence, self.org.id, job_id, role)

    def _worker(self, batch: Batch, concurrency: int | None) -> Worker:
        return Worker(
            self.store,
            batch,
            org_id=self.org.id,
            concurrency=concurrency or self.concurrency,
            lease_s=self.lease_s,
            evidence=self.evidence,
            policy=self.policy,
        )

    async def _work(
        self, batch: Batch, job_ids: list[str], concurrency: int | None, on_event: EventSink | None
    ) -> dict[str, Any]:
        jobs = await self._worker(batch, concurrency).run_until_done(job_ids, on_event)
        self.evidence.end_run(self.store)
        return run_document(self.org, jobs)


def job_details(store: Store, job_id: str) -> dict[str, Any]:
    """One job with its checkpointed steps, as `gcwm jobs show` prints it."""
    job, steps = store.job_with_steps(job_id)
    return job_steps_document(job, steps)


def job_steps_document(job: Job, steps: Sequence[JobStep]) -> dict[str, Any]:
    """`job_details`'s document of a job and its steps, read already."""
    row = job_summary(job)
    row["result"] = job.result
    row["steps"] = [
        {"step": s.step, "durationMs": s.duration_ms, "attempt": s.attempt, "data": s.data} for s in steps
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
        "resumedBy": job.resumed_by,
        "createdAt": job.created_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "error": (job.error or {}).get("message"),
    }
