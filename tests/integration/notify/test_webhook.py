"""Webhooks to a real receiver: retries through outages with stable ids, Standard Webhooks
signatures a receiver verifies, the schedule, Retry-After, and dead letters."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gcwm.notify import EmbeddedSink, Fault, RetrySchedule, new_secret
from gcwm.store import Store
from gcwm.store.outbox import OutboxRepository
from tests.integration.notify.conftest import (
    NO_WAIT,
    SECRET,
    MakeDispatcher,
    Queue,
    message,
    webhook_itsm,
)


async def test_receiver_down_503_then_timing_out_then_up_gets_every_event_with_stable_ids(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Three events; the receiver answers 503, then stalls past the timeout, then 200: all arrive."""
    ids = [queue(itsm=webhook_itsm(f"{sink.url}/webhook")) for _ in range(3)]
    sink.sink.add_fault(Fault(status=503, times=3))
    sink.sink.add_fault(Fault(mode="stall", times=3))

    async with make_dispatcher() as dispatcher:
        first, second, third = [await dispatcher.run_once() for _ in range(3)]

    assert (first.retried, second.retried, third.delivered, third.pending) == (3, 3, 3, 0)
    arrivals = defaultdict(list)
    for received in sink.sink.received("webhook"):
        arrivals[received.webhook_id].append(received)
    assert set(arrivals) == set(ids)
    for message_id in ids:
        notes = [r.note for r in arrivals[message_id]]
        assert notes == ["fault: answered 503", "fault: answer stalled", ""]
        assert len({r.body for r in arrivals[message_id]}) == 1, "every attempt sends the same bytes"
        stored = message(store, message_id)
        assert (stored.status, stored.attempts) == ("delivered", 3)
        assert stored.delivered_at is not None


async def test_run_until_empty_waits_for_retries_due_before_its_deadline(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """With retries due at once, one drain delivers through two failures and counts them."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=502, times=2))

    async with make_dispatcher() as dispatcher:
        result = await dispatcher.run_until_empty(time.monotonic() + 30, ids=[message_id])

    assert result.to_dict() == {"delivered": 1, "retried": 2, "dead": 0, "pending": 0}


async def test_signatures_verify_with_the_standardwebhooks_library_as_a_receiver_would(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Headers and body verify with standardwebhooks; the payload is the documented document."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"), channel="support-web")

    async with make_dispatcher() as dispatcher:
        await dispatcher.run_once()

    (received,) = sink.sink.received("webhook")
    assert received.verified is True
    assert received.headers["webhook-id"] == message_id
    assert received.headers["webhook-signature"].startswith("v1,")
    assert received.headers["content-type"] == "application/json"
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60
    payload = Webhook(SECRET).verify(received.body, received.headers)
    assert payload["type"] == "channel.provisioned"
    assert payload["timestamp"].endswith("Z")
    data = payload["data"]
    assert (data["orgId"], data["channel"], data["outcome"]) == ("org-1", "support-web", "created")
    assert data["deployment"] == {"id": "dep-1"} and data["latencyMs"] == {"total": 12.5}
    assert data["audit"] == {"seq": 1, "hash": f"{1:064x}"}
    assert received.body == message(store, message_id).payload
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(received.body, received.headers)
    tampered = received.body.replace("created", "deleted")
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, received.headers)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
async def test_a_final_4xx_dead_letters_at_once(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher, status: int
) -> None:
    """A refusal the same request would meet again is not retried."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=status))

    async with make_dispatcher() as dispatcher:
        result = await dispatcher.run_once()

    stored = message(store, message_id)
    assert (result.dead, stored.status, stored.attempts) == (1, "dead", 1)
    assert f"answered {status}" in (stored.last_error or "") and "not retried" in (stored.last_error or "")


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504])
async def test_passing_failures_are_retried(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher, status: int
) -> None:
    """Timeouts, conflicts, too-early, rate limits and 5xx come back on the schedule."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=status))

    async with make_dispatcher() as dispatcher:
        first = await dispatcher.run_once()
        second = await dispatcher.run_once()

    assert (first.retried, second.delivered) == (1, 1)
    assert message(store, message_id).status == "delivered"


async def test_429_waits_as_long_as_retry_after_says(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Retry-After: 120 puts the next attempt two minutes out, past the 5 s the schedule says."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=429, retry_after="120"))

    async with make_dispatcher(schedule=RetrySchedule()) as dispatcher:
        first = await dispatcher.run_once()
        again = await dispatcher.run_once()

    stored = message(store, message_id)
    assert (first.retried, again.attempted, stored.status) == (1, 0, "pending")
    assert stored.next_attempt_at is not None
    wait = (stored.next_attempt_at - stored.updated_at).total_seconds()
    assert 120 <= wait < 121
    assert "answered 429" in (stored.last_error or "")


async def test_the_real_schedule_tries_again_five_seconds_after_the_first_failure(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Svix's second attempt comes 5 s (+-10 %) after the first; nothing is sent before."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=503))

    async with make_dispatcher(schedule=RetrySchedule()) as dispatcher:
        await dispatcher.run_once()
        result = await dispatcher.run_until_empty(time.monotonic() + 1)

    stored = message(store, message_id)
    assert stored.next_attempt_at is not None
    assert 4.5 <= (stored.next_attempt_at - stored.updated_at).total_seconds() <= 5.5
    assert (result.attempted, result.pending) == (0, 1), "a grace period shorter than the wait sends nothing"


async def test_after_the_last_attempt_the_message_is_dead_with_the_last_error(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Eight failed attempts (Svix's count) dead-letter the message, saying so and why."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=503, times=8))

    async with make_dispatcher() as dispatcher:
        result = await dispatcher.run_until_empty(time.monotonic() + 30)

    stored = message(store, message_id)
    assert (result.retried, result.dead, stored.status, stored.attempts) == (7, 1, "dead", 8)
    assert (stored.last_error or "").startswith("gave up after 8 attempts; the last: POST ")
    assert NO_WAIT.max_attempts == 8


async def test_a_dead_message_retried_is_delivered_with_the_same_id(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """`retry` makes a dead message due now with a fresh schedule; it arrives under its own id."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(status=410))
    async with make_dispatcher() as dispatcher:
        await dispatcher.run_once()
        assert message(store, message_id).status == "dead"
        with store.unit_of_work() as tx:
            retried = OutboxRepository(tx.connection).retry(message_id[:12])
        assert (retried.status, retried.attempts) == ("pending", 0)
        await dispatcher.run_once()

    assert message(store, message_id).status == "delivered"
    assert [r.webhook_id for r in sink.sink.received("webhook")] == [message_id, message_id]


