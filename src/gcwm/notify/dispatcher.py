"""The dispatcher: claims due messages under leases, sends them, and records each outcome in one
transaction (delivered, due again later, or dead).

Delivery is at least once. A message is leased before it is sent and the lease is renewed while
the request is in flight (every third of the lease), so a dispatcher killed with kill -9 holds its
messages only until the lease runs out; another then sends them again with the same id (ServiceNow
and Jira find what the lost attempt made). Recording is compare-and-set on the lease: a dispatcher
that lost its lease records nothing.

Entry points: `run_once()` (one claim-and-send pass over what is due now); `run_due()` (passes
until nothing is due now: `gcwm notify run --once`); `run_until_empty(deadline)` (passes until
nothing can be sent before the deadline, waiting for retries due in time: `gcwm provision`'s grace
period); `run_forever(stop)` (the `gcwm notify run` loop). Deadlines are `time.monotonic()` values;
the database's clock decides what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self

import structlog

from gcwm.audit import AuditEvent, AuditTargets, record
from gcwm.errors import StoreError
from gcwm.notify.delivery import Delivered, DeliveryError
from gcwm.notify.jira import send_jira
from gcwm.notify.replies import clean_text, external_ref, stored_error
from gcwm.notify.schedule import RetrySchedule
from gcwm.notify.servicenow import OAuthTokens, send_servicenow
from gcwm.notify.ssrf import DEFAULT_TIMEOUT_S, MAX_RESPONSE_BYTES, EgressGuard, GuardedClient, Resolver
from gcwm.notify.targets import SecretSource, Target
from gcwm.notify.webhook import send_webhook
from gcwm.notify.witness import CHECKPOINT_EVENT
from gcwm.store import Store, UnitOfWork
from gcwm.store.outbox import OutboxMessage, OutboxRepository
from gcwm.waits import event_set_within

log = structlog.get_logger(__name__)

Outcome = Literal["delivered", "retry", "dead", "lost"]
_IDLE_POLL_S = 5.0
_MIN_WAIT_S = 0.01


@dataclass(frozen=True)
class DrainResult:
    """What a run did (delivered, rescheduled, dead-lettered) and how many messages are still pending
    (of those it was asked about, or in all)."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    pending: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.dead

    def plus(self, other: DrainResult) -> DrainResult:
        """Both runs' counts added up, with the later run's pending count."""
        return DrainResult(
            self.delivered + other.delivered,
            self.retried + other.retried,
            self.dead + other.dead,
            other.pending,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "retried": self.retried,
            "dead": self.dead,
            "pending": self.pending,
        }


