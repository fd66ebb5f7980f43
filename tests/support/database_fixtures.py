"""The fixtures the store's and the audit log's tests share: a real, migrated database per test.

A conftest takes them with `from tests.support.database_fixtures import database_url, engine, store`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from gcwm.store import Store, connect
from tests.support.databases import make_database_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    with make_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database, disposed afterwards."""
    engine = connect(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    """The store façade over the test database."""
    return Store(engine)
