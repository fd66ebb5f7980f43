"""The outside witness (issue 23, item 3): each head a command signs as it ends also goes, as an
`audit.checkpoint` event, to the ITSM targets of channels subscribed to `checkpoint`, queued in the
transaction that signs it, and its delivery adds nothing to the log it vouches for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gcwm.audit import SigningKey, end_run, head_path, read_head_document, rotate, verify_store
from gcwm.audit.keys import load_signing_key
from gcwm.notify import Dispatcher, EmbeddedSink, SecretSource, Sink, enqueue_checkpoint, new_secret
from gcwm.spec import channel_key
from gcwm.store import Store
from gcwm.store.audit import AuditRepository, database_name
from gcwm.store.outbox import OutboxMessage, OutboxRepository
from tests.integration.audit.conftest import Append

SECRET_ENV = "GCWM_ITSM_WITNESS_SECRET"


def _itsm(url: str, events: list[str]) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "secretEnv": SECRET_ENV, "events": events}


def _channel(store: Store, name: str, itsm: dict[str, Any] | None, *, org: str = "org-1") -> None:
    spec: dict[str, Any] = {"name": name, **({"itsm": itsm} if itsm else {})}
    with store.unit_of_work() as tx:
        tx.channels.upsert_desired(org, name, channel_key(name), spec, f"hash-{name}")


def _witnessed(store: Store) -> list[OutboxMessage]:
    with store.unit_of_work() as tx:
        outbox = OutboxRepository(tx.connection)
        rows = outbox.list(limit=100)
    return sorted((m for m in rows if m.event_type == "audit.checkpoint"), key=lambda m: m.created_at)


def test_a_signed_head_is_queued_once_per_subscribed_target(
    append: Append, store: Store, key: SigningKey, home: Path, tmp_path: Path
) -> None:
    """Two channels share a target, a third has its own, a fourth is not subscribed, a fifth was
    removed: two events, each carrying the signed head; an unchanged head sends nothing again."""
    shared = _itsm("https://itsm.example.com/hook", ["provisioned", "checkpoint"])
    _channel(store, "web-a", shared)
    _channel(store, "web-b", shared)
    _channel(store, "web-c", _itsm("https://other.example.com/hook", ["checkpoint"]), org="org-2")
    _channel(store, "web-d", _itsm("https://itsm.example.com/hook", ["provisioned"]))
    _channel(store, "web-e", _itsm("https://gone.example.com/hook", ["checkpoint"]))
    with store.unit_of_work() as tx:
        tx.channels.mark_removed("org-1", channel_key("web-e"))
    append(7, every=0)

    signed = end_run(store, key, head_path(home), witness=enqueue_checkpoint)
    again = end_run(store, key, head_path(home), witness=enqueue_checkpoint)

    assert signed is not None and again == signed
    messages = _witnessed(store)
    assert sorted((m.org_id, m.channel, m.target["url"]) for m in messages) == [
        ("org-1", "web-a", "https://itsm.example.com/hook"),
        ("org-2", "web-c", "https://other.example.com/hook"),
    ]
    for message in messages:
        payload = json.loads(message.payload)
        assert payload["type"] == "audit.checkpoint"
        assert payload["data"]["head"] == signed.to_dict()
        assert payload["data"]["database"] == database_name(store.engine)
        assert message.audit_seq == signed.seq == 7
        path = tmp_path / f"{message.id}.json"
        path.write_text(message.payload)
        assert read_head_document(path) == signed


def test_a_rotation_sends_the_successors_head(
    append: Append, store: Store, key: SigningKey, home: Path, tmp_path: Path
) -> None:
    """The head the new key signs over the rotation entry is the one the witness gets."""
    _channel(store, "web-a", _itsm("https://itsm.example.com/hook", ["checkpoint"]))
    append(3, every=0)
    successor = load_signing_key(tmp_path / "next")

    signed = rotate(
        store,
        key,
        successor,
        actor="ops",
        correlation_id="rot",
        head_file=head_path(home),
        witness=enqueue_checkpoint,
    )

    (message,) = _witnessed(store)
    assert json.loads(message.payload)["data"]["head"] == signed.to_dict()
    assert signed.key_id == successor.key_id


async def test_delivering_a_checkpoint_event_adds_no_entry_to_the_log_it_vouches_for(
    append: Append, store: Store, key: SigningKey, home: Path, tmp_path: Path
) -> None:
    """Were the delivery audited, its entry would need a new head, whose event would need another."""
    secret = new_secret()
    with EmbeddedSink(Sink(secret=secret)) as sink:
        _channel(store, "web-a", _itsm(f"{sink.url}/webhook", ["checkpoint"]))
        append(4, every=0)
        signed = end_run(store, key, head_path(home), witness=enqueue_checkpoint)
        secrets = SecretSource(environ={SECRET_ENV: secret})
        async with Dispatcher(store, allow_private=True, secrets=secrets) as dispatcher:
            result = await dispatcher.run_due()
        (call,) = sink.sink.received()

    assert result.delivered == 1
    assert signed is not None and json.loads(call.body)["data"]["head"] == signed.to_dict()
    with store.unit_of_work() as tx:
        head = AuditRepository(tx.connection).head()
    assert head is not None and head.seq == signed.seq
    assert verify_store(store, key.public_key, head_file=head_path(home)).ok
