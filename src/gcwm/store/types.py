"""Column types that behave the same on SQLite and PostgreSQL, and the store's one clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect


def utcnow() -> datetime:
    """This process's clock as an aware UTC datetime (for records; leases use `database_now`)."""
    return datetime.now(UTC)


def database_now(connection: Connection) -> datetime:
    """The database server's clock, as an aware UTC datetime.

    Leases are compared across workers on many hosts: every lease stamp and every comparison uses
    this one clock, never a worker's own. SQLite runs in-process on one host, whose clock it reads:
    there the host's clock is the database's."""
    if connection.dialect.name == "postgresql":
        value = connection.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
        return value.astimezone(UTC)  # type: ignore[no-any-return]
    return utcnow()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always aware UTC in Python.

    SQLite has no timezone type and drops tzinfo, so there we store naive UTC and attach UTC on the way
    out; PostgreSQL stores ``timestamptz`` and gets aware datetimes both ways.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"naive datetime {value.isoformat()} given to the store: pass an aware UTC datetime"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL; Python ``None`` is SQL NULL, not the JSON ``null``."""
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


class TransactionClock:
    """The database's time, read once per transaction and shared by its repositories, so one change
    has one timestamp and costs one clock read however many tables it touches."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._now: datetime | None = None

    def now(self) -> datetime:
        """The transaction's time (the first read's answer, kept)."""
        if self._now is None:
            self._now = database_now(self._connection)
        return self._now
