"""A job's checkpoints: each finished step written in one transaction with the channel record it
changes, read back as its typed result.

Recording a step also says whether a cancel of the job was requested; the runner then stops before
its next step (`JobCancelled`), since the step in hand may have a create in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gcwm.observability.metrics import PROVISION_STEP_SECONDS
from gcwm.provisioning import steps
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.plan import Action, ChannelChange
from gcwm.provisioning.steps import (
    ConfigurationReady,
    CreateIntent,
    DeploymentActive,
    DeploymentReady,
    Published,
    R,
    RolledBack,
    StepResult,
    SupportedContentReady,
)
from gcwm.store import Job, Store, UnitOfWork


class JobCancelled(Exception):
    """The job's cancel was requested: stop before the next step (not an error of the channel)."""


class Checkpoints:
    """A job's finished steps, read once at claim time; each new one written in one transaction."""

    def __init__(self, store: Store, job: Job, worker_id: str, evidence: Evidence | None = None) -> None:
        self._store = store
        self._job = job
        self._worker = worker_id
        self._evidence = evidence
        recorded = store.job_steps(job.id)
        self._done = {s.step: (dict(s.data), s.duration_ms) for s in recorded}
        # When, and in which attempt (claim), each step was recorded or last acted on.
        self._stamps = {s.step: (s.finished_at, s.attempt) for s in recorded}
        self.on_step: Callable[[str], None] | None = None
        self.cancel_requested = False

    def get(self, step: str, model: type[R]) -> R | None:
        """The typed result of a finished step, or None."""
        done = self._done.get(step)
        return None if done is None else model.model_validate(done[0])

    def duration_ms(self, step: str) -> float | None:
        done = self._done.get(step)
        return None if done is None else done[1]

    def has(self, step: str) -> bool:
        return step in self._done

    def from_earlier_attempt(self, step: str) -> bool:
        """Whether a recorded step was recorded (or last acted on) by an earlier claim of the job: a
        worker that may still be running, paused past its lease."""
        stamp = self._stamps.get(step)
        return stamp is not None and stamp[1] < self._job.attempts

    async def seconds_since(self, step: str) -> float:
        """How long ago (database time) the step was recorded or last acted on."""
        stamp = self._stamps.get(step)
        if stamp is None:
            return float("inf")
        now = await asyncio.to_thread(self._store.database_now)
        return (now - stamp[0]).total_seconds()

    async def restamp(self, step: str, result: StepResult) -> None:
        """Rewrite an intent as acted on again, now and by this attempt (fenced by the lease: a worker
        that lost it raises JobError here and sends nothing)."""
        data = result.document()
        stamped = await asyncio.to_thread(self._restamp, step, data)
        self._done[step] = (data, self._done.get(step, ({}, 0.0))[1])
        self._stamps[step] = (stamped, self._job.attempts)

    def _restamp(self, step: str, data: dict[str, Any]) -> datetime:
        with self._store.unit_of_work() as tx:
            stamped = tx.jobs.restamp_step(self._job.id, self._worker, step, data)
            _mark_in_flight(tx, self._job.id, step, data, stamped)
            return stamped

    def check_cancelled(self) -> None:
        """Raise JobCancelled if a cancel was requested (called before each step)."""
        if self.cancel_requested:
            raise JobCancelled

    async def record(self, step: str, result: StepResult, duration_ms: float = 0.0) -> None:
        """Persist a finished step; raises JobError if this worker no longer holds the job."""
        data = result.document()
        cancel = await asyncio.to_thread(self._record, step, result, duration_ms)
        self._done[step] = (data, duration_ms)
        self._stamps[step] = (datetime.now(UTC), self._job.attempts)  # this attempt's (time: ours)
        self.cancel_requested = self.cancel_requested or cancel
        if self.on_step is not None and step in steps.VISIBLE_STEPS:
            self.on_step(step)

    async def step(
        self, name: str, model: type[R], run: Callable[[], Awaitable[R]], latency: dict[str, float]
    ) -> R:
        """Run a step once: its recorded result if it finished before (a resumed job), else `run()`,
        timed (histogram and `latency[name]`, in ms) and recorded. Checks for a cancel first."""
        if (done := self.get(name, model)) is not None:
            latency[name] = self.duration_ms(name) or 0.0
            return done
        self.check_cancelled()
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await run()
            outcome = "ok"
        finally:
            elapsed = time.perf_counter() - started
            PROVISION_STEP_SECONDS.labels(step=name, outcome=outcome).observe(elapsed)
        ms = round(elapsed * 1000, 1)
        await self.record(name, result, ms)
        latency[name] = ms
        return result

    async def record_rollback(self, removed: list[str], left: list[str], cleared: dict[str, None]) -> None:
        """Forget every step (their work was undone) and record what the rollback removed, at once."""
        await asyncio.to_thread(self._record_rollback, removed, left, cleared)

    def _record(self, step: str, result: StepResult, duration_ms: float) -> bool:
        job = self._job
        with self._store.unit_of_work() as tx:
            cancel = tx.jobs.record_step(job.id, self._worker, step, result.document(), duration_ms)
            if step in _INTENT_KINDS:
                _mark_in_flight(tx, job.id, step, result.document(), tx.jobs.now())
            made = _made(result)
            if made:
                tx.slots.made(job.id, made)
            fields = _channel_fields(result)
            if fields:
                tx.channels.record_ids(job.org_id, job.channel_key, **fields)
            if self._evidence is not None:
                self._evidence.for_job(
                    tx,
                    job,
                    "step.done",
                    "succeeded",
                    {"step": step, "durationMs": duration_ms},
                    configuration=fields.get("configuration_id"),
                    deployment=fields.get("deployment_id"),
                )
        return cancel

    def _record_rollback(self, removed: list[str], left: list[str], cleared: dict[str, None]) -> None:
        job = self._job
        with self._store.unit_of_work() as tx:
            discarded = tx.jobs.discard_steps(job.id, self._worker)
            result = RolledBack(removed=removed, discarded=[s for s in discarded if s != steps.ROLLED_BACK])
            tx.jobs.record_step(job.id, self._worker, steps.ROLLED_BACK, result.document(), 0.0)
            tx.channels.record_ids(job.org_id, job.channel_key, status="failed", **cleared)
            # What was removed frees its slot; what could not be removed still takes one.
            tx.slots.release(
                job.id, [kind for kind in ("deployment", "configuration") if f"{kind}_id" in cleared]
            )
        self._done = {steps.ROLLED_BACK: (result.document(), 0.0)}


