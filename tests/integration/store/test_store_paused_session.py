"""A gcwm process paused inside a transaction (a VM pause, SIGSTOP, Ctrl-Z) must not block every other
gcwm on the same PostgreSQL database until it wakes: found by bench/explore.py (issue 22), a destroy
waited on the row lock of a frozen worker's lease renewal, left open mid-transaction, for as long as
the worker stayed frozen. PostgreSQL ends such a session after gcwm's idle-in-transaction timeout."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest
import sqlalchemy as sa

from gcwm.store import connect
from tests.support.databases import make_database_url

TOUCH = sa.text("UPDATE alembic_version SET version_num = version_num")


def test_a_session_idle_inside_its_transaction_is_ended_and_stops_blocking_the_others(
    tmp_path: Path,
) -> None:
    """One session takes a row lock and then says nothing, as a paused process does; another session's
    write of that row waits, then goes through once the server has ended the idle one."""
    with make_database_url("postgresql", tmp_path) as url:
        engine = connect(url, idle_transaction_s=1.0)
        paused = engine.connect()
        pool = concurrent.futures.ThreadPoolExecutor(1)

        def write() -> int:
            with engine.begin() as connection:
                return connection.execute(TOUCH).rowcount

        try:
            paused.begin()
            paused.execute(TOUCH)  # holds the row's lock; the "process" stops here
            assert pool.submit(write).result(timeout=30) == 1
            with pytest.raises(sa.exc.DBAPIError, match="idle-in-transaction"):
                paused.execute(sa.text("SELECT 1"))  # woken: its transaction is gone
        finally:
            paused.invalidate()  # before waiting for the writer: on failure it still waits on the lock
            paused.close()
            pool.shutdown(wait=True)
            engine.dispose()
