"""The outbox repository on each database: claims under leases, compare-and-set outcomes, retry,
and the reads `gcwm notify` uses."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from gcwm.store import Store
from gcwm.store.outbox import OutboxError, OutboxRepository
from tests.integration.notify.conftest import Queue, message, webhook_itsm

URL = "https://itsm.example.com/hook"


def claim(store: Store, worker: str, lease_s: float = 30.0, **kwargs: object) -> list[str]:
    with store.unit_of_work() as tx:
        return [m.id for m in OutboxRepository(tx.connection).claim_due(worker, lease_s, **kwargs)]  # type: ignore[arg-type]


def test_a_claimed_message_is_not_claimed_again_while_its_lease_lives(store: Store, queue: Queue) -> None:
    """Worker A leases the message; worker B finds nothing to do."""
    message_id = queue(itsm=webhook_itsm(URL))

    assert claim(store, "worker-a") == [message_id]
    assert claim(store, "worker-b") == []
    stored = message(store, message_id)
    assert (stored.lease_owner, stored.attempts, stored.status) == ("worker-a", 1, "pending")


def test_an_expired_lease_is_taken_over_and_counts_an_attempt(store: Store, queue: Queue) -> None:
    """A worker that died mid-delivery: after its lease, another sends the message again."""
    message_id = queue(itsm=webhook_itsm(URL))
    claim(store, "worker-a", lease_s=0.0)

    assert claim(store, "worker-b") == [message_id]
    stored = message(store, message_id)
    assert (stored.lease_owner, stored.attempts) == ("worker-b", 2)
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        assert outbox.mark_delivered(message_id, "worker-a") is False, "a lost lease records nothing"
        assert outbox.renew_lease(message_id, "worker-a", 30) is False
        assert outbox.mark_delivered(message_id, "worker-b", external_ref="CHG0000001") is True
    stored = message(store, message_id)
    assert (stored.status, stored.external_ref, stored.lease_owner) == ("delivered", "CHG0000001", None)


def test_a_rescheduled_message_is_not_due_before_its_time(store: Store, queue: Queue) -> None:
    """reschedule sets the next attempt from the database clock and frees the lease."""
    message_id = queue(itsm=webhook_itsm(URL))
    claim(store, "worker-a")
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        assert outbox.reschedule(message_id, "worker-a", delay_s=300, error="503") is True
        now = outbox.now()

    assert claim(store, "worker-b") == []
    stored = message(store, message_id)
    assert stored.next_attempt_at == now + timedelta(seconds=300)
    assert (stored.lease_owner, stored.last_error) == (None, "503")
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        assert outbox.next_claimable_at() == stored.next_attempt_at
        assert outbox.count_pending() == 1 and outbox.count_pending([]) == 0


def test_claims_are_limited_and_may_be_restricted_to_some_ids(store: Store, queue: Queue) -> None:
    """`limit` caps a batch; `ids` keeps a run to the messages it queued."""
    ids = [queue(itsm=webhook_itsm(URL)) for _ in range(5)]

    assert claim(store, "worker-a", ids=ids[3:]) == ids[3:]
    assert claim(store, "worker-b", limit=2) == ids[:2]


def test_a_dead_message_is_retried_with_a_fresh_schedule_and_a_delivered_one_is_not(
    store: Store, queue: Queue
) -> None:
    """retry: dead -> pending now, attempts 0; a delivered message stays delivered, with a clear error."""
    dead_id, delivered_id = queue(itsm=webhook_itsm(URL)), queue(itsm=webhook_itsm(URL))
    claim(store, "worker-a")
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        outbox.mark_dead(dead_id, "worker-a", error="410 Gone")
        outbox.mark_delivered(delivered_id, "worker-a")

    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        retried = outbox.retry(dead_id)
        assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, "410 Gone")
        with pytest.raises(OutboxError, match="already delivered"):
            outbox.retry(delivered_id)
        assert outbox.counts() == {"pending": 1, "delivered": 1, "dead": 0}


def test_retry_all_revives_every_dead_message(store: Store, queue: Queue) -> None:
    """`gcwm notify retry --all` counts what it made due."""
    ids = [queue(itsm=webhook_itsm(URL)) for _ in range(3)]
    claim(store, "worker-a")
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        for message_id in ids[:2]:
            outbox.mark_dead(message_id, "worker-a", error="gone")
        assert outbox.retry_dead() == 2
        assert outbox.list(status="dead") == []
        assert {m.id for m in outbox.list(status="pending")} == set(ids)


def test_get_takes_a_unique_prefix_and_says_when_it_is_not(store: Store, queue: Queue) -> None:
    """As with jobs: the full id, or a prefix of 8+ characters that names one message."""
    message_id = queue(itsm=webhook_itsm(URL))
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        assert outbox.get(message_id[:12]).id == message_id
        with pytest.raises(OutboxError, match="at least 8 characters"):
            outbox.get("msg_")
        with pytest.raises(OutboxError, match="no notification with id or id prefix 'msg_zzzzzz'"):
            outbox.get("msg_zzzzzz")


def test_concurrent_claimers_never_share_a_message(store: Store, queue: Queue) -> None:
    """Eight threads claim from 40 messages at once: each message goes to exactly one of them."""
    ids = [queue(itsm=webhook_itsm(URL)) for _ in range(40)]
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(8, timeout=30)
    # No claimer goes on past its first batch until all have taken one: the claims overlap, and no
    # thread can drain the outbox alone before the others start (8 x 3 < 40, so none comes back empty).
    first_taken = threading.Barrier(8, timeout=30)

    def work(worker: str) -> None:
        start.wait()
        mine = claim(store, worker, limit=3)
        first_taken.wait()
        while batch := claim(store, worker, limit=3):
            mine.extend(batch)
        claimed[worker] = mine

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [m for batch in claimed.values() for m in batch]
    assert sorted(everything) == sorted(ids)
    assert {message(store, m).attempts for m in ids} == {1}
    # The race happened: every claimer got work while the others were claiming.
    assert sorted(claimed) == [f"worker-{n}" for n in range(8)]
    assert all(claimed.values()), {worker: len(mine) for worker, mine in claimed.items()}
