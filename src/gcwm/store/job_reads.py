"""Reads of jobs and their steps: lookups by id or prefix, listings, counts.

Kept apart from the writes (`jobs.py`: the queue, leases, steps, cancel, resume) so each module holds
one job. `JobRepository` is both.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.errors import JobNotFound
from gcwm.store.models import JOB_STATUSES, Job, JobStep
from gcwm.store.sql import by_id_or_prefix, database_errors
from gcwm.store.tables import job_steps, jobs

#: A job id prefix shorter than this is never matched, as with git's short hashes.
MIN_ID_PREFIX = 6

UNFINISHED = ("queued", "running")


# The service's hot reads, built once (a reused statement keeps its cache key; see store.sql._exact).
_STEPS = sa.select(job_steps).where(job_steps.c.job_id == sa.bindparam("job_id")).order_by(job_steps.c.seq)
_UNFINISHED_OF_CHANNELS = (
    sa.select(jobs)
    .where(
        jobs.c.status.in_(UNFINISHED),
        jobs.c.org_id == sa.bindparam("org_id"),
        jobs.c.channel_key.in_(sa.bindparam("keys", expanding=True)),
    )
    .order_by(jobs.c.created_at, jobs.c.id)
)


class JobReads:
    """Reads on one connection inside the caller's transaction."""

    _connection: Connection

    def get(self, job_id: str) -> Job:
        """The job with this id, or with this unique id prefix of at least 6 characters.

        Raises JobNotFound if no job, or more than one, matches.
        """
        with self._errors(f"reading job {job_id}"):
            row = by_id_or_prefix(
                self._connection, jobs, job_id, min_prefix=MIN_ID_PREFIX, what="job", error=JobNotFound
            )
        return _job(row)

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

    def count_unfinished(self, job_ids: Iterable[str]) -> int:
        """How many of these jobs are still queued or running (one query, however many ids)."""
        ids = list(job_ids)
        if not ids:
            return 0
        query = sa.select(sa.func.count()).where(jobs.c.id.in_(ids), jobs.c.status.in_(UNFINISHED))
        with self._errors("counting unfinished jobs"):
            return int(self._connection.execute(query).scalar_one())

    def unfinished(
        self, org_id: str | None = None, *, channel_keys: Iterable[str] | None = None
    ) -> builtins.list[Job]:
        """Queued and running jobs, oldest first, optionally for one org and some channels (a service
        queues into a long queue: look up only the channels in hand)."""
        if org_id is not None and channel_keys is not None:
            params = {"org_id": org_id, "keys": list(channel_keys)}
            with self._errors("listing unfinished jobs"):
                return [_job(row) for row in self._connection.execute(_UNFINISHED_OF_CHANNELS, params)]
        query = sa.select(jobs).where(jobs.c.status.in_(UNFINISHED))
        if org_id is not None:
            query = query.where(jobs.c.org_id == org_id)
        if channel_keys is not None:
            query = query.where(jobs.c.channel_key.in_(list(channel_keys)))
        query = query.order_by(jobs.c.created_at, jobs.c.id)
        with self._errors("listing unfinished jobs"):
            return [_job(row) for row in self._connection.execute(query)]

    def lease_owners(self, org_id: str) -> set[str]:
        """The lease owners of the org's unfinished jobs (workers running them, processes that queued
        them)."""
        query = (
            sa.select(jobs.c.lease_owner)
            .where(jobs.c.status.in_(UNFINISHED), jobs.c.org_id == org_id, jobs.c.lease_owner.is_not(None))
            .distinct()
        )
        with self._errors(f"listing the workers running jobs of org {org_id}"):
            return {owner for (owner,) in self._connection.execute(query)}

    def steps(self, job_id: str) -> builtins.list[JobStep]:
        """The steps a job recorded, in the order it recorded them."""
        with self._errors(f"reading the steps of job {job_id}"):
            return [JobStep(**row._mapping) for row in self._connection.execute(_STEPS, {"job_id": job_id})]

    def finished_since(self, org_id: str, channel_key: str, since: datetime, *, other_than: str) -> bool:
        """Whether another job of this channel ended at or after `since` (what it did may be unseen)."""
        query = sa.select(sa.literal(1)).where(
            jobs.c.org_id == org_id,
            jobs.c.channel_key == channel_key,
            jobs.c.id != other_than,
            jobs.c.finished_at >= since,
        )
        with self._errors(f"checking recent jobs of channel {channel_key!r}"):
            return self._connection.execute(query.limit(1)).first() is not None

    def steps_of_channel(
        self, org_id: str, channel_key: str, names: Iterable[str], *, other_than: str
    ) -> builtins.list[JobStep]:
        """The recorded steps of these names of the channel's other unsucceeded jobs (a create they
        sent may still be in flight)."""
        query = (
            sa.select(job_steps)
            .join(jobs, jobs.c.id == job_steps.c.job_id)
            .where(
                jobs.c.org_id == org_id,
                jobs.c.channel_key == channel_key,
                jobs.c.id != other_than,
                jobs.c.status != "succeeded",
                job_steps.c.step.in_(list(names)),
            )
        )
        with self._errors(f"reading the steps of channel {channel_key!r}'s other jobs"):
            return [JobStep(**row._mapping) for row in self._connection.execute(query)]

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)


def _job(row: sa.Row[Any]) -> Job:
    return Job(**row._mapping)
