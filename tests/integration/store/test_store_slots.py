"""Slot reservations: what queued jobs will create, counted with what an observation of the org missed."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gcwm.errors import JobError
from gcwm.store import Job, Store, tables


def test_held_slots_count_until_made_then_only_for_observations_older_than_the_make(
    store: Store, enqueue: Callable[..., Job]
) -> None:
    """A made object shows in listings read after it was made, so only older reads need the count."""
    job = enqueue()
    with store.unit_of_work() as tx:
        before = tx.jobs.now()
        tx.slots.lock_org("org-1")
        tx.slots.reserve("org-1", job.id, ["deployment", "configuration"])
    with store.unit_of_work() as tx:
        assert tx.slots.counted("org-1", before) == {"deployment": 1, "configuration": 1}
        assert tx.slots.counted("org-2", before) == {}
        tx.slots.made(job.id, "deployment")
    with store.unit_of_work() as tx:
        after = tx.jobs.now()
        assert tx.slots.counted("org-1", before) == {"deployment": 1, "configuration": 1}
    with store.unit_of_work() as tx:
        later = tx.jobs.now()
        assert tx.slots.counted("org-1", later) == {"configuration": 1}
    assert after <= later


def test_released_slots_no_longer_count(store: Store, enqueue: Callable[..., Job]) -> None:
    """A job that rolled back made nothing: its slots are free again."""
    job = enqueue()
    with store.unit_of_work() as tx:
        now = tx.jobs.now()
        tx.slots.reserve("org-1", job.id, ["deployment", "configuration"])
        tx.slots.release(job.id, ["deployment"])
    with store.unit_of_work() as tx:
        assert tx.slots.counted("org-1", now) == {"configuration": 1}
        tx.slots.release(job.id)
    with store.unit_of_work() as tx:
        assert tx.slots.counted("org-1", now) == {}


def test_a_finished_jobs_held_slots_stop_counting_and_are_given_back_when_it_is_resumed(
    store: Store, enqueue: Callable[..., Job]
) -> None:
    """Cancelling a queued job (no worker ever releases its slots) frees them for admission at once;
    resuming it gives them back for good (they came back as held with no admission check: issue 22),
    so its worker reserves what its plan creates under the limits; what it made keeps counting for
    older observations throughout."""
    job, other = enqueue(), enqueue(channel_name="other")
    with store.unit_of_work() as tx:
        before = tx.jobs.now()
        tx.slots.reserve("org-1", job.id, ["deployment", "configuration"])
        tx.slots.reserve("org-1", other.id, ["deployment"])
        tx.slots.made(job.id, "configuration")
    with store.unit_of_work() as tx:
        tx.jobs.cancel(job.id)
    with store.unit_of_work() as tx:
        assert tx.slots.counted("org-1", before) == {"deployment": 1, "configuration": 1}
        tx.jobs.requeue(job.id)
    with store.unit_of_work() as tx:
        assert tx.slots.counted("org-1", before) == {"deployment": 1, "configuration": 1}
        assert tx.slots.kinds_of(job.id) == {"configuration"}  # made: kept


# What a sequence of slot and job moves does, for the test below: each step is (move, job, kinds).
_KINDS = st.lists(st.sampled_from(["deployment", "configuration"]), unique=True, max_size=2)
_MOVES = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "made", "release", "release_held", "cancel", "requeue", "delete_job"]),
        st.integers(min_value=0, max_value=2),
        _KINDS,
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=_MOVES)
def test_held_slots_counted_equal_a_count_of_the_held_rows_after_any_moves(
    store: Store, enqueue: Callable[..., Job], moves: list[tuple[str, int, list[str]]]
) -> None:
    """Whatever moves the rows (reserve, made, release, a job cancelled, resumed or deleted with its
    rows), admission's count of held slots is the number of held rows (SQLite keeps it in a table
    its triggers maintain; PostgreSQL counts the rows)."""
    org = f"org-{uuid.uuid4().hex[:8]}"
    jobs = [enqueue(org_id=org) for _ in range(3)]
    later = datetime.now(UTC) + timedelta(days=1)  # no made slot is newer: held ones only
    deleted: set[str] = set()
    for move, index, kinds in moves:
        job_id = jobs[index].id
        if job_id in deleted:
            continue
        with contextlib.suppress(JobError), store.unit_of_work() as tx:
            if move == "reserve":
                tx.slots.release(job_id, kinds)  # a job holds one slot of a kind at most
                tx.slots.reserve(org, job_id, kinds)
            elif move == "made":
                for kind in kinds:
                    tx.slots.made(job_id, kind)
            elif move in ("release", "release_held"):
                tx.slots.release(job_id, kinds or None, held_only=move == "release_held")
            elif move == "cancel":
                tx.jobs.cancel(job_id)
            elif move == "requeue":
                tx.jobs.requeue(job_id)
            else:
                tx.connection.execute(sa.delete(tables.jobs).where(tables.jobs.c.id == job_id))
                deleted.add(job_id)
        with store.unit_of_work() as tx:
            rows = tx.connection.execute(
                sa.select(tables.slot_reservations.c.kind, sa.func.count())
                .where(tables.slot_reservations.c.org_id == org, tables.slot_reservations.c.state == "held")
                .group_by(tables.slot_reservations.c.kind)
            )
            assert tx.slots.counted(org, later) == {kind: n for kind, n in rows}, (move, index, kinds)
