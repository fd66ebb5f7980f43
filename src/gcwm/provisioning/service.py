"""The use cases: plan, provision, resume and cancel. `cli.py` (and the HTTP API) only parse and render.

Data flows one way: specs -> observe the org (once per batch) -> plan (pure) -> apply as durable jobs
through one Genesys client -> the result document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gcwm.genesys import GenesysClient
from gcwm.provisioning.apply import Timeouts
from gcwm.provisioning.batch import Batch
from gcwm.provisioning.plan import Plan, build_plan
from gcwm.provisioning.queue import enqueue_channels
from gcwm.provisioning.results import OrgRef, run_document
from gcwm.provisioning.worker import EventSink, Worker
from gcwm.spec import ChannelSpec
from gcwm.store import Job, Store


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
    ) -> None:
        self.store = store
        self.client = client
        self.org = org
        self.timeouts = timeouts or Timeouts()
        self.concurrency = concurrency
        self.lease_s = lease_s

    def _batch(self) -> Batch:
        return Batch(self.client, self.store, self.org.id, self.timeouts)

    async def plan(self, specs: Sequence[ChannelSpec]) -> Plan:
        """What `provision` would do, from the org as it is now. Writes nothing."""
        snapshot = await self._batch().observe(specs)
        return build_plan(specs, snapshot)

    async def provision(
        self,
        specs: Sequence[ChannelSpec],
        *,
        concurrency: int | None = None,
        on_event: EventSink | None = None,
    ) -> dict[str, Any]:
        """Queue a job per channel, work them to the end, and return the result document."""
        batch = self._batch()
        await batch.observe(specs)  # the one read of the org this batch's jobs plan from
        job_ids = enqueue_channels(self.store, self.org.id, list(specs))
        return await self._work(batch, job_ids, concurrency, on_event)

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
