"""The façade the rest of gcwm uses: units of work for changes, and short reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine

from gcwm.store.models import Channel, Job, JobStep
from gcwm.store.sql import database_errors
from gcwm.store.unit_of_work import UnitOfWork, writer_turn

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    """Jobs and channels in one database; every change goes through ``unit_of_work()``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine this store reads and writes through (its owner disposes it)."""
        return self._engine

    @property
    def in_process(self) -> bool:
        """Whether the database runs in this process (SQLite): a short read costs less than handing it
        to a thread, and in WAL mode it never waits for a writer."""
        return self._engine.dialect.name == "sqlite"

    async def read(self, query: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a short read for a coroutine: inline on SQLite (a thread hop costs more than the read,
        and in WAL mode it never waits for a writer), on a thread on PostgreSQL."""
        if self.in_process:
            return query(*args, **kwargs)
        return await asyncio.to_thread(query, *args, **kwargs)

    async def write(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work`, which writes to this store in units of work, without holding up the event loop
        while it waits: on SQLite on the loop once the loop holds the write turn (`writer_turn`), on
        PostgreSQL on a thread."""
        if not self.in_process:
            return await asyncio.to_thread(work, *args, **kwargs)
        async with writer_turn(self._engine):
            return work(*args, **kwargs)

    def unit_of_work(self) -> UnitOfWork:
        """A new transaction: ``with store.unit_of_work() as tx: tx.jobs.enqueue(...)``."""
        return UnitOfWork(self._engine)

    def get_job(self, job_id: str) -> Job:
        """The job with this id or unique id prefix; JobError if none or several match."""
        with self._read() as tx:
            return tx.jobs.get(job_id)

    def list_jobs(
        self, *, status: str | None = None, batch_id: str | None = None, limit: int = 50
    ) -> list[Job]:
        """Jobs, newest first, optionally filtered by status or batch."""
        with self._read() as tx:
            return tx.jobs.list(status=status, batch_id=batch_id, limit=limit)

    def job_with_steps(self, job_id: str) -> tuple[Job, list[JobStep]]:
        """The job with this id or unique id prefix and its steps, read together."""
        with self._read() as tx:
            job = tx.jobs.get(job_id)
            return job, tx.jobs.steps(job.id)

    def job_steps(self, job_id: str) -> list[JobStep]:
        """The steps a job recorded, in order."""
        with self._read() as tx:
            return tx.jobs.steps(job_id)

    def job_counts(self, batch_id: str) -> dict[str, int]:
        """How many of the batch's jobs are in each status."""
        with self._read() as tx:
            return tx.jobs.counts(batch_id)

    def count_unfinished(self, job_ids: list[str]) -> int:
        """How many of these jobs are still queued or running."""
        with self._read() as tx:
            return tx.jobs.count_unfinished(job_ids)

    def unfinished_jobs(self, org_id: str | None = None) -> list[Job]:
        """Queued and running jobs, oldest first."""
        with self._read() as tx:
            return tx.jobs.unfinished(org_id)

    def lease_owners(self, org_id: str) -> set[str]:
        """The workers holding leases on the org's running jobs (a few, however long the queue)."""
        with self._read() as tx:
            return tx.jobs.lease_owners(org_id)

    def database_now(self) -> datetime:
        """The database's clock (the one every lease is compared with)."""
        with self._read() as tx:
            return tx.jobs.now()

    def finished_since(self, org_id: str, channel_key: str, since: datetime, *, other_than: str) -> bool:
        """Whether another job of this channel ended at or after `since`."""
        with self._read() as tx:
            return tx.jobs.finished_since(org_id, channel_key, since, other_than=other_than)

    def steps_of_channel(
        self, org_id: str, channel_key: str, names: list[str], *, other_than: str
    ) -> list[JobStep]:
        """These steps of the channel's other jobs that did not succeed (JobReads.steps_of_channel)."""
        with self._read() as tx:
            return tx.jobs.steps_of_channel(org_id, channel_key, names, other_than=other_than)

    def get_channel(self, org_id: str, key: str) -> Channel | None:
        """The channel with this key (gcwm.spec.channel_key of its name) in this org, or None."""
        with self._read() as tx:
            return tx.channels.get(org_id, key)

    def channels_of(self, org_id: str, keys: list[str]) -> list[Channel]:
        """The org's channels with these keys (those the store holds)."""
        with self._read() as tx:
            return tx.channels.of_keys(org_id, keys)

    def sessions_recorded(self, org_id: str) -> int:
        """maxConcurrentSessions summed over the org's channels that are not removed."""
        with self._read() as tx:
            return tx.channels.sessions_recorded(org_id)

    def list_channels(self, org_id: str | None = None) -> list[Channel]:
        """Channels ordered by org and name."""
        with self._read() as tx:
            return tx.channels.list(org_id)

    def reading(self) -> UnitOfWork:
        """A transaction that only reads: on SQLite it does not take the write lock, so reads never
        queue behind writers (a service's GETs behind its submissions)."""
        return UnitOfWork(self._engine, read_only=True)

    _read = reading

    @contextmanager
    def read_connection(self, action: str) -> Iterator[Connection]:
        """A read-only transaction's connection for the store's report queries; a failure is a
        StoreError saying `action` failed and where."""
        with database_errors(action, self._engine), self.reading() as tx:
            yield tx.connection
