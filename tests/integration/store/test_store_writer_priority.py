"""SQLite's writers of one process take turns on gcwm's own lock, and the job workers' writes give way
to a request's."""

from __future__ import annotations

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
