"""SQL helpers the repositories share: error translation and the backend's INSERT ... ON CONFLICT."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from gcwm.errors import GcwmError, StoreError


def describe(bind: Connection | Engine) -> str:
    """The database URL with its password masked, for error messages."""
    return bind.engine.url.render_as_string(hide_password=True)


def reason(exc: BaseException) -> str:
    """The first line of the driver's own message, without SQLAlchemy's statement and parameters."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


@contextmanager
def database_errors(action: str, bind: Connection | Engine) -> Iterator[None]:
    """Turn SQLAlchemy failures inside the block into a StoreError that says what failed and where."""
    try:
        yield
    except SQLAlchemyError as exc:
        msg = f"{action} failed on {describe(bind)}: {reason(exc)}"
        raise StoreError(msg) from exc


def insert_for(connection: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports ON CONFLICT on this connection's backend (both spell it the same)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def by_id_or_prefix(
    connection: Connection,
    table: sa.Table,
    ident: str,
    *,
    min_prefix: int,
    what: str,
    error: type[GcwmError],
) -> sa.Row[Any]:
    """The row of `table` whose id is `ident`, or whose id alone starts with it (`min_prefix` or more
    characters, as people copy ids from tables); `error` saying so when none or several match."""
    row = connection.execute(_exact(table), {"ident": ident}).first()
    if row is not None:
        return row
    if len(ident) < min_prefix:
        msg = f"no {what} with id {ident!r} (give the full id or at least {min_prefix} characters)"
        raise error(msg)
    query = sa.select(table).where(table.c.id.startswith(ident, autoescape=True)).limit(2)
    matches = connection.execute(query).all()
    if not matches:
        msg = f"no {what} with id or id prefix {ident!r}"
        raise error(msg)
    if len(matches) > 1:
        msg = f"{what} id prefix {ident!r} matches more than one {what}; give more characters"
        raise error(msg)
    return matches[0]


# One SELECT by id per table, built on first use and reused: a statement object keeps its compiled
# form's cache key, which building it again per lookup would compute again (the service's hot path).
_BY_ID: dict[str, sa.Select[Any]] = {}


def _exact(table: sa.Table) -> sa.Select[Any]:
    query = _BY_ID.get(table.name)
    if query is None:
        query = _BY_ID[table.name] = sa.select(table).where(table.c.id == sa.bindparam("ident"))
    return query
