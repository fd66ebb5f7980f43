"""Fixtures for the notify room: a real migrated database of each kind, a real ITSM sink on
127.0.0.1, and dispatchers with a zero-delay schedule, so retries "hours" apart run at once, that
may send to loopback (allowPrivateItsmTargets: true) unless a test says `allow_private=False`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gcwm.notify import (
    Dispatcher,
    EmbeddedSink,
    RetrySchedule,
    SecretSource,
    Sink,
    build_payload,
    enqueue,
    new_secret,
)
from gcwm.spec import Itsm
from gcwm.store import Store, connect
from gcwm.store.outbox import OutboxMessage, OutboxRepository
from tests.support.databases import make_database_url

SECRET = new_secret()
SECRET_ENV = "GCWM_ITSM_TEST_WEBHOOK_SECRET"
#: Svix's eight attempts, with no waiting between them.
NO_WAIT = RetrySchedule(delays_s=(0.0,) * 7, jitter=0.0)
#: Long enough for the sink on loopback on a busy CI machine, short enough that a stalled answer fails
#: the attempt soon.
TIMEOUT_S = 2.0

Queue = Callable[..., str]
MakeDispatcher = Callable[..., Any]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    with make_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The store over the migrated test database."""
    store = Store(connect(database_url))
    yield store
    store.engine.dispose()


@pytest.fixture
def sink() -> Iterator[EmbeddedSink]:
    """An ITSM sink on a free loopback port that verifies webhooks with SECRET."""
    with EmbeddedSink(Sink(secret=SECRET)) as running:
        yield running


@pytest.fixture
def queue(store: Store) -> Queue:
    """Queue one event through `enqueue`, in its own transaction; returns the message id.

    `itsm` is the channel's `itsm:` document (camelCase); `target` instead writes a raw target through
    the repository (for settings the spec model does not carry yet)."""
    serial = iter(range(1, 1_000_000))

    def queue(
        *,
        itsm: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
        event_type: str = "channel.provisioned",
        channel: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> str:
        n = next(serial)
        name = channel or f"support-{n}"
        fields = data or {
            "outcome": "created",
            "deployment": {"id": f"dep-{n}"},
            "latencyMs": {"total": 12.5},
        }
        with store.unit_of_work() as tx:
            if target is not None:
                return OutboxRepository(tx.connection).add(
                    message_id=f"msg_test{n:028d}",
                    org_id="org-1",
                    channel=name,
                    event_type=event_type,
                    target=target,
                    payload=build_payload(
                        event_type, datetime.now(UTC), {**fields, "orgId": "org-1", "channel": name}
                    ),
                    audit_seq=n,
                )
            subscription = Itsm.model_validate(itsm)
            message_id = enqueue(
                tx,
                org_id="org-1",
                channel=name,
                subscription=subscription,
                event_type=event_type,
                data=fields,
                audit_seq=n,
                audit_hash=f"{n:064x}",
            )
        assert message_id is not None
        return message_id

    return queue


def webhook_itsm(url: str, **overrides: Any) -> dict[str, Any]:
    """A channel's `itsm:` for a webhook to `url`, signed with SECRET."""
    return {
        "type": "webhook",
        "url": url,
        "secretEnv": SECRET_ENV,
        "events": ["provisioned", "failed"],
        **overrides,
    }


@pytest.fixture
def make_dispatcher(store: Store) -> MakeDispatcher:
    """`async with make_dispatcher(**overrides) as dispatcher:` with the test secret and no waiting,
    allowed to send to the sink on loopback (as examples/policy-local-sink.yaml allows it)."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Dispatcher]:
        environ = {SECRET_ENV: SECRET, **overrides.pop("environ", {})}
        options: dict[str, Any] = {
            "secrets": SecretSource(environ=environ),
            "schedule": NO_WAIT,
            "timeout_s": TIMEOUT_S,
            "lease_s": 5.0,
            "allow_private": True,
            **overrides,
        }
        async with Dispatcher(store, **options) as dispatcher:
            yield dispatcher

    return make


def message(store: Store, message_id: str) -> OutboxMessage:
    """The message as the outbox holds it now."""
    with store.unit_of_work() as tx:
        return OutboxRepository(tx.connection).get(message_id)
