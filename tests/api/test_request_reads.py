"""Short reads of the store for a coroutine (`Store.read`): inline on SQLite, on a thread for PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gcwm.store import Store, connect
from tests.support.databases import make_database_url


@pytest.mark.parametrize(("kind", "inline"), [("sqlite", True), ("postgresql", False)])
async def test_a_read_runs_on_the_loop_only_when_the_database_is_in_this_process(
    kind: str, inline: bool, tmp_path: Path
) -> None:
    """SQLite in WAL mode answers a read without waiting for its writer, in less time than a thread
    hop takes (and a hop would queue it behind submissions holding the shared pool's threads, waiting
    for that writer); a database across the network is read off the event loop."""
    with make_database_url(kind, tmp_path) as url:
        store = Store(connect(url))
        try:
            where, answer = await store.read(lambda: (threading.get_ident(), store.database_now()))
            assert answer is not None
            assert (where == threading.get_ident()) is inline
        finally:
            store.engine.dispose()
