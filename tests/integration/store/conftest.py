"""Fixtures for the store's integration tests: each test gets its own real, migrated database."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gcwm.store import Job, Store

# pytest puts the project root on sys.path only while tests/ is a package all the way down; make
# sure of it, so tests.support imports here and in spawned worker processes (which inherit sys.path).
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support import database_fixtures  # noqa: E402 (needs the path above)

# The shared fixtures: a real, migrated database per test (SQLite, and PostgreSQL where it runs).
database_url = database_fixtures.database_url
engine = database_fixtures.engine
store = database_fixtures.store


@pytest.fixture
def enqueue(store: Store) -> Callable[..., Job]:
    """Enqueue one job in its own transaction; keyword arguments override the defaults.

    Each job is for a channel of its own unless `channel_name` is given (jobs of one channel run one
    at a time, which the tests of that rule ask for explicitly)."""
    serial = iter(range(1, 1_000_000))

    def enqueue(**overrides: Any) -> Job:
        name = overrides.get("channel_name") or f"support-{next(serial)}"
        fields: dict[str, Any] = {
            "batch_id": "batch-1",
            "org_id": "org-1",
            "channel_name": name,
            "channel_key": name.casefold(),
            "kind": "provision",
            "spec": {"name": name, "allowedDomains": ["example.com"]},
            "actor": "alice@example.com",
            "correlation_id": "corr-1",
            **overrides,
        }
        with store.unit_of_work() as tx:
            return tx.jobs.enqueue(**fields)

    return enqueue
