"""Fixtures for the audit log's tests: a real migrated database, a signing key under a fresh home."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gcwm.audit import (
    AuditEvent,
    AuditHead,
    AuditTargets,
    SigningKey,
    end_run,
    head_path,
    load_signing_key,
    record,
)
from gcwm.store import Store

# Spawned worker processes import tests.integration.audit.audit_workers by name: keep the project root
# on sys.path (they inherit it), as tests/integration/store/conftest.py does.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support import database_fixtures  # noqa: E402 (needs the path above)

# The shared fixtures: a real, migrated database per test (SQLite, and PostgreSQL where it runs).
database_url = database_fixtures.database_url
engine = database_fixtures.engine
store = database_fixtures.store

Append = Callable[..., AuditHead]
LOG = 40  # entries in `log`: checkpoints at 10, 20, 30 and 40, the head file at 40


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty GCWM_HOME."""
    return tmp_path / "home"


@pytest.fixture
def key(home: Path) -> SigningKey:
    """The signing key gcwm makes under the home on first use."""
    return load_signing_key(home)


def event(n: int, **overrides: object) -> AuditEvent:
    """A typical provisioning event, numbered so each body differs."""
    fields: dict[str, object] = {
        "action": "deployment.created",
        "actor": "alice@example.com",
        "org_id": "org-1",
        "targets": AuditTargets(channel=f"web-{n % 3}", deployment=f"dep-{n}", job=f"job-{n}"),
        "outcome": "succeeded",
        "correlation_id": f"corr-{n}",
        "summary": {"specHash": f"{n:064x}", "changed": ["deployment.allowedDomains"]},
        **overrides,
    }
    return AuditEvent(**fields)  # type: ignore[arg-type]


@pytest.fixture
def append(store: Store, key: SigningKey) -> Append:
    """Append `n` events, one unit of work each as provisioning does, checkpointing every `every`."""

    def append(n: int = 1, *, every: int = 10, **overrides: object) -> AuditHead:
        head = AuditHead(0, "")
        for _ in range(n):
            with store.unit_of_work() as tx:
                head = record(tx, event(head.seq + 1, **overrides), key=key, every=every)
        return head

    return append


@pytest.fixture
def log(append: Append, store: Store, key: SigningKey, home: Path) -> Path:
    """A clean log of LOG entries, checkpointed every 10, its run ended: returns the head file."""
    append(LOG, every=10)
    end_run(store, key, head_path(home))
    return head_path(home)
