"""Real databases for tests: a fresh SQLite file, or a fresh schema in the test PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

POSTGRES_URL_ENV = "GCWM_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE_KINDS = ("sqlite", "postgresql")

# Why PostgreSQL could not be used, remembered so later tests skip at once instead of waiting again.
_postgres_unusable: str | None = None


@contextmanager
def make_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database of this kind ("sqlite" or "postgresql"), removed afterwards.

    PostgreSQL comes from $GCWM_TEST_POSTGRES_URL; each call gets its own schema (the URL sets
    search_path to it), so tests and concurrent CI runs never see each other's tables. If the
    server cannot be reached, the calling test is skipped with the URL tried and the reason.
    """
    if kind == "sqlite":
        # A subdirectory that does not exist yet, so connect() has to create it as in real use.
        yield f"sqlite:///{tmp_path}/db/gcwm.db"
    elif kind == "postgresql":
        with _fresh_postgres_schema() as url:
            yield url
    else:
        msg = f"unknown database kind {kind!r}; expected one of {DATABASE_KINDS}"
        raise ValueError(msg)


def postgres_url() -> sa.URL:
    """The test PostgreSQL server's URL, with the psycopg 3 driver."""
    url = sa.make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@contextmanager
def _fresh_postgres_schema() -> Iterator[str]:
    global _postgres_unusable
    base = postgres_url()
    shown = base.render_as_string(hide_password=True)
    if _postgres_unusable is not None:
        pytest.skip(_postgres_unusable)
    schema = f"t_{uuid4().hex}"
    admin = sa.create_engine(base, poolclass=sa.NullPool, connect_args={"connect_timeout": 5})
    try:
        try:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        except OperationalError as exc:
            _postgres_unusable = f"PostgreSQL at {shown} ({POSTGRES_URL_ENV}) cannot be used: {exc.orig}"
            pytest.skip(_postgres_unusable)
        # libpq's options parameter sets search_path for every connection made with this URL, so the
        # tables and alembic's version table are created in the schema.
        options = " ".join(filter(None, [base.query.get("options"), f"-csearch_path={schema}"]))
        try:
            yield base.update_query_dict({"options": options}).render_as_string(hide_password=False)
        finally:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        admin.dispose()
