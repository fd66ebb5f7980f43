"""Slot reservations: what queued jobs will create, counted with what an observation of the org missed."""

from __future__ import annotations

from collections.abc import Callable

from gcwm.store import Job, Store


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


def test_a_finished_jobs_held_slots_stop_counting_and_count_again_when_it_is_resumed(
    store: Store, enqueue: Callable[..., Job]
) -> None:
    """Cancelling a queued job (no worker ever releases its slots) frees them for admission at once;
    resuming it takes them again; what it made keeps counting for older observations throughout."""
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
        assert tx.slots.counted("org-1", before) == {"deployment": 2, "configuration": 1}