async def test_a_secret_missing_at_delivery_dead_letters_at_once_not_on_the_retry_schedule(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """No wait sets the variable (issue 24, item 6): one attempt, dead-lettered, saying what is missing
    and how to send it again; nothing reaches the target."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook", secretEnv="GCWM_ITSM_UNSET_SECRET"))

    async with make_dispatcher() as dispatcher:
        result = await dispatcher.run_once()

    stored = message(store, message_id)
    assert (result.dead, result.retried, stored.status, stored.attempts) == (1, 0, "dead", 1)
    assert "GCWM_ITSM_UNSET_SECRET named by secretEnv is not set" in (stored.last_error or "")
    assert "gcwm notify retry" in (stored.last_error or "")
    assert sink.sink.received() == []


async def test_a_secret_that_is_not_a_whsec_key_dead_letters_without_showing_it(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """A wrong-shaped key cannot become right by waiting; the error names the variable, not the value."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook", secretEnv="GCWM_ITSM_PLAIN_SECRET"))

    async with make_dispatcher(environ={"GCWM_ITSM_PLAIN_SECRET": "hunter2-plain"}) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "dead"
    assert "GCWM_ITSM_PLAIN_SECRET" in (stored.last_error or "")
    assert "hunter2" not in json.dumps(stored.__dict__, default=str)


async def test_events_the_channel_does_not_subscribe_to_are_not_queued(store: Store) -> None:
    """`events: [failed]` queues channel.failed and nothing for channel.provisioned."""
    from gcwm.notify import enqueue
    from gcwm.spec import Itsm

    subscription = Itsm.model_validate(webhook_itsm("https://itsm.example.com/hook", events=["failed"]))
    with store.unit_of_work() as tx:
        kept = [
            enqueue(
                tx,
                org_id="org-1",
                channel="web",
                subscription=subscription,
                event_type=event,
                data={"outcome": "x"},
                audit_seq=None,
                audit_hash=None,
            )
            for event in ("channel.provisioned", "channel.failed")
        ]
        none = enqueue(
            tx,
            org_id="org-1",
            channel="web",
            subscription=None,
            event_type="channel.failed",
            data={},
            audit_seq=None,
            audit_hash=None,
        )
    assert kept[0] is None and kept[1] is not None and none is None
    stored = message(store, kept[1])
    assert stored.target == {
        "type": "webhook",
        "url": "https://itsm.example.com/hook",
        "secretEnv": "GCWM_ITSM_TEST_WEBHOOK_SECRET",
    }


async def test_an_event_rolled_back_with_its_transaction_is_never_sent(store: Store, queue: Queue) -> None:
    """The outbox row lives and dies with the change it reports."""
    from gcwm.notify import enqueue
    from gcwm.spec import Itsm

    subscription = Itsm.model_validate(webhook_itsm("https://itsm.example.com/hook"))
    with pytest.raises(RuntimeError), store.unit_of_work() as tx:
        enqueue(
            tx,
            org_id="org-1",
            channel="web",
            subscription=subscription,
            event_type="channel.provisioned",
            data={},
            audit_seq=1,
            audit_hash="ab",
        )
        raise RuntimeError("the change failed")
    with store.unit_of_work() as tx:
        assert OutboxRepository(tx.connection).counts() == {"pending": 0, "delivered": 0, "dead": 0}


async def test_a_send_still_in_flight_at_the_deadline_is_abandoned_and_stays_pending(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """A grace period is a bound: a receiver that hangs does not hold the run past its deadline."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(mode="stall"))

    async with make_dispatcher(timeout_s=60, schedule=RetrySchedule()) as dispatcher:
        started = time.monotonic()
        result = await dispatcher.run_until_empty(started + 0.3)
        took = time.monotonic() - started

    stored = message(store, message_id)
    assert took < 10, "the run waited for the receiver instead of its own deadline"
    assert (result.retried, result.pending, stored.status) == (1, 1, "pending")
    assert "abandoned" in (stored.last_error or "")


async def test_a_grace_period_of_zero_sends_nothing_and_counts_what_waits(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """GCWM_NOTIFY_GRACE_SECONDS=0 leaves every notification to `gcwm notify run`."""
    queue(itsm=webhook_itsm(f"{sink.url}/webhook"))

    async with make_dispatcher() as dispatcher:
        result = await dispatcher.run_until_empty(time.monotonic())

    assert result.to_dict() == {"delivered": 0, "retried": 0, "dead": 0, "pending": 1}
    assert sink.sink.received() == []
