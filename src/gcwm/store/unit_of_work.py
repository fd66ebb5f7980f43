"""The unit of work: one connection, one transaction, every repository that writes inside it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Self

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from gcwm.errors import StoreError
from gcwm.store.api_keys import ApiKeyRepository
from gcwm.store.call_timings import CallTimingRepository
from gcwm.store.channels import ChannelRepository
from gcwm.store.dashboard_sessions import DashboardSessionRepository
from gcwm.store.engine import READ_ONLY_OPTION
from gcwm.store.idempotency import IdempotencyRepository
from gcwm.store.jobs import JobRepository
from gcwm.store.outbox import OutboxRepository
from gcwm.store.slots import SlotRepository
from gcwm.store.sql import database_errors, describe, reason
from gcwm.store.types import TransactionClock


class UnitOfWork:
    """``with UnitOfWork(engine) as tx:`` begins; a clean exit commits, an exception rolls back.

    Every repository is bound to the same connection, so one state change (a job and, later, its
    audit entry and outbox message) is written whole or not at all. A unit of work is used once.
    """

    jobs: JobRepository
    channels: ChannelRepository
    slots: SlotRepository
    outbox: OutboxRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    dashboard_sessions: DashboardSessionRepository
    call_timings: CallTimingRepository

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: Connection | None = None
        self._writer: _SqliteWriter | None = None

    @property
    def connection(self) -> Connection:
        """The connection the transaction runs on, for repositories added later."""
        if self._connection is None:
            msg = "the unit of work has not begun: use it as `with store.unit_of_work() as tx:`"
            raise RuntimeError(msg)
        return self._connection

    def __enter__(self) -> Self:
        if self._connection is not None:
            msg = "a unit of work begins once; ask the store for a new one"
            raise RuntimeError(msg)
        self._writer = None if self._read_only else _writer_lock(self._engine)
        if self._writer is not None:
            self._writer.acquire()
        try:
            connection = self._begin()
        except BaseException:
            if self._writer is not None:
                self._writer.release()
            raise
        self._connection = connection
        clock = TransactionClock(connection)
        self.jobs = JobRepository(connection, clock)
        self.channels = ChannelRepository(connection)
        self.slots = SlotRepository(connection)
        self.outbox = OutboxRepository(connection, clock)
        self.api_keys = ApiKeyRepository(connection)
        self.idempotency = IdempotencyRepository(connection)
        self.dashboard_sessions = DashboardSessionRepository(connection)
        self.call_timings = CallTimingRepository(connection)
        return self

    def _begin(self) -> Connection:
        with database_errors("beginning a transaction", self._engine):
            connection = self._engine.connect()
            try:
                # On SQLite, read-only units begin DEFERRED and so do not wait for the write lock.
                connection.execution_options(**{READ_ONLY_OPTION: self._read_only})
                connection.begin()
            except BaseException:
                connection.close()
                raise
        return connection

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection = self.connection
        try:
            if exc is None:
                with database_errors("committing a transaction", connection):
                    connection.commit()
            else:
                connection.rollback()
        except SQLAlchemyError:
            if exc is None:
                raise
            # The rollback failed too; the caller's exception says more, and close() discards the
            # connection's transaction anyway.
        finally:
            connection.close()
            if self._writer is not None:
                self._writer.release()
        if isinstance(exc, SQLAlchemyError):
            # A statement the repositories did not wrap (e.g. on tx.connection): still a StoreError.
            msg = f"a transaction failed on {describe(self._engine)}: {reason(exc)}"
            raise StoreError(msg) from exc


# SQLite has one writer at a time, and a writer that finds the lock taken sleeps in SQLite's busy
# handler (steps of up to 100 ms) however soon it is freed: under a service's load the waits pile up
# into seconds. Writers therefore queue on locks of their own, handed over at once: a thread lock
# within a process, and an flock(2) on a file beside the database between processes (`gcwm serve
# --workers N`, `jobs resume` beside a service). PostgreSQL needs none of this.
#
# Writes made in `background_writes()` (the job workers') give way, within their process, to the others
# (a request's): a batch of jobs finishing together queued a hundred transactions at once, and the
# submissions behind them waited 0.3-0.5 s. Between processes the flock's waiters take turns.
_WRITERS: weakref.WeakKeyDictionary[Engine, _SqliteWriter] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()
_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("gcwm_background_writes", default=False)


@contextlib.contextmanager
def background_writes() -> Iterator[None]:
    """Mark the writes of this context (and of tasks and threads started from it) as background work,
    which gives way to this process's other writers of the same SQLite database."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


