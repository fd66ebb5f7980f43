"""Fixtures for the audit log's tests: a real migrated database, a signing key under a fresh home."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

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
from gcwm.store import Store, connect

# Spawned worker processes import tests.integration.audit.audit_workers by name: keep the project root
# on sys.path (they inherit it), as tests/integration/store/conftest.py does.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.databases import make_database_url  # noqa: E402 (needs the path above)

Append = Callable[..., AuditHead]
LOG = 40  # entries in `log`: checkpoints at 10, 20, 30 and 40, the head file at 40


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
