"""SQL helpers the repositories share: error translation and the backend's INSERT ... ON CONFLICT."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from gcwm.errors import StoreError


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
