"""Work the org's queue with a bounded pool of leased slots, one job at a time per slot.

A worker holds a lease on its job and renews it; if the worker dies, the lease runs out and any
other gcwm process takes the job over from its last checkpoint. Each job runs under its own actor
and correlation id, which go on every Genesys call and log line of it.

What happens when a job fails is decided in one place, `gcwm.errors.is_transient`:
- a passing failure (429, 502/503/504, no answer, the database) queues the job again with its
  checkpoints, up to `max_attempts` claims; then it fails, resumable where it stopped;
- anything else is a refusal: what the job created is rolled back and its steps discarded, so
  `gcwm jobs resume` plans it afresh.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from gcwm.errors import GcwmError, JobError, StoreError, is_transient
from gcwm.observability.calls import CallSamples, recording_calls
from gcwm.observability.context import request_context
from gcwm.observability.metrics import JOB_SECONDS
from gcwm.policy import LocalPolicy
from gcwm.provisioning import steps
from gcwm.provisioning.admission import missing_slots, reserve_for_plan
from gcwm.provisioning.apply import ChannelApply
from gcwm.provisioning.batch import Batch
from gcwm.provisioning.checkpoints import Checkpoints, JobCancelled
from gcwm.provisioning.destroy import ChannelDestroy, record_destroyed
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.identity import WorkerIdentity
from gcwm.provisioning.observe import OrgSnapshot
from gcwm.provisioning.plan import ChannelChange
from gcwm.provisioning.queue import SUPERSEDED
from gcwm.provisioning.results import audit_fields, channel_document
from gcwm.provisioning.roles import KIND_DESTROY
from gcwm.provisioning.rollback import roll_back
from gcwm.provisioning.tools import ChannelResult
from gcwm.provisioning.writes import wait_for_earlier_creates
from gcwm.spec import ChannelSpec
from gcwm.store import Job, Store, UnitOfWork, background_writes
from gcwm.waits import event_set_within

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class JobEvent:
    """Progress a worker reports: a job started, finished a step, or ended."""

    job_id: str
    channel: str
    kind: Literal["started", "step", "succeeded", "failed", "cancelled"]
    step: str = ""
    message: str = ""


EventSink = Callable[[JobEvent], None]


class Worker:
    """Claims and runs jobs of one org, `concurrency` at a time, each under a renewed lease."""

    def __init__(
        self,
        store: Store,
        batch: Batch,
        *,
        org_id: str,
        concurrency: int = 32,
        lease_s: float = 15.0,
        idle_poll_s: float = 0.5,
        max_attempts: int = 3,
        evidence: Evidence | None = None,
        reap_every_s: float = 30.0,
        policy: LocalPolicy | None = None,
    ) -> None:
        if concurrency < 1:
            msg = f"a worker runs at least one job at a time, not {concurrency}"
            raise ValueError(msg)
        self._store = store
        self._batch = batch
        self._org_id = org_id
        self._concurrency = concurrency
        self._lease_s = lease_s
        self.worker_id = WorkerIdentity.current().render()
        self._process = WorkerIdentity.process().render()  # who queued the jobs this process works
        self._idle_poll_s = idle_poll_s
        self._max_attempts = max_attempts
        self._evidence = evidence
        self._reap_every_s = reap_every_s
        self._policy = policy or LocalPolicy()
        #: When the claim loop last went round (time.monotonic()); None while no loop runs.
        self.last_beat: float | None = None

    async def run_until_done(self, job_ids: list[str], on_event: EventSink | None = None) -> list[Job]:
        """Work the org's queue until every job in `job_ids` has finished (by us or others)."""

        async def finished() -> bool:
            return await asyncio.to_thread(self._store.count_unfinished, job_ids) == 0

        with background_writes():  # the jobs' writes, in this task and the tasks it starts
            # Cut off (Ctrl-C), the jobs in hand are handed back to the queue, as `gcwm` then says.
            await self._claim_loop(on_event, finished, asyncio.Event(), hand_back=True)
        return [self._store.get_job(job_id) for job_id in job_ids]

    async def run_forever(self, stop: asyncio.Event, on_event: EventSink | None = None) -> None:
        """Work any job of the org (provision or destroy, queued by any process) until `stop` is set.

        On stop the jobs in hand are cut off and handed back to the queue at once (queued, their
        checkpoints kept) rather than left to their leases: another replica, or this one when it
        starts again, continues them without waiting a lease out. Cutting a step off is as safe as a
        crash: creates leave an intent to look up first, and deletes can be sent again."""

        async def stopping() -> bool:
            return stop.is_set()

        with background_writes():  # a request's writes go first (gcwm.store.background_writes)
            await self._claim_loop(on_event, stopping, stop, hand_back=True)

    async def _claim_loop(
        self,
        on_event: EventSink | None,
        done: Callable[[], Awaitable[bool]],
        stop: asyncio.Event,
        *,
        hand_back: bool = False,
    ) -> None:
        """One claimer fills free slots: idle slots never poll the database on their own, and when
        nothing is claimable it looks again once a job of ours ends, or after `idle_poll_s`. It goes
        round at least every `idle_poll_s` (`last_beat`), and reaps dead workers every `reap_every_s`."""
        emit = on_event or (lambda _event: None)
        await asyncio.to_thread(self._reap_dead_workers)
        reaped = renewed = time.monotonic()
        slots = asyncio.Semaphore(self._concurrency)
        wake = asyncio.Event()  # a job of ours ended, or stop was set
        running: dict[asyncio.Task[None], Job] = {}

        async def run(job: Job) -> None:
            try:
                # The job's own recorder of Genesys calls; a run's recorder (gcwm provision), when
                # open, keeps receiving them too.
                with (
                    request_context(actor=job.actor, correlation_id=job.correlation_id),
                    recording_calls() as calls,
                ):
                    await self._run_job(job, emit, calls)
            except (JobError, StoreError) as exc:
                # Ending the job failed: its lease was lost (its new owner ends it) or the database
                # is away (the lease runs out and it is taken over). Said here, never left to escape
                # the task unseen ("Task exception was never retrieved").
                log.warning("job.not_ended", job_id=job.id, error=exc.message)
                emit(JobEvent(job.id, job.channel_name, "failed", message=exc.message))
            finally:
                slots.release()
                wake.set()

        async def relay_stop() -> None:
            await stop.wait()
            wake.set()

        watcher = asyncio.create_task(relay_stop())
        try:
            while not stop.is_set():
                self.last_beat = time.monotonic()
                if self.last_beat - reaped >= self._reap_every_s:
                    await asyncio.to_thread(self._reap_dead_workers)
                    reaped = time.monotonic()
                if self.last_beat - renewed >= self._lease_s / 3:
                    await asyncio.to_thread(self._renew_queued)
                    renewed = time.monotonic()
                wake.clear()  # before looking: a job ending meanwhile wakes the wait below at once
                if not slots.locked():
                    await slots.acquire()
                    job = await asyncio.to_thread(self._claim)
                    if job is not None:
                        task = asyncio.create_task(run(job))
                        running[task] = job
                        task.add_done_callback(lambda t: running.pop(t, None))
                        continue
                    slots.release()
                    if await done():
                        break
                # All slots busy, or others hold the rest, a channel's earlier job is still running,
                # or leases have yet to run out.
                await event_set_within(wake, self._idle_poll_s)
        finally:
            watcher.cancel()
            in_hand = list(running.values())
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if hand_back and in_hand:
                await asyncio.to_thread(self._hand_back, in_hand)
            self.last_beat = None

    def _hand_back(self, jobs: list[Job]) -> None:
        for job in jobs:
            try:
                error = {"error": "WorkerStopped", "message": "its worker stopped; it resumes"}
                self._release(job, error, keep=False)  # another replica may go on at once
            except (JobError, StoreError) as exc:
                # It ended meanwhile, or the database is away: then its lease runs out instead.
                log.info("job.not_handed_back", job_id=job.id, error=exc.message)
            else:
                log.info("job.handed_back", job_id=job.id, worker=self.worker_id)

    def _reap_dead_workers(self) -> None:
        """Free at once the jobs of gcwm processes of this host, boot and pid namespace that died."""
        dead = set()
        for lease_owner in self._store.lease_owners(self._org_id):  # running jobs only: few
            owner = WorkerIdentity.parse(lease_owner)
            if owner is not None and owner.is_dead_here():
                dead.add(lease_owner)
        if dead:
            with self._store.unit_of_work() as tx:
                freed = tx.jobs.expire_leases(dead)
            log.warning("jobs.dead_workers_reaped", workers=sorted(dead), jobs=freed)

    def _claim(self) -> Job | None:
        with self._store.unit_of_work() as tx:
            return tx.jobs.claim_next(self.worker_id, self._lease_s, org_id=self._org_id, owner=self._process)

    def _renew_queued(self) -> None:
        """Keep this process's lease on the jobs it queued: others leave them to it while it lives."""
        with self._store.unit_of_work() as tx:
            tx.jobs.renew_queued(self._process, self._lease_s)

    async def _run_job(self, job: Job, emit: EventSink, calls: CallSamples) -> None:
        bound = log.bind(job_id=job.id, channel=job.channel_name, attempt=job.attempts)
        bound.info("job.claimed", worker=self.worker_id)
        emit(JobEvent(job.id, job.channel_name, "started"))
        checkpoints = await asyncio.to_thread(Checkpoints, self._store, job, self.worker_id, self._evidence)
        checkpoints.on_step = lambda step: emit(JobEvent(job.id, job.channel_name, "step", step))
        heartbeat = asyncio.create_task(self._keep_lease(job.id, checkpoints))
        work = asyncio.create_task(self._work_of(job, checkpoints))
        try:
            # The heartbeat only returns when the lease is lost (taken over, or ended by a cancel).
            finished, _ = await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
            if work not in finished:
                work.cancel()
                bound.warning("job.lease_lost")
                emit(
                    JobEvent(
                        job.id, job.channel_name, "failed", message="lease lost: another worker took over"
                    )
                )
                return
            document = {**work.result(), "worker": self.worker_id}
        except JobCancelled:
            why = await asyncio.to_thread(self._why_cancelled, job)
            await asyncio.to_thread(self._finish, job, "cancelled", None, why, calls)
            bound.info("job.cancelled")
            emit(JobEvent(job.id, job.channel_name, "cancelled", message="cancelled"))
            return
        except JobError as exc:
            bound.warning("job.lease_lost", error=exc.message)
            emit(JobEvent(job.id, job.channel_name, "failed", message=exc.message))
            return
        except GcwmError as exc:
            await self._fail(job, checkpoints, exc, emit, calls)
            return
        except Exception as exc:
            # A bug, not a Genesys answer: fail the job (resumable) instead of retrying it forever.
            bound.exception("job.crashed")
            error = {"error": type(exc).__name__, "message": f"internal error: {exc}"}
            await asyncio.to_thread(self._finish, job, "failed", None, error, calls)
            emit(JobEvent(job.id, job.channel_name, "failed", message=error["message"]))
            return
        finally:
            heartbeat.cancel()
            if not work.done():  # this job was cut off (the worker stops): so is its work, now
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
        await asyncio.to_thread(self._finish, job, "succeeded", document, None, calls)
        bound.info("job.succeeded", outcome=document["outcome"])
        emit(JobEvent(job.id, job.channel_name, "succeeded", message=document["outcome"]))

    async def _work_of(self, job: Job, checkpoints: Checkpoints) -> dict[str, Any]:
        """The job's work, by its kind; the result document it stores."""
        if job.kind == KIND_DESTROY:
            record = await asyncio.to_thread(self._store.get_channel, job.org_id, job.channel_key)
            return await ChannelDestroy(
                self._batch.tools, checkpoints, job=job, record=record, store=self._store
            ).run()
        return channel_document(await self._provision(job, checkpoints))

    async def _provision(self, job: Job, checkpoints: Checkpoints) -> ChannelResult:
        spec = ChannelSpec.model_validate(job.spec)
        change = checkpoints.get(steps.PLANNED, ChannelChange)
        if change is None:
            checkpoints.check_cancelled()
            started = time.perf_counter()
            # An earlier job of the channel may have a create in flight: plan once it must have ended.
            until = await wait_for_earlier_creates(self._store, job)
            change, snapshot = await self._batch.plan(job, spec, not_before=until)
            await asyncio.to_thread(self._reserve, job, spec, change, snapshot)
            await checkpoints.record(steps.PLANNED, change, round((time.perf_counter() - started) * 1000, 1))
        elif await asyncio.to_thread(self._missing, job, spec, change):
            # Resumed with a plan whose slots it gave back (a cancelled or failed job): take them again
            # under the limits, against the org as read now.
            await asyncio.to_thread(self._reserve, job, spec, change, await self._batch.recent([spec]))
        apply = ChannelApply(self._batch.tools, checkpoints, job_id=job.id, spec=spec, change=change)
        started = time.perf_counter()
        result = await apply.run()
        planned = checkpoints.duration_ms(steps.PLANNED) or 0.0
        result.latency_ms = {steps.PLANNED: planned, **result.latency_ms}
        result.latency_ms["total"] = round(planned + (time.perf_counter() - started) * 1000, 1)
        return result

    async def _fail(
        self, job: Job, checkpoints: Checkpoints, exc: GcwmError, emit: EventSink, calls: CallSamples
    ) -> None:
        bound = log.bind(job_id=job.id, channel=job.channel_name, attempt=job.attempts)
        if is_transient(exc):
            if job.attempts < self._max_attempts:
                # Genesys or the database was briefly unwell beyond the call-level retries: queue the
                # job again; it resumes from its checkpoints.
                bound.warning("job.released", error=exc.message)
                # Its calls so far are not stored: only a job's last attempt keeps its call timings.
                await asyncio.to_thread(self._release, job, exc.to_dict())
                return
            exc.message += (
                f" (gave up after {job.attempts} attempts; what was done is kept: "
                f"`gcwm jobs resume {job.id}` continues where it stopped)"
            )
        elif job.kind != KIND_DESTROY:  # a destroy has nothing to undo: resuming it carries on
            try:
                await roll_back(
                    self._batch.tools.client, checkpoints, exc, budget_s=self._batch.tools.timeouts.rollback_s
                )
            except JobError:
                return  # lost the lease meanwhile: the job's new owner decides
        bound.warning("job.failed", error=exc.message)
        await asyncio.to_thread(self._finish, job, "failed", None, exc.to_dict(), calls)
        emit(JobEvent(job.id, job.channel_name, "failed", message=exc.message))

    def _reserve(self, job: Job, spec: ChannelSpec, change: ChannelChange, snapshot: OrgSnapshot) -> None:
        """The slots a plan made at run time needs beyond the job's own (LimitExceeded if no room)."""
        with self._store.unit_of_work() as tx:
            taken = reserve_for_plan(tx, job, spec, change, snapshot, self._policy)
        if taken:
            log.info("job.slots_reserved_at_plan", job_id=job.id, kinds=taken)

    def _missing(self, job: Job, spec: ChannelSpec, change: ChannelChange) -> bool:
        with self._store.reading() as tx:
            return bool(missing_slots(tx, job, spec, change))

    def _why_cancelled(self, job: Job) -> dict[str, Any]:
        """The error a cancelled job ends with: the newer job that superseded it, if one did (said
        when the cancel was asked), else how to run it again."""
        asked = self._store.get_job(job.id).error
        return asked if asked is not None and asked.get("error") == SUPERSEDED else _cancelled()

    def _release(self, job: Job, error: dict[str, Any], *, keep: bool = True) -> None:
        """Queue a job again: for this process while it lives (`keep`), or for anyone now."""
        owner = self._process if keep else None
        with self._store.unit_of_work() as tx:
            tx.jobs.release(job.id, self.worker_id, error=error, owner=owner, lease_s=self._lease_s)

    def _finish(
        self,
        job: Job,
        status: Literal["succeeded", "failed", "cancelled"],
        result: dict[str, Any] | None,
        error: dict[str, Any] | None,
        calls: CallSamples | None = None,
    ) -> None:
        with self._store.unit_of_work() as tx:
            tx.jobs.finish(job.id, self.worker_id, status=status, result=result, error=error)
            if calls is not None:
                tx.call_timings.add(job.id, calls.calls)
            # Slots the job reserved but never used are free again; made ones stay counted.
            tx.slots.release(job.id, held_only=True)
            if status == "failed":
                tx.channels.record_ids(job.org_id, job.channel_key, status="failed")
            if job.kind == KIND_DESTROY and status == "succeeded" and result is not None:
                record_destroyed(tx, job, result, self._evidence)
            elif self._evidence is not None:
                _record_end(self._evidence, tx, job, status, result, error)
            ended = tx.jobs.now()  # the database's clock, which stamped started_at too
        if job.started_at is not None:
            JOB_SECONDS.labels(kind=job.kind, status=status).observe((ended - job.started_at).total_seconds())

    async def _keep_lease(self, job_id: str, checkpoints: Checkpoints) -> None:
        """Renew the lease until cancelled; return (ending the job) if it was lost.

        A database hiccup is retried while the lease still runs: giving up early would leave the
        job leased to nobody working on it until the lease ran out. A requested cancel is passed on
        to the job, which stops before its next step."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                state = await asyncio.to_thread(self._renew, job_id)
            except StoreError as exc:
                if time.monotonic() - renewed >= self._lease_s:
                    log.warning("job.lease_expired", job_id=job_id, error=exc.message)
                    return
                log.warning("job.lease_renewal_failed", job_id=job_id, error=exc.message)
                continue
            if state == "lost":
                return
            if state == "cancel_requested":
                checkpoints.cancel_requested = True
            renewed = time.monotonic()

    def _renew(self, job_id: str) -> str:
        with self._store.unit_of_work() as tx:
            return tx.jobs.renew_lease(job_id, self.worker_id, self._lease_s)


def _cancelled() -> dict[str, str]:
    return {
        "error": "JobCancelled",
        "message": "cancelled before it finished; `gcwm jobs resume ID` runs it again",
    }


def _record_end(
    evidence: Evidence,
    tx: UnitOfWork,
    job: Job,
    status: str,
    result: dict[str, Any] | None,
    error: dict[str, Any] | None,
) -> None:
    """The channel's outcome as an audit entry, and as a notification if the channel subscribes."""
    if status == "succeeded" and result is not None:
        configuration, deployment = result["configuration"], result["deployment"]
        summary = {
            "outcome": result["outcome"],
            "specHash": _spec_hash(job),
            "latencyMs": result["latencyMs"],
        }
        # What changed, field by field, as the job planned it (issue 24, item 7).
        if fields := audit_fields(tx.jobs.steps(job.id)):
            summary["fields"] = fields
        head = evidence.for_job(
            tx,
            job,
            f"channel.{result['outcome']}",
            "succeeded",
            summary,
            configuration=configuration["id"],
            deployment=deployment["id"],
        )
        data = {
            "outcome": result["outcome"],
            "configuration": configuration,
            "deployment": deployment,
            "latencyMs": result["latencyMs"].get("total"),
            "jobId": job.id,
        }
        evidence.notify(tx, job, "channel.provisioned", data, head)
        return
    if status == "cancelled":
        evidence.for_job(tx, job, "job.cancelled", "cancelled", {})
        return
    failure = {"error": (error or {}).get("error"), "message": (error or {}).get("message")}
    action = "channel.destroy_failed" if job.kind == KIND_DESTROY else "channel.failed"
    head = evidence.for_job(tx, job, action, "failed", {**failure, "specHash": _spec_hash(job)})
    evidence.notify(tx, job, "channel.failed", {**failure, "outcome": "failed", "jobId": job.id}, head)


def _spec_hash(job: Job) -> str:
    return ChannelSpec.model_validate(job.spec).spec_hash()
