"""The notification outbox: messages written in the transaction of the change they report, then
claimed under a lease by a dispatcher, and marked delivered, rescheduled or dead.

As with jobs (store/jobs.py), every lease stamp and comparison uses the database's clock, a claim is
a compare-and-set, and PostgreSQL claimers skip rows another claimer has locked. A message is pending
until delivered or dead; "being delivered" is a pending message with a live lease. A claim counts an
attempt, so a worker killed mid-delivery still uses up one step of the retry schedule.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.errors import GcwmError
from gcwm.store.sql import by_id_or_prefix, database_errors
from gcwm.store.tables import outbox
from gcwm.store.types import TransactionClock

OutboxStatus = Literal["pending", "delivered", "dead"]
OUTBOX_STATUSES: tuple[OutboxStatus, ...] = ("pending", "delivered", "dead")

#: An id prefix shorter than this is never matched ("msg_" plus four characters).
MIN_ID_PREFIX = 8


_INSERT = outbox.insert()


class OutboxError(GcwmError):
    """A notification cannot be found, or cannot be retried in its current status."""

    exit_code = 4


@dataclass(frozen=True)
class OutboxMessage:
    """One notification to one ITSM target; `id` is its webhook-id, the same on every attempt."""

    id: str
    org_id: str
    channel: str
    event_type: str
    target: dict[str, Any]
    payload: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    external_ref: str | None
    audit_seq: int | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class OutboxRepository:
    """Outbox rows, read and written on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection, clock: TransactionClock | None = None) -> None:
        self._connection = connection
        self._clock = clock or TransactionClock(connection)

    def now(self) -> datetime:
        """The database's time, read once per transaction."""
        with self._errors("reading the database clock"):
            return self._clock.now()

    def add(
        self,
        *,
        message_id: str,
        org_id: str,
        channel: str,
        event_type: str,
        target: dict[str, Any],
        payload: str,
        audit_seq: int | None,
    ) -> str:
        """Add a pending message, due now; its id."""
        now = self.now()
        values = {
            "id": message_id,
            "org_id": org_id,
            "channel": channel,
            "event_type": event_type,
            "target": target,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "audit_seq": audit_seq,
            "created_at": now,
            "updated_at": now,
        }
        with self._errors(f"queueing {event_type} of channel {channel!r} for {target.get('type')}"):
            # Parameters of one prebuilt statement: `.values(...)` per call cost more than the insert.
            self._connection.execute(_INSERT, values)
        return message_id

    def claim_due(
        self, worker_id: str, lease_s: float, *, limit: int = 16, ids: Collection[str] | None = None
    ) -> builtins.list[OutboxMessage]:
        """Lease up to `limit` pending messages that are due and not leased by a live worker, oldest
        due first; each claim counts an attempt. `ids` restricts the claim to those messages."""
        now = self.now()
        candidates = sa.select(outbox.c.id).where(_is_claimable(now))
        if ids is not None:
            candidates = candidates.where(outbox.c.id.in_(list(ids)))
        # PostgreSQL: skip rows other claimers hold. SQLite's BEGIN IMMEDIATE already excludes them.
        candidates = (
            candidates.order_by(outbox.c.next_attempt_at, outbox.c.created_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self._errors(f"worker {worker_id} claiming notifications"):
            chosen = list(self._connection.execute(candidates).scalars())
            if not chosen:
                return []
            # Compare-and-set: the claimable test again, so a claim never takes a live lease.
            claim = (
                outbox.update()
                .where(outbox.c.id.in_(chosen), _is_claimable(now))
                .values(
                    lease_owner=worker_id,
                    lease_expires_at=_lease_end(now, lease_s),
                    attempts=outbox.c.attempts + 1,
                    updated_at=now,
                )
                .returning(*outbox.c)
            )
            rows = self._connection.execute(claim).all()
        claimed = [_message(row) for row in rows]
        return sorted(claimed, key=lambda m: chosen.index(m.id))

    def renew_lease(self, message_id: str, worker_id: str, lease_s: float) -> bool:
        """Extend this worker's lease on a message it is delivering; False if the lease was lost."""
        now = self.now()
        renew = (
            outbox.update()
            .where(_is_held_by(message_id, worker_id))
            .values(lease_expires_at=_lease_end(now, lease_s), updated_at=now)
        )
        with self._errors(f"worker {worker_id} renewing its lease on notification {message_id}"):
            return bool(self._connection.execute(renew).rowcount)

    def mark_delivered(self, message_id: str, worker_id: str, *, external_ref: str | None = None) -> bool:
        """Record a delivery (and the record it made, if any); False if the lease was lost."""
        now = self.now()
        values: dict[str, Any] = {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        if external_ref is not None:
            values["external_ref"] = external_ref
        return self._finish(message_id, worker_id, "recording a delivery of", values)

    def reschedule(self, message_id: str, worker_id: str, *, delay_s: float, error: str) -> bool:
        """Record a failed attempt and when to try again; False if the lease was lost."""
        due = self.now() + timedelta(seconds=max(delay_s, 0.0))
        return self._finish(
            message_id, worker_id, "rescheduling", {"next_attempt_at": due, "last_error": error}
        )

    def mark_dead(self, message_id: str, worker_id: str, *, error: str) -> bool:
        """Dead-letter a message (it stays, for `retry`); False if the lease was lost."""
        values: dict[str, Any] = {"status": "dead", "next_attempt_at": None, "last_error": error}
        return self._finish(message_id, worker_id, "dead-lettering", values)

    def _finish(self, message_id: str, worker_id: str, action: str, values: dict[str, Any]) -> bool:
        update = (
            outbox.update()
            .where(_is_held_by(message_id, worker_id))
            .values(**values, lease_owner=None, lease_expires_at=None, updated_at=self.now())
        )
        with self._errors(f"{action} notification {message_id}"):
            return bool(self._connection.execute(update).rowcount)

    def get(self, message_id: str) -> OutboxMessage:
        """The message with this id, or with this unique id prefix of at least 8 characters.

        Raises OutboxError if no message, or more than one, matches.
        """
        with self._errors(f"reading notification {message_id}"):
            row = by_id_or_prefix(
                self._connection,
                outbox,
                message_id,
                min_prefix=MIN_ID_PREFIX,
                what="notification",
                error=OutboxError,
            )
        return _message(row)

    def list(self, *, status: str | None = None, limit: int = 50) -> builtins.list[OutboxMessage]:
        """Messages, newest first, optionally only those with this status."""
        query = sa.select(outbox)
        if status is not None:
            query = query.where(outbox.c.status == status)
        query = query.order_by(outbox.c.created_at.desc(), outbox.c.id.desc()).limit(limit)
        with self._errors("listing notifications"):
            return [_message(row) for row in self._connection.execute(query)]

    def retry(self, message_id: str) -> OutboxMessage:
        """Make a dead (or pending) message due now; a dead one starts the retry schedule afresh.

        Raises OutboxError if the message is unknown or already delivered.
        """
        message = self.get(message_id)
        now = self.now()
        attempts = sa.case((outbox.c.status == "dead", 0), else_=outbox.c.attempts)
        retry = (
            outbox.update()
            .where(outbox.c.id == message.id, outbox.c.status.in_(("dead", "pending")))
            .values(status="pending", attempts=attempts, next_attempt_at=now, updated_at=now)
            .returning(*outbox.c)
        )
        with self._errors(f"retrying notification {message.id}"):
            row = self._connection.execute(retry).first()
        if row is None:
            msg = f"notification {message.id} was already delivered; only dead or pending ones are retried"
            raise OutboxError(msg)
        return _message(row)

    def retry_dead(self) -> int:
        """Make every dead message due now, each with a fresh retry schedule; how many."""
        now = self.now()
        retry = (
            outbox.update()
            .where(outbox.c.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
        )
        with self._errors("retrying dead notifications"):
            return int(self._connection.execute(retry).rowcount)

    def pending_since(self, org_id: str, since: datetime, channels: Collection[str]) -> builtins.list[str]:
        """Ids of the org's messages for these channels queued at or after `since` and not yet sent."""
        query = sa.select(outbox.c.id).where(
            outbox.c.org_id == org_id,
            outbox.c.status == "pending",
            outbox.c.created_at >= since,
            outbox.c.channel.in_(list(channels)),
        )
        with self._errors("listing a run's notifications"):
            return [str(row.id) for row in self._connection.execute(query)]

    def count_pending(self, ids: Collection[str] | None = None) -> int:
        """How many messages (of these, if given) are still pending."""
        query = sa.select(sa.func.count()).where(outbox.c.status == "pending")
        if ids is not None:
            query = query.where(outbox.c.id.in_(list(ids)))
        with self._errors("counting pending notifications"):
            return int(self._connection.execute(query).scalar_one())

    def counts(self) -> dict[str, int]:
        """How many messages are in each status; every status is present, zero or not."""
        query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
        counts: dict[str, int] = dict.fromkeys(OUTBOX_STATUSES, 0)
        with self._errors("counting notifications"):
            for status, n in self._connection.execute(query):
                counts[status] = n
        return counts

    def next_claimable_at(self, ids: Collection[str] | None = None) -> datetime | None:
        """The earliest time a pending message (of these, if given) may be claimed, or None if none is
        pending: its next attempt, or the end of the lease a worker holds on it."""
        pending = outbox.c.status == "pending"
        if ids is not None:
            pending = sa.and_(pending, outbox.c.id.in_(list(ids)))
        now = self.now()
        leased = sa.and_(outbox.c.lease_expires_at.is_not(None), outbox.c.lease_expires_at >= now)
        free = sa.select(sa.func.min(outbox.c.next_attempt_at)).where(pending, sa.not_(leased))
        held = sa.select(sa.func.min(outbox.c.lease_expires_at)).where(pending, leased)
        with self._errors("finding the next notification due"):
            times = [self._connection.execute(q).scalar_one_or_none() for q in (free, held)]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)


def _is_claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        outbox.c.status == "pending",
        outbox.c.next_attempt_at <= now,
        sa.or_(outbox.c.lease_expires_at.is_(None), outbox.c.lease_expires_at < now),
    )


def _is_held_by(message_id: str, worker_id: str) -> sa.ColumnElement[bool]:
    # A lease that expired but was not taken over is still held: nobody else has written since.
    return sa.and_(outbox.c.id == message_id, outbox.c.status == "pending", outbox.c.lease_owner == worker_id)


def _lease_end(now: datetime, lease_s: float) -> datetime:
    if lease_s < 0:
        msg = f"a lease must last zero seconds or more, not {lease_s}"
        raise ValueError(msg)
    return now + timedelta(seconds=lease_s)


def _message(row: sa.Row[Any]) -> OutboxMessage:
    return OutboxMessage(**row._mapping)
