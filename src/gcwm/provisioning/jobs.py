"""Durable provisioning jobs: enqueue a batch, work it with a bounded pool of leased workers.

A job's steps are checkpointed in the store, each in its own transaction together with the channel
record it changes. A worker holds a lease on its job and renews it; if the worker dies, the lease
runs out and any other gcwm process takes the job over from its last checkpoint.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from gcwm.errors import GcwmError, GenesysError, GenesysRateLimited, JobError, StoreError
from gcwm.genesys import is_outcome_unknown
from gcwm.observability.context import actor, correlation_id
from gcwm.provisioning import steps
from gcwm.provisioning.executor import ChannelProvisioner, ChannelResult, KnownIds
from gcwm.spec import ChannelSpec
from gcwm.store import Job, Store

log = structlog.get_logger(__name__)

KIND_PROVISION = "provision"
FINISHED = frozenset({"succeeded", "failed", "cancelled"})


def new_worker_id() -> str:
    """host:pid:random, so a lease names the process that holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class JobEvent:
    """Progress a worker reports: a job started, finished a step, or ended."""

    job_id: str
    channel: str
    kind: str  # started | step | succeeded | failed
    step: str = ""
    message: str = ""


def enqueue_channels(store: Store, org_id: str, specs: list[ChannelSpec]) -> list[str]:
    """Record the desired channels and queue a job for each; reuse a channel's unfinished job."""
    batch_id = uuid.uuid4().hex
    job_ids: list[str] = []
    with store.unit_of_work() as tx:
        pending = {(j.channel_name.casefold()): j for j in tx.jobs.unfinished(org_id=org_id)}
        for spec in specs:
            document = spec.to_document()
            tx.channels.upsert_desired(org_id, spec.name, document, spec.spec_hash())
            if (existing := pending.get(spec.name.casefold())) is not None and existing.spec == document:
                job_ids.append(existing.id)  # a crashed run left it: finish that one, do not add a twin
                continue
            if existing is not None:
                tx.jobs.cancel(existing.id)  # superseded by a newer spec
            job = tx.jobs.enqueue(
                batch_id=batch_id,
                org_id=org_id,
                channel_name=spec.name,
                kind=KIND_PROVISION,
                spec=document,
                actor=actor() or "unknown",
                correlation_id=correlation_id() or batch_id,
            )
            job_ids.append(job.id)
    return job_ids


class _StoreCheckpoints:
    """A job's finished steps, read once at claim time, each new one written in one transaction."""

    def __init__(self, store: Store, job: Job, worker_id: str) -> None:
        self._store = store
        self._job = job
        self._worker = worker_id
        self._done = {s.step: (dict(s.data), s.duration_ms) for s in store.job_steps(job.id)}
        self.on_step: Callable[[str], None] | None = None

    def done(self, step: str) -> tuple[dict[str, Any], float] | None:
        return self._done.get(step)

    async def record(self, step: str, data: dict[str, Any], duration_ms: float) -> None:
        await asyncio.to_thread(self._record, step, data, duration_ms)
        self._done[step] = (data, duration_ms)
        if self.on_step is not None and step in steps.VISIBLE_STEPS:
            self.on_step(step)

    def _record(self, step: str, data: dict[str, Any], duration_ms: float) -> None:
        job = self._job
        with self._store.unit_of_work() as tx:
            tx.jobs.record_step(job.id, self._worker, step, data, duration_ms)
            ids = _channel_fields(step, data)
            if ids:
                tx.channels.record_ids(job.org_id, job.channel_name, **ids)


def _channel_fields(step: str, data: dict[str, Any]) -> dict[str, Any]:
    """Which channel record fields a finished step sets."""
    if step == steps.CONFIGURATION_CREATED:
        return {"configuration_id": data["configurationId"]}
    if step == steps.CONFIGURATION_PUBLISHED:
        return {"configuration_version": data["version"]}
    if step == steps.DEPLOYMENT_CREATED:
        return {"deployment_id": data["deploymentId"]}
    if step == steps.DEPLOYMENT_ACTIVE:
        return {"deployment_status": data["status"], "snippet": data["snippet"], "status": "active"}
    if step == steps.ROLLED_BACK:
        return {
            "configuration_id": None,
            "configuration_version": None,
            "deployment_id": None,
            "deployment_status": None,
            "snippet": None,
            "status": "failed",
        }
    return {}