#: The slot kind each create intent may make.
_INTENT_KINDS = {
    steps.CONFIGURATION_CREATE_SENT: "configuration",
    steps.DEPLOYMENT_CREATE_SENT: "deployment",
}


def _mark_in_flight(tx: UnitOfWork, job_id: str, step: str, data: dict[str, Any], stamped: datetime) -> None:
    """Until when the create this intent sends may land: its slot counts that long even if the job
    ends first (cancelled or superseded with the request on its way), gcwm.store.slots.counted."""
    kind = _INTENT_KINDS.get(step)
    if kind is None:
        return
    intent = CreateIntent.model_validate(data)
    until = stamped + timedelta(seconds=intent.in_flight_s) if intent.in_flight else None
    tx.slots.in_flight(job_id, kind, until)


def _made(result: StepResult) -> str | None:
    """The kind of object a step created (its slot is then taken for real)."""
    if isinstance(result, ConfigurationReady) and result.created:
        return "configuration"
    if isinstance(result, DeploymentReady) and result.created:
        return "deployment"
    return None


def _channel_fields(result: StepResult) -> dict[str, Any]:
    """Which fields of the channel record a finished step sets (the org's ids, for people and plans)."""
    if isinstance(result, ChannelChange):
        cfg, dep = result.configuration, result.deployment
        fields: dict[str, Any] = {}
        if cfg.id and cfg.action is not Action.CREATE:
            fields["configuration_id"] = cfg.id
        if dep.id and dep.action in (Action.UPDATE, Action.NOOP):
            fields["deployment_id"] = dep.id
        if cfg.id and result.published_hash and result.published_version:
            # The live version was seen to hold exactly the spec: the next run need not read it again.
            fields["configuration_version"] = result.published_version
            fields["configuration_hash"] = result.published_hash
        if result.supported_content.id:
            fields["supported_content_id"] = result.supported_content.id
        return fields
    if isinstance(result, ConfigurationReady):
        return {"configuration_id": result.configuration_id}
    if isinstance(result, Published):
        return {"configuration_version": result.version, "configuration_hash": result.content_hash}
    if isinstance(result, SupportedContentReady):
        return {"supported_content_id": result.profile_id}
    if isinstance(result, DeploymentReady):
        return {"deployment_id": result.deployment_id}
    if isinstance(result, DeploymentActive):
        return {"deployment_status": result.status, "snippet": result.snippet, "status": "active"}
    return {}
