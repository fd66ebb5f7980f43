"""UnitOfWork: one transaction per state change, committed whole or rolled back whole."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gcwm.errors import StoreError
from gcwm.store import Job, Store, UnitOfWork


class _Boom(Exception):
    pass


def test_commits_on_clean_exit(store: Store) -> None:
    """A job and a channel written in one unit are both there afterwards."""
    with store.unit_of_work() as tx:
        job = tx.jobs.enqueue(
            batch_id="b",
            org_id="org-1",
            channel_name="support",
            channel_key="support",
            kind="provision",
            spec={"name": "support"},
            actor="alice",
            correlation_id="c",
        )
        tx.channels.upsert_desired("org-1", "support", "support", {"name": "support"}, "h1")

    assert store.get_job(job.id).status == "queued"
    assert store.get_channel("org-1", "support") is not None


def test_rolls_back_on_exception(store: Store) -> None:
    """An exception inside the unit leaves nothing written, and the exception propagates unchanged."""
    with pytest.raises(_Boom), store.unit_of_work() as tx:
        tx.jobs.enqueue(
            batch_id="b",
            org_id="org-1",
            channel_name="support",
            channel_key="support",
            kind="provision",
            spec={},
            actor="alice",
            correlation_id="c",
        )
        tx.channels.upsert_desired("org-1", "support", "support", {"name": "support"}, "h1")
        raise _Boom

    assert store.list_jobs() == []
    assert store.list_channels() == []


def test_rolls_back_a_state_change_when_a_later_write_fails(
    store: Store, enqueue: Callable[..., Job]
) -> None:
    """A claim followed by a failing write in the same unit is undone: the job stays queued."""
    job = enqueue()

    with pytest.raises(StoreError), store.unit_of_work() as tx:
        tx.jobs.claim_next("worker-a", 30)
        tx.channels.record_ids("org-1", "never-stored", deployment_id="d-1")

    assert store.get_job(job.id).status == "queued"
    assert store.get_job(job.id).attempts == 0


def test_reads_do_not_wait_for_an_open_write_transaction(store: Store, enqueue: Callable[..., Job]) -> None:
    """While a unit holds the write lock, Store reads answer at once with committed data only."""
    committed = enqueue()
    with store.unit_of_work() as tx:
        tx.jobs.enqueue(
            batch_id="b",
            org_id="org-1",
            channel_name="uncommitted",
            channel_key="uncommitted",
            kind="provision",
            spec={},
            actor="alice",
            correlation_id="c",
        )

        seen = store.list_jobs()

    assert [job.id for job in seen] == [committed.id]


def test_database_failure_is_a_store_error_naming_the_database(store: Store) -> None:
    """A failing statement surfaces as StoreError with the masked URL, its cause chained."""
    with pytest.raises(StoreError) as caught, store.unit_of_work() as tx:
        tx.connection.exec_driver_sql("SELECT * FROM no_such_table")

    assert store.engine.url.render_as_string(hide_password=True) in caught.value.message
    assert caught.value.__cause__ is not None


def test_deleting_a_job_deletes_its_steps(store: Store, enqueue: Callable[..., Job]) -> None:
    """job_steps rows follow their job (ON DELETE CASCADE, with foreign keys on in SQLite)."""
    job = enqueue()
    with store.unit_of_work() as tx:
        tx.jobs.claim_next("worker-a", 30)
        tx.jobs.record_step(job.id, "worker-a", "create_configuration", {"id": "cfg-1"}, 12.0)

    with store.unit_of_work() as tx:
        tx.connection.exec_driver_sql(f"DELETE FROM jobs WHERE id = '{job.id}'")

    assert store.job_steps(job.id) == []


def test_a_unit_of_work_begins_only_once(store: Store) -> None:
    """Re-entering a finished unit is refused rather than silently opening a second transaction."""
    unit = store.unit_of_work()
    with unit:
        pass

    with pytest.raises(RuntimeError, match="begins once"), unit:
        pass


def test_connection_is_unavailable_before_the_unit_begins(store: Store) -> None:
    """Repositories added later get the connection only inside `with`."""
    with pytest.raises(RuntimeError, match="not begun"):
        _ = UnitOfWork(store.engine).connection
