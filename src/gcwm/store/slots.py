"""Slot reservations: how many deployments and configurations queued jobs will create in an org.

A limit check reads the org (what exists) and this table (what queued jobs will add) in the
transaction that queues the new jobs; on PostgreSQL an advisory lock per org makes those
transactions take turns (SQLite's BEGIN IMMEDIATE already does), so two runs cannot both take the
last free slot.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.store.sql import database_errors
from gcwm.store.tables import held_slot_counts, slot_reservations
from gcwm.store.types import UtcDateTime, database_now

_LOCK_SPACE = 0x736C6F74  # "slot": keeps these advisory locks apart from the migration lock

_r = slot_reservations.c
_h = held_slot_counts.c
# Held slots: SQLite's triggers keep them counted (migration 0009); PostgreSQL counts its index.
_HELD = {
    "sqlite": sa.select(_h.kind, _h.held).where(_h.org_id == sa.bindparam("org_id"), _h.held > 0),
    "postgresql": (
        sa.select(_r.kind, sa.func.count())
        .where(_r.org_id == sa.bindparam("org_id"), _r.state == "held")
        .group_by(_r.kind)
    ),
}
_MADE_SINCE = (
    sa.select(_r.kind, sa.func.count())
    .where(_r.org_id == sa.bindparam("org_id"), _r.made_at >= sa.bindparam("since", type_=UtcDateTime()))
    .group_by(_r.kind)
)
# Parked rows of ended jobs whose create may have landed after the read (migration 0012).
_IN_FLIGHT_SINCE = (
    sa.select(_r.kind, sa.func.count())
    .where(
        _r.org_id == sa.bindparam("org_id"),
        _r.in_flight_until >= sa.bindparam("since", type_=UtcDateTime()),
        _r.state == "parked",
    )
    .group_by(_r.kind)
)


class SlotRepository:
    """Reservations, on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def lock_org(self, org_id: str) -> None:
        """Take the org's limit lock until the transaction ends (PostgreSQL; SQLite needs none)."""
        if self._connection.dialect.name != "postgresql":
            return
        key = zlib.crc32(org_id.encode()) - 2**31  # the two-key lock takes two 32-bit integers
        lock = sa.func.pg_advisory_xact_lock(sa.cast(_LOCK_SPACE, sa.Integer), sa.cast(key, sa.Integer))
        with self._errors(f"locking the limits of org {org_id}"):
            self._connection.execute(sa.select(lock))

    def reserve(self, org_id: str, job_id: str, kinds: Iterable[str]) -> None:
        """Hold one slot of each kind for the job."""
        now = database_now(self._connection)
        rows = [
            {"job_id": job_id, "kind": kind, "org_id": org_id, "state": "held", "created_at": now}
            for kind in kinds
        ]
        if rows:
            with self._errors(f"reserving slots for job {job_id}"):
                self._connection.execute(slot_reservations.insert(), rows)

    def counted(self, org_id: str, since: datetime) -> dict[str, int]:
        """Slots per kind that an observation of the org taken at `since` does not show yet: those
        held by unfinished jobs, those whose object was made at or after `since`, and those of ended
        jobs whose create may have landed at or after `since` (a create still on its way when its job
        was cancelled, superseded or failed)."""
        # Two index ranges (held rows have no made_at, so none is counted twice); a held row's job is
        # unfinished, as the jobs.status trigger parks the rows of a job that ends.
        counts: dict[str, int] = {}
        with self._errors(f"counting the slots reserved in org {org_id}"):
            for query, params in (
                (_HELD[self._connection.dialect.name], {"org_id": org_id}),
                (_MADE_SINCE, {"org_id": org_id, "since": since}),
                (_IN_FLIGHT_SINCE, {"org_id": org_id, "since": since}),
            ):
                for kind, n in self._connection.execute(query, params):
                    counts[kind] = counts.get(kind, 0) + int(n)
        return counts

    def held_by(self, job_ids: Iterable[str]) -> dict[str, int]:
        """Slots per kind these jobs hold (not yet made)."""
        ids = list(job_ids)
        if not ids:
            return {}
        query = (
            sa.select(_r.kind, sa.func.count())
            .where(_r.job_id.in_(ids), _r.state == "held")
            .group_by(_r.kind)
        )
        with self._errors(f"counting the slots {len(ids)} jobs hold"):
            return {kind: int(n) for kind, n in self._connection.execute(query)}

    def kinds_of(self, job_id: str) -> set[str]:
        """The kinds the job holds a slot of, or made."""
        query = sa.select(_r.kind).where(_r.job_id == job_id, _r.state.in_(("held", "made")))
        with self._errors(f"reading the slots of job {job_id}"):
            return set(self._connection.execute(query).scalars())

    def made(self, job_id: str, kind: str) -> None:
        """The job's object of this kind exists now: the org's listings will show it."""
        r = slot_reservations.c
        update = (
            slot_reservations.update()
            .where(r.job_id == job_id, r.kind == kind, r.state == "held")
            .values(state="made", made_at=database_now(self._connection))
        )
        with self._errors(f"marking job {job_id}'s {kind} made"):
            self._connection.execute(update)

    def in_flight(self, job_id: str, kind: str, until: datetime | None) -> None:
        """The job's create of this kind may land until `until` (None: its request has ended)."""
        update = (
            slot_reservations.update()
            .where(_r.job_id == job_id, _r.kind == kind, _r.state != "made")
            .values(in_flight_until=until)
        )
        with self._errors(f"marking job {job_id}'s {kind} create in flight"):
            self._connection.execute(update)

    def release(
        self,
        job_id: str,
        kinds: Iterable[str] | None = None,
        *,
        held_only: bool = False,
        made_only: bool = False,
    ) -> None:
        """Give back the job's slots (of these kinds): what it would have made is not, or was removed.

        `held_only` keeps those whose object was made (a finished job's objects still count for
        observations older than them), and those whose create may still land (they count, parked,
        until it must have ended); `made_only` gives back only those made (their objects were
        removed)."""
        r = slot_reservations.c
        delete = slot_reservations.delete().where(r.job_id == job_id)
        if kinds is not None:
            delete = delete.where(r.kind.in_(list(kinds)))
        if held_only:
            now = database_now(self._connection)
            delete = delete.where(
                r.state != "made", sa.or_(r.in_flight_until.is_(None), r.in_flight_until < now)
            )
        if made_only:
            delete = delete.where(r.state == "made")
        with self._errors(f"releasing the slots of job {job_id}"):
            self._connection.execute(delete)

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)