def new_worker_id() -> str:
    """A dispatcher's lease-owner name: host, pid and a nonce."""
    return f"notify:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    """Sends outbox messages; use as `async with Dispatcher(store, ...) as dispatcher:`."""

    def __init__(
        self,
        store: Store,
        *,
        allow_private: bool = False,
        secrets: SecretSource | None = None,
        schedule: RetrySchedule | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        lease_s: float = 15.0,
        resolver: Resolver | None = None,
        batch: int = 16,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        tls: ssl.SSLContext | None = None,
        worker_id: str | None = None,
    ) -> None:
        if lease_s <= 0 or batch < 1:
            msg = f"lease_s must be positive and batch at least 1 (got {lease_s}, {batch})"
            raise ValueError(msg)
        self._store = store
        self._secrets = secrets or SecretSource()
        self.schedule = schedule or RetrySchedule()
        self._lease_s = lease_s
        self._batch = batch
        self.worker_id = worker_id or new_worker_id()
        guard = EgressGuard(allow_private=allow_private, resolver=resolver)
        self._http = GuardedClient(guard, timeout_s=timeout_s, max_response_bytes=max_response_bytes, tls=tls)
        self._tokens = OAuthTokens()
        # Messages gcwm's own configuration failed in this process: a grace period does not wait on them.
        self._held: set[str] = set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def run_once(
        self, ids: Collection[str] | None = None, *, deadline: float | None = None
    ) -> DrainResult:
        """Claim what is due now (of `ids`, if given; at most one batch) and send it all concurrently.
        A send still in flight at `deadline` is abandoned and counted as a failed attempt."""
        claimed = await asyncio.to_thread(self._claim, ids)
        outcomes = await asyncio.gather(*(self._deliver(m, deadline) for m in claimed))
        pending = await asyncio.to_thread(self._count_pending, ids)
        return DrainResult(
            delivered=outcomes.count("delivered"),
            retried=outcomes.count("retry"),
            dead=outcomes.count("dead"),
            pending=pending,
        )

    async def run_due(self, ids: Collection[str] | None = None) -> DrainResult:
        """Send what is due now, pass after pass, until a pass finds nothing (`gcwm notify run --once`):
        retries that fall due later stay pending, and no send is abandoned."""
        total = DrainResult()
        while True:
            result = await self.run_once(ids)
            total = total.plus(result)
            if not result.attempted:
                return total

    async def run_until_empty(self, deadline: float, ids: Collection[str] | None = None) -> DrainResult:
        """Send until no message (of `ids`) can be sent before `deadline` (a time.monotonic() value):
        retries that fall due in time are waited for; later ones stay pending, as do those gcwm's own
        configuration failed (a secret file it cannot read), which are not waited for."""
        total = DrainResult()
        while True:
            live = None if ids is None else [i for i in ids if i not in self._held]
            if time.monotonic() >= deadline or live == []:
                break
            result = await self.run_once(live, deadline=deadline)
            total = total.plus(result)
            if result.attempted:
                continue
            wait = await asyncio.to_thread(self._seconds_until_claimable, live)
            if wait is None or time.monotonic() + wait >= deadline:
                break
            await asyncio.sleep(max(wait, _MIN_WAIT_S))
        return total.plus(DrainResult(pending=await asyncio.to_thread(self._count_pending, ids)))

    async def run_forever(
        self, stop: asyncio.Event | None = None, *, idle_poll_s: float = _IDLE_POLL_S
    ) -> DrainResult:
        """Send messages as they fall due until `stop` is set (sends in flight finish first), riding out
        database outages; what it did, in all."""
        stop = stop or asyncio.Event()
        total = DrainResult()
        while not stop.is_set():
            try:
                result = await self.run_once()
                total = total.plus(result)
                if result.attempted:
                    continue
                wait = await asyncio.to_thread(self._seconds_until_claimable, None)
            except StoreError as exc:  # the database is away: the loop outlives it and tries again
                log.warning("notifications.store_unavailable", error=exc.message)
                wait = None
            timeout = idle_poll_s if wait is None else min(max(wait, _MIN_WAIT_S), idle_poll_s)
            await event_set_within(stop, timeout)
        return total

    async def _deliver(self, message: OutboxMessage, deadline: float | None) -> Outcome:
        bound = log.bind(message_id=message.id, channel=message.channel, attempt=message.attempts)
        heartbeat = asyncio.create_task(self._keep_lease(message.id))
        try:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            async with asyncio.timeout(remaining):
                delivered: Delivered | DeliveryError = await self._send(message)
        except TimeoutError:
            delivered = DeliveryError(
                "the attempt was abandoned: its run's time was up before an answer came"
            )
        except DeliveryError as exc:
            delivered = exc
            if exc.local:
                self._held.add(message.id)
        except Exception as exc:  # a bug must not lose the message: it is rescheduled like a failure
            bound.exception("notification.send_crashed")
            delivered = DeliveryError(f"gcwm failed while sending: {type(exc).__name__}: {exc}")
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        try:
            outcome = await asyncio.to_thread(self._record, message, delivered)
        except StoreError as exc:
            # Nothing recorded: the lease lapses and the message is sent again, under the same id.
            bound.warning("notification.record_failed", error=exc.message)
            return "lost"
        if isinstance(delivered, Delivered):
            bound.info("notification.delivered", outcome=outcome, external_ref=delivered.external_ref)
        else:
            bound.warning(
                "notification.failed", outcome=outcome, error=delivered.message, final=delivered.final
            )
        return outcome

    async def _send(self, message: OutboxMessage) -> Delivered:
        target = Target.from_dict(message.target)
        what = f"{target.type} {target.url}"
        secret = self._secrets.get(target.secret_env, target=f"channel {message.channel!r}: {what}")
        if target.type == "webhook":
            return await send_webhook(self._http, message, target, secret)
        if target.type == "servicenow":
            return await send_servicenow(self._http, message, target, secret, self._tokens)
        return await send_jira(self._http, message, target, secret)

    async def _keep_lease(self, message_id: str) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                held = await asyncio.to_thread(self._renew, message_id)
            except StoreError as exc:  # try again at the next beat; the lease may still be ours
                log.warning("notification.lease_renewal_failed", message_id=message_id, error=exc.message)
                continue
            if not held:
                log.warning("notification.lease_lost", message_id=message_id, worker=self.worker_id)
                return

    def _record(self, message: OutboxMessage, result: Delivered | DeliveryError) -> Outcome:
        with self._store.unit_of_work() as tx:
            outbox = OutboxRepository(tx.connection)
            if isinstance(result, Delivered):
                ref = external_ref(result.external_ref)
                done = outbox.mark_delivered(message.id, self.worker_id, external_ref=ref)
                if done:
                    self._audit(tx, message, "notification.delivered", "succeeded", {"externalRef": ref})
                return "delivered" if done else "lost"
            delay = (
                None
                if result.final
                else self.schedule.next_delay(message.attempts, retry_after_s=result.retry_after_s)
            )
            # The target's reply is kept for admins (replies.py), never in the audit log viewers read.
            if delay is None:
                error = result.message
                if not result.final:
                    error = f"gave up after {message.attempts} attempts; the last: {error}"
                if not outbox.mark_dead(message.id, self.worker_id, error=stored_error(error, result.reply)):
                    return "lost"
                self._audit(tx, message, "notification.dead_lettered", "failed", {"error": clean_text(error)})
                return "dead"
            error = stored_error(result.message, result.reply)
            done = outbox.reschedule(message.id, self.worker_id, delay_s=delay, error=error)
            return "retry" if done else "lost"

    def _audit(
        self, tx: UnitOfWork, message: OutboxMessage, action: str, outcome: str, summary: dict[str, Any]
    ) -> None:
        """The delivery's end goes in the audit log, in the transaction that records it (a witness
        event's does not: its entry would need a new signed head, and that head an event of its own)."""
        if message.event_type == CHECKPOINT_EVENT:
            return
        event = AuditEvent(
            action=action,
            actor=f"service:{self.worker_id}",
            org_id=message.org_id,
            targets=AuditTargets(channel=message.channel),
            outcome=outcome,
            correlation_id=message.id,
            summary={
                "messageId": message.id,
                "eventType": message.event_type,
                "attempts": message.attempts,
                "auditSeq": message.audit_seq,
                **summary,
            },
        )
        record(tx, event)

    def _claim(self, ids: Collection[str] | None) -> list[OutboxMessage]:
        with self._store.unit_of_work() as tx:
            return OutboxRepository(tx.connection).claim_due(
                self.worker_id, self._lease_s, limit=self._batch, ids=ids
            )

    def _renew(self, message_id: str) -> bool:
        with self._store.unit_of_work() as tx:
            return OutboxRepository(tx.connection).renew_lease(message_id, self.worker_id, self._lease_s)

    def _count_pending(self, ids: Collection[str] | None) -> int:
        with self._read() as tx:
            return OutboxRepository(tx.connection).count_pending(ids)

    def _seconds_until_claimable(self, ids: Collection[str] | None) -> float | None:
        with self._read() as tx:
            outbox = OutboxRepository(tx.connection)
            when: datetime | None = outbox.next_claimable_at(ids)
            return None if when is None else (when - outbox.now()).total_seconds()

    def _read(self) -> UnitOfWork:
        return UnitOfWork(self._store.engine, read_only=True)