class _SqliteWriter:
    """The right to write to one SQLite database, for one thread of this process at a time (reentrant)
    and, for a database file, for one process at a time; background writers give way (see above)."""

    def __init__(self, path: str | None) -> None:
        self._path = path
        # One lock guards the fields below; each kind of writer waits on a condition of its own, so a
        # release wakes one writer, not every one of them (each taking the GIL to look).
        self._state = threading.Lock()
        self._requests = threading.Condition(self._state)
        self._jobs = threading.Condition(self._state)
        self._held = False  # by a thread of this process
        self._urgent = 0  # writers waiting that are not background
        self._background = 0  # and those that are
        self._owner: int | None = None
        self._depth = 0
        self._fd: int | None = None  # the database file's flock

    def acquire(self, owner: int | None = None) -> None:
        """Wait for the turn, for this thread or for the thread `owner` (which then holds it)."""
        owner = threading.get_ident() if owner is None else owner
        with self._state:
            if self._owner == owner:
                self._depth += 1  # nested in the owner's own transaction
                return
            if _BACKGROUND.get():
                self._background += 1
                while self._held or self._urgent:
                    self._jobs.wait()
                self._background -= 1
            else:
                self._urgent += 1
                while self._held:
                    self._requests.wait()
                self._urgent -= 1
            self._held = True
        try:
            if self._path is not None:
                if self._fd is None:
                    self._fd = self._open()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._free()
            raise
        with self._state:
            self._owner, self._depth = owner, 1

    def try_acquire(self) -> bool:
        """Take the turn for this thread if nobody holds or waits for it; never waits."""
        with self._state:
            if self._owner == threading.get_ident():
                self._depth += 1
                return True
            if self._held or self._urgent:
                return False
            self._held = True
        if self._path is not None:
            if self._fd is None:
                self._fd = self._open()
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._free()
                return False
        with self._state:
            self._owner, self._depth = threading.get_ident(), 1
        return True

    def release(self) -> None:
        # The owner's depth is shared with a thread waiting on its behalf (writer_turn), so it changes
        # under the lock like the rest.
        with self._state:
            self._depth -= 1
            if self._depth > 0:
                return
            self._owner = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._free()

    def _free(self) -> None:
        with self._state:
            self._held = False
            (self._requests if self._urgent else self._jobs).notify()

    def _open(self) -> int:
        assert self._path is not None
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        weakref.finalize(self, os.close, fd)
        return fd


@contextlib.asynccontextmanager
async def writer_turn(engine: Engine) -> AsyncIterator[None]:
    """Hold SQLite's write turn for the event loop's thread, waiting for it on another thread, so a
    transaction run on the loop inside this block neither waits nor blocks the loop while it waits.

    A thread other than the loop's, holding the one write lock, would wait for the GIL after each
    statement while the loop ran requests (holds of 2-4 ms instead of 1, and every writer of every
    process queued behind them). The loop runs one callback at a time, so a transaction on it is
    never interleaved with another on it. On PostgreSQL this does nothing."""
    writer = _writer_lock(engine)
    if writer is None or writer.try_acquire():
        try:
            yield
        finally:
            if writer is not None:
                writer.release()
        return
    turn = asyncio.get_running_loop().run_in_executor(None, writer.acquire, threading.get_ident())
    try:
        await asyncio.shield(turn)
    except asyncio.CancelledError:
        # The turn still comes: hand it back then, or every writer waits for ever.
        turn.add_done_callback(lambda done: None if done.exception() else writer.release())
        raise
    try:
        yield
    finally:
        writer.release()


def _writer_lock(engine: Engine) -> _SqliteWriter | None:
    if engine.dialect.name != "sqlite":
        return None
    with _WRITERS_GUARD:
        lock = _WRITERS.get(engine)
        if lock is None:
            database = engine.url.database
            on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
            lock = _WRITERS[engine] = _SqliteWriter(f"{database}-writer" if on_disk else None)
        return lock