def result_document(result: ChannelResult) -> dict[str, Any]:
    """A finished channel as stored in the job and printed by `--output json`."""
    return {
        "name": result.name,
        "outcome": result.outcome,
        "configuration": {"id": result.configuration_id, "version": result.configuration_version},
        "deployment": {"id": result.deployment_id, "status": result.deployment_status},
        "snippet": result.snippet,
        "latencyMs": result.latency_ms,
        "notes": result.notes,
    }


def _is_passing(exc: GcwmError) -> bool:
    """A failure that may well pass if the job runs again later (not a refusal or a bad spec)."""
    if isinstance(exc, (StoreError, GenesysRateLimited)):
        return True
    return isinstance(exc, GenesysError) and is_outcome_unknown(exc)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class Worker:
    """Claims and runs jobs of one org, `concurrency` at a time, each under a renewed lease."""

    def __init__(
        self,
        store: Store,
        provisioner: ChannelProvisioner,
        *,
        org_id: str,
        concurrency: int = 8,
        lease_s: float = 15.0,
        worker_id: str | None = None,
        idle_poll_s: float = 0.5,
        max_attempts: int = 3,
    ) -> None:
        self._store = store
        self._provisioner = provisioner
        self._org_id = org_id
        self._concurrency = concurrency
        self._lease_s = lease_s
        self.worker_id = worker_id or new_worker_id()
        self._idle_poll_s = idle_poll_s
        self._max_attempts = max_attempts

    async def run_until_done(
        self, job_ids: list[str], on_event: Callable[[JobEvent], None] | None = None
    ) -> list[Job]:
        """Work the org's queue until every job in `job_ids` has finished (by us or others)."""
        wanted = set(job_ids)
        done = asyncio.Event()
        await asyncio.to_thread(self._reap_dead_workers)

        async def slot() -> None:
            while not done.is_set():
                job = await asyncio.to_thread(self._claim)
                if job is None:
                    if await asyncio.to_thread(self._all_finished, wanted):
                        done.set()
                        return
                    await asyncio.sleep(self._idle_poll_s)  # others hold the rest, or leases run out
                    continue
                await self._run_job(job, on_event)

        await asyncio.gather(*(slot() for _ in range(self._concurrency)))
        return [self._store.get_job(job_id) for job_id in job_ids]

    def _reap_dead_workers(self) -> None:
        """Free at once the jobs of gcwm processes on this host that died (kill -9, power cut).

        Leases of processes elsewhere simply run out; a pid reused since is taken for alive,
        which only means waiting for the lease, never running a job twice.
        """
        host = socket.gethostname()
        dead = set()
        for job in self._store.unfinished_jobs(self._org_id):
            owner = job.lease_owner or ""
            owner_host, _, rest = owner.partition(":")
            pid = rest.partition(":")[0]
            if job.status == "running" and owner_host == host and pid.isdigit() and not _is_alive(int(pid)):
                dead.add(owner)
        if dead:
            with self._store.unit_of_work() as tx:
                freed = tx.jobs.expire_leases(dead)
            log.warning("jobs.dead_workers_reaped", workers=sorted(dead), jobs=freed)

    def _claim(self) -> Job | None:
        with self._store.unit_of_work() as tx:
            return tx.jobs.claim_next(self.worker_id, self._lease_s, org_id=self._org_id)

    def _renew(self, job_id: str) -> bool:
        with self._store.unit_of_work() as tx:
            return tx.jobs.renew_lease(job_id, self.worker_id, self._lease_s)

    def _all_finished(self, job_ids: set[str]) -> bool:
        return all(self._store.get_job(j).status in FINISHED for j in job_ids)

    async def _run_job(self, job: Job, on_event: Callable[[JobEvent], None] | None) -> None:
        def emit(kind: str, step: str = "", message: str = "") -> None:
            if on_event is not None:
                on_event(JobEvent(job.id, job.channel_name, kind, step, message))

        bound = log.bind(job_id=job.id, channel=job.channel_name, attempt=job.attempts)
        bound.info("job.claimed", worker=self.worker_id)
        emit("started")
        checkpoints = await asyncio.to_thread(_StoreCheckpoints, self._store, job, self.worker_id)
        checkpoints.on_step = lambda step: emit("step", step)
        heartbeat = asyncio.create_task(self._keep_lease(job.id))
        try:
            spec = ChannelSpec.model_validate(job.spec)
            record = await asyncio.to_thread(self._store.get_channel, job.org_id, job.channel_name)
            known = KnownIds(
                configuration_id=record.configuration_id if record else None,
                deployment_id=record.deployment_id if record else None,
            )
            work = asyncio.create_task(
                self._provisioner.provision(spec, job_id=job.id, checkpoints=checkpoints, known=known)
            )
            # The heartbeat only returns when the lease is lost (taken over, or the job cancelled).
            finished, _ = await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
            if work not in finished:
                work.cancel()
                bound.warning("job.lease_lost")
                emit("failed", message="lease lost: another worker took the job over, or it was cancelled")
                return
            result = work.result()
        except JobError as exc:
            bound.warning("job.lease_lost", error=exc.message)
            emit("failed", message=exc.message)
            return
        except GcwmError as exc:
            if _is_passing(exc) and job.attempts < self._max_attempts:
                # Genesys or the database was briefly unwell beyond the call-level retries: queue
                # the job again; it resumes from its checkpoints.
                bound.warning("job.released", error=exc.message)
                await asyncio.to_thread(self._release, job, exc.to_dict())
                return
            bound.warning("job.failed", error=exc.message)
            await asyncio.to_thread(self._finish, job, "failed", None, exc.to_dict())
            emit("failed", message=exc.message)
            return
        except Exception as exc:
            # A bug, not a Genesys answer: fail the job (resumable) instead of retrying it forever.
            bound.exception("job.crashed")
            error = {"error": type(exc).__name__, "message": f"internal error: {exc}"}
            await asyncio.to_thread(self._finish, job, "failed", None, error)
            emit("failed", message=error["message"])
            return
        finally:
            heartbeat.cancel()
        document = {**result_document(result), "worker": self.worker_id}
        await asyncio.to_thread(self._finish, job, "succeeded", document, None)
        bound.info("job.succeeded", outcome=result.outcome)
        emit("succeeded", message=result.outcome)

    def _release(self, job: Job, error: dict[str, Any]) -> None:
        with self._store.unit_of_work() as tx:
            tx.jobs.release(job.id, self.worker_id, error=error)

    def _finish(
        self,
        job: Job,
        status: Literal["succeeded", "failed"],
        result: dict[str, Any] | None,
        error: dict[str, Any] | None,
    ) -> None:
        with self._store.unit_of_work() as tx:
            tx.jobs.finish(job.id, self.worker_id, status=status, result=result, error=error)
            if status == "failed":
                tx.channels.record_ids(job.org_id, job.channel_name, status="failed")

    async def _keep_lease(self, job_id: str) -> None:
        """Renew the lease until cancelled; return (ending the job) if it was lost.

        A database hiccup is retried while the lease still runs: giving up early would leave the
        job leased to nobody working on it until the lease ran out."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                owned = await asyncio.to_thread(self._renew, job_id)
            except StoreError as exc:
                if time.monotonic() - renewed >= self._lease_s:
                    log.warning("job.lease_expired", job_id=job_id, error=exc.message)
                    return
                log.warning("job.lease_renewal_failed", job_id=job_id, error=exc.message)
                continue
            if not owned:
                return
            renewed = time.monotonic()
