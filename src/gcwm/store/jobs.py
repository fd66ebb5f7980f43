"""Jobs and their recorded steps: enqueue, claim under a lease, record, finish, cancel, resume."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Literal, NoReturn
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.errors import JobError
from gcwm.store.models import JOB_STATUSES, Job, JobStep
from gcwm.store.sql import database_errors, insert_for
from gcwm.store.tables import job_steps, jobs
from gcwm.store.types import UtcDateTime, utcnow

#: A job id prefix shorter than this is never matched, as with git's short hashes.
MIN_ID_PREFIX = 6

_UNFINISHED = ("queued", "running")
_RESUMABLE = ("failed", "cancelled")


class JobRepository:
    """Job rows, read and written on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def enqueue(
        self,
        *,
        batch_id: str,
        org_id: str,
        channel_name: str,
        kind: str,
        spec: dict[str, Any],
        actor: str,
        correlation_id: str,
    ) -> Job:
        """Add a queued job and return it."""
        now = utcnow()
        statement = (
            jobs.insert()
            .values(
                id=str(uuid4()),
                batch_id=batch_id,
                org_id=org_id,
                channel_name=channel_name,
                kind=kind,
                status="queued",
                spec=spec,
                actor=actor,
                correlation_id=correlation_id,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .returning(*jobs.c)
        )
        with self._errors(f"enqueueing a {kind} job for channel {channel_name!r} in org {org_id}"):
            return _job(self._connection.execute(statement).one())

    def claim_next(
        self,
        worker_id: str,
        lease_s: float,
        *,
        batch_id: str | None = None,
        org_id: str | None = None,
    ) -> Job | None:
        """Lease the oldest queued job, or a running one whose lease expired; None if there is none."""
        now = utcnow()
        claimable = _is_claimable(now)
        candidate = sa.select(jobs.c.id).where(claimable)
        if batch_id is not None:
            candidate = candidate.where(jobs.c.batch_id == batch_id)
        if org_id is not None:
            candidate = candidate.where(jobs.c.org_id == org_id)
        # PostgreSQL: lock the row and skip rows other claimers hold, so workers do not queue behind
        # each other. SQLite ignores FOR UPDATE; its BEGIN IMMEDIATE already excludes other writers.
        candidate = (
            candidate.order_by(jobs.c.created_at, jobs.c.id).limit(1).with_for_update(skip_locked=True)
        )
        with self._errors(f"worker {worker_id} claiming a job"):
            job_id = self._connection.execute(candidate).scalar_one_or_none()
            if job_id is None:
                return None
            # Compare-and-set: repeats the claimable test, so a claim can never take a live lease.
            claim = (
                jobs.update()
                .where(jobs.c.id == job_id, claimable)
                .values(
                    status="running",
                    lease_owner=worker_id,
                    lease_expires_at=_lease_end(now, lease_s),
                    attempts=jobs.c.attempts + 1,
                    started_at=sa.func.coalesce(jobs.c.started_at, sa.literal(now, UtcDateTime())),
                    updated_at=now,
                )
                .returning(*jobs.c)
            )
            row = self._connection.execute(claim).first()
        # None only if the row changed between the two statements; the worker simply polls again.
        return None if row is None else _job(row)

    def renew_lease(self, job_id: str, worker_id: str, lease_s: float) -> bool:
        """Extend this worker's lease; False if it no longer holds it (taken over, or cancelled)."""
        now = utcnow()
        renew = (
            jobs.update()
            .where(_is_held_by(job_id, worker_id))
            .values(lease_expires_at=_lease_end(now, lease_s), updated_at=now)
        )
        with self._errors(f"worker {worker_id} renewing the lease on job {job_id}"):
            return self._connection.execute(renew).rowcount == 1

    def expire_leases(self, worker_ids: Iterable[str]) -> int:
        """End the leases of workers known to be dead, so their jobs can be taken over now."""
        owners = list(worker_ids)
        if not owners:
            return 0
        now = utcnow()
        expire = (
            jobs.update()
            .where(jobs.c.status == "running", jobs.c.lease_owner.in_(owners))
            .values(lease_expires_at=now - timedelta(seconds=1), updated_at=now)
        )
        with self._errors("expiring the leases of dead workers"):
            return int(self._connection.execute(expire).rowcount)

    def record_step(
        self, job_id: str, worker_id: str, step: str, data: dict[str, Any], duration_ms: float
    ) -> None:
        """Record a finished step; recording the same step again does nothing.

        Raises JobError if the worker no longer holds the job's lease.
        """
        with self._errors(f"recording step {step!r} of job {job_id}"):
            attempt = self._touch_held(job_id, worker_id, f"record step {step!r}")
            # The row lock taken by _touch_held keeps this max() stable until commit.
            last_seq = self._connection.execute(
                sa.select(sa.func.max(job_steps.c.seq)).where(job_steps.c.job_id == job_id)
            ).scalar_one_or_none()
            insert = (
                insert_for(self._connection, job_steps)
                .values(
                    job_id=job_id,
                    step=step,
                    seq=(last_seq or 0) + 1,
                    data=data,
                    duration_ms=duration_ms,
                    attempt=attempt,
                    finished_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=[job_steps.c.job_id, job_steps.c.step])
            )
            self._connection.execute(insert)

    def steps(self, job_id: str) -> builtins.list[JobStep]:
        """The steps a job recorded, in the order it recorded them."""
        query = sa.select(job_steps).where(job_steps.c.job_id == job_id).order_by(job_steps.c.seq)
        with self._errors(f"reading the steps of job {job_id}"):
            return [JobStep(**row._mapping) for row in self._connection.execute(query)]

    def finish(
        self,
        job_id: str,
        worker_id: str,
        *,
        status: Literal["succeeded", "failed"],
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        """End a running job and release its lease. Raises JobError if the worker lost the lease."""
        if status not in ("succeeded", "failed"):
            msg = f"job {job_id}: a worker finishes a job as succeeded or failed, not {status!r}"
            raise JobError(msg)
        now = utcnow()
        finish = (
            jobs.update()
            .where(_is_held_by(job_id, worker_id))
            .values(
                status=status,
                result=result,
                error=error,
                lease_owner=None,
                lease_expires_at=None,
                finished_at=now,
                updated_at=now,
            )
        )
        with self._errors(f"finishing job {job_id} as {status}"):
            if self._connection.execute(finish).rowcount != 1:
                self._raise_lease_lost(job_id, worker_id, f"finish it as {status}")

    def release(self, job_id: str, worker_id: str, *, error: dict[str, Any]) -> None:
        """Put a running job back in the queue (a passing failure), keeping its steps and the error.

        Raises JobError if the worker lost the lease."""
        now = utcnow()
        release = (
            jobs.update()
            .where(_is_held_by(job_id, worker_id))
            .values(status="queued", error=error, lease_owner=None, lease_expires_at=None, updated_at=now)
        )
        with self._errors(f"releasing job {job_id}"):
            if self._connection.execute(release).rowcount != 1:
                self._raise_lease_lost(job_id, worker_id, "release it")

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (its worker loses the lease); cancelling twice is harmless.

        Raises JobError if the job is unknown or already succeeded or failed.
        """
        job = self.get(job_id)
        now = utcnow()
        cancel = (
            jobs.update()
            .where(jobs.c.id == job.id, jobs.c.status.in_(_UNFINISHED))
            .values(
                status="cancelled", lease_owner=None, lease_expires_at=None, finished_at=now, updated_at=now
            )
            .returning(*jobs.c)
        )
        with self._errors(f"cancelling job {job.id}"):
            row = self._connection.execute(cancel).first()
        if row is not None:
            return _job(row)
        current = self.get(job.id)
        if current.status == "cancelled":
            return current
        msg = f"job {job.id} already {current.status}; only queued or running jobs can be cancelled"
        raise JobError(msg)

    def requeue(self, job_id: str) -> Job:
        """Put a failed or cancelled job back in the queue; its recorded steps are kept, so it resumes.

        Raises JobError if the job is unknown or not failed or cancelled.
        """
        job = self.get(job_id)
        requeue = (
            jobs.update()
            .where(jobs.c.id == job.id, jobs.c.status.in_(_RESUMABLE))
            .values(
                status="queued",
                error=None,
                result=None,
                lease_owner=None,
                lease_expires_at=None,
                finished_at=None,
                updated_at=utcnow(),
            )
            .returning(*jobs.c)
        )
        with self._errors(f"requeueing job {job.id}"):
            row = self._connection.execute(requeue).first()
        if row is None:
            current = self.get(job.id)
            msg = f"job {job.id} is {current.status}; only failed or cancelled jobs can be resumed"
            raise JobError(msg)
        return _job(row)

    def get(self, job_id: str) -> Job:
        """The job with this id, or with this unique id prefix of at least 6 characters.

        Raises JobError if no job, or more than one, matches.
        """
        with self._errors(f"reading job {job_id}"):
            row = self._connection.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
            if row is not None:
                return _job(row)
            if len(job_id) < MIN_ID_PREFIX:
                msg = f"no job with id {job_id!r} (give the full id or at least {MIN_ID_PREFIX} characters)"
                raise JobError(msg)
            matches = self._connection.execute(
                sa.select(jobs).where(jobs.c.id.startswith(job_id, autoescape=True)).limit(2)
            ).all()
        if not matches:
            msg = f"no job with id or id prefix {job_id!r}"
            raise JobError(msg)
        if len(matches) > 1:
            msg = f"job id prefix {job_id!r} matches more than one job; give more characters"
            raise JobError(msg)
        return _job(matches[0])

    def list(
        self, *, status: str | None = None, batch_id: str | None = None, limit: int = 50
    ) -> builtins.list[Job]:
        """Jobs, newest first, optionally only those with this status or in this batch."""
        query = sa.select(jobs)
        if status is not None:
            query = query.where(jobs.c.status == status)
        if batch_id is not None:
            query = query.where(jobs.c.batch_id == batch_id)
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        with self._errors("listing jobs"):
            return [_job(row) for row in self._connection.execute(query)]

    def counts(self, batch_id: str) -> dict[str, int]:
        """How many of the batch's jobs are in each status; every status is present, zero or not."""
        query = (
            sa.select(jobs.c.status, sa.func.count())
            .where(jobs.c.batch_id == batch_id)
            .group_by(jobs.c.status)
        )
        counts: dict[str, int] = dict.fromkeys(JOB_STATUSES, 0)
        with self._errors(f"counting the jobs of batch {batch_id}"):
            for status, n in self._connection.execute(query):
                counts[status] = n
        return counts

    def unfinished(self, org_id: str | None = None) -> builtins.list[Job]:
        """Queued and running jobs, oldest first, optionally for one org."""
        query = sa.select(jobs).where(jobs.c.status.in_(_UNFINISHED))
        if org_id is not None:
            query = query.where(jobs.c.org_id == org_id)
        query = query.order_by(jobs.c.created_at, jobs.c.id)
        with self._errors("listing unfinished jobs"):
            return [_job(row) for row in self._connection.execute(query)]

    def _touch_held(self, job_id: str, worker_id: str, action: str) -> int:
        """Bump updated_at if the worker holds the lease, and return the job's attempt number.

        The UPDATE also locks the row on PostgreSQL, so no claim can take the lease until commit.
        """
        touch = (
            jobs.update()
            .where(_is_held_by(job_id, worker_id))
            .values(updated_at=utcnow())
            .returning(jobs.c.attempts)
        )
        attempts: int | None = self._connection.execute(touch).scalar_one_or_none()
        if attempts is None:
            self._raise_lease_lost(job_id, worker_id, action)
        return attempts

    def _raise_lease_lost(self, job_id: str, worker_id: str, action: str) -> NoReturn:
        row = self._connection.execute(
            sa.select(jobs.c.status, jobs.c.lease_owner).where(jobs.c.id == job_id)
        ).first()
        if row is None:
            msg = f"no job with id {job_id!r}"
            raise JobError(msg)
        holder = f", leased by {row.lease_owner}" if row.lease_owner else ""
        msg = f"job {job_id}: lease lost: worker {worker_id} cannot {action}; the job is {row.status}{holder}"
        raise JobError(msg)

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)


def _is_claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        jobs.c.status == "queued",
        sa.and_(jobs.c.status == "running", jobs.c.lease_expires_at < now),
    )


def _is_held_by(job_id: str, worker_id: str) -> sa.ColumnElement[bool]:
    # A lease that expired but was not yet taken over is still held: nobody else has written since.
    return sa.and_(jobs.c.id == job_id, jobs.c.status == "running", jobs.c.lease_owner == worker_id)


def _lease_end(now: datetime, lease_s: float) -> datetime:
    if lease_s < 0:
        msg = f"a lease must last zero seconds or more, not {lease_s}"
        raise ValueError(msg)
    return now + timedelta(seconds=lease_s)


def _job(row: sa.Row[Any]) -> Job:
    return Job(**row._mapping)
