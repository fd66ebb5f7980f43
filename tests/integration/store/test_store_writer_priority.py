"""SQLite's writers of one process take turns on gcwm's own lock: the job workers' writes give way to a
request's, and a request's write waits for its turn off the event loop, then runs on it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from gcwm.store import Store, background_writes, connect
from gcwm.store.unit_of_work import _SqliteWriter, _writer_lock

BACKGROUND_WRITERS = 4
DEADLINE_S = 10.0


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/gcwm.db"


@pytest.fixture
def engines(sqlite_url: str) -> Iterator[Callable[[], Engine]]:
    made: list[Engine] = []

    def engine() -> Engine:
        made.append(connect(sqlite_url))
        return made[-1]

    yield engine
    for each in made:
        each.dispose()


def _writer(engine: Engine) -> _SqliteWriter:
    writer = _writer_lock(engine)
    assert writer is not None
    return writer


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting until {what}")
        time.sleep(0.001)


@contextlib.contextmanager
def _held_by_another_thread(store: Store) -> Iterator[None]:
    """A transaction of another thread holds the write turn until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.unit_of_work():
            holding.set()
            release.wait(DEADLINE_S)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(DEADLINE_S)
    try:
        yield
    finally:
        release.set()
        holder.join(DEADLINE_S)


def _write(store: Store, order: list[str], label: str, *, background: bool) -> threading.Thread:
    def run() -> None:
        if background:
            with background_writes(), store.unit_of_work() as tx:
                order.append(label)
                tx.jobs.now()
        else:
            with store.unit_of_work() as tx:
                order.append(label)
                tx.jobs.now()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_requests_write_goes_before_the_background_writes_waiting_in_its_process(
    engines: Callable[[], Engine],
) -> None:
    """Jobs' writes already waiting for the lock let a request's write, which came after them, go first."""
    engine = engines()
    store, writer = Store(engine), _writer(engine)
    order: list[str] = []
    with store.unit_of_work():
        threads = [_write(store, order, f"job-{n}", background=True) for n in range(BACKGROUND_WRITERS)]
        _until(lambda: writer._background + writer._urgent == BACKGROUND_WRITERS, "the jobs' writes wait")
        threads.append(_write(store, order, "request", background=False))
        _until(lambda: writer._background + writer._urgent == BACKGROUND_WRITERS + 1, "the request waits")
    for thread in threads:
        thread.join(DEADLINE_S)
    assert order[0] == "request", order
    assert sorted(order[1:]) == [f"job-{n}" for n in range(BACKGROUND_WRITERS)]


def test_background_writes_go_on_when_no_request_waits(engines: Callable[[], Engine]) -> None:
    """Giving way is not waiting for ever: with nobody else writing, background writes simply run."""
    engine = engines()
    order: list[str] = []
    threads = [_write(Store(engine), order, f"job-{n}", background=True) for n in range(BACKGROUND_WRITERS)]
    for thread in threads:
        thread.join(DEADLINE_S)
    assert sorted(order) == [f"job-{n}" for n in range(BACKGROUND_WRITERS)]


async def test_a_write_waits_for_its_turn_off_the_event_loop_then_runs_on_it(
    engines: Callable[[], Engine],
) -> None:
    """While another writer holds the turn, the loop goes on serving; the transaction then runs on the
    loop's own thread (a thread of the pool would wait for the GIL between statements, holding the
    one write lock)."""
    store = Store(engines())
    loop_thread = threading.get_ident()
    ran_on: list[int] = []
    ticks = 0
    served = asyncio.Event()

    def work() -> str:
        ran_on.append(threading.get_ident())
        with store.unit_of_work() as tx:
            return tx.jobs.now().isoformat()

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 100:
                served.set()
            await asyncio.sleep(0)

    with _held_by_another_thread(store):
        ticker = asyncio.create_task(tick())
        write = asyncio.create_task(store.write(work))
        await asyncio.wait_for(served.wait(), DEADLINE_S)  # the loop runs other tasks while the write waits
        assert not write.done() and ran_on == []
    assert await asyncio.wait_for(write, DEADLINE_S)
    ticker.cancel()
    assert ran_on == [loop_thread]


async def test_a_write_cancelled_while_it_waits_hands_its_turn_back(engines: Callable[[], Engine]) -> None:
    """A request given up while its write waits leaves the lock usable: the turn it was about to get
    is handed back, and the next writer gets it."""
    store = Store(engines())
    writer = _writer(store.engine)
    with _held_by_another_thread(store):
        waiting = asyncio.create_task(store.write(lambda: None))
        await asyncio.to_thread(_until, lambda: writer._urgent == 1, "the write waits for its turn")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    def free_again() -> bool:
        if not writer.try_acquire():
            return False
        writer.release()
        return True

    await asyncio.to_thread(_until, free_again, "the turn is handed back")
