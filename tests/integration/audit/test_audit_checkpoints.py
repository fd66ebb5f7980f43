"""Signed heads: checkpoints every N entries and at the end of a run, and the head kept outside the
database, which catches what deleting rows from both tables would hide."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from gcwm.audit import SignedHead, SigningKey, end_run, head_path, read_head, verify_store
from gcwm.audit.checkpoints import write_head
from gcwm.store import Store
from gcwm.store.audit import AuditRepository, database_name
from tests.integration.audit.conftest import LOG, Append


def test_only_the_head_file_catches_removing_the_newest_checkpoint_with_the_newest_entries(
    log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """A tail cut back to a checkpoint looks clean to the database alone: verify without a head kept
    outside it fails for that reason (issue 23), and with the head file names the truncation."""
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 30"))
        c.execute(sa.text("DELETE FROM audit_checkpoints WHERE seq > 30"))

    assert verify_store(store, key.public_key).reason == "no head"
    result = verify_store(store, key.public_key, head_file=log)
    assert (result.ok, result.first_bad, result.reason) == (False, 31, "truncated")
    assert str(log) in result.message


def test_emptying_the_log_is_caught_by_the_head_file(
    log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """Deleting every entry and checkpoint still leaves the head recorded at the end of the run."""
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_entries"))
        c.execute(sa.text("DELETE FROM audit_checkpoints"))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.entries, result.first_bad, result.reason) == (False, 0, 1, "truncated")


def test_a_head_file_re_signed_with_another_key_is_caught(log: Path, store: Store, key: SigningKey) -> None:
    """The head kept outside the database is checked against the trusted key like a checkpoint."""
    database = database_name(store.engine)
    found = read_head(log, database)
    assert found is not None
    head, first = found
    signature = base64.b64encode(Ed25519PrivateKey.generate().sign(head.message())).decode()
    forged = {**head.to_dict(), "keyId": "mallory", "signature": signature, "first": first}
    log.write_text(json.dumps({"heads": {database: forged}}))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, LOG, "bad signature")
    assert "mallory" in result.message


def test_checkpoints_are_made_every_n_entries_and_at_the_end_of_a_run(
    append: Append, store: Store, key: SigningKey, home: Path
) -> None:
    """With N = 4, ten appends sign heads 4 and 8; the end of the run signs 10 and writes it out."""
    append(10, every=4)
    with store.unit_of_work() as tx:
        assert [c.seq for c in AuditRepository(tx.connection).checkpoints()] == [4, 8]

    signed = end_run(store, key, head_path(home))
    again = end_run(store, key, head_path(home))

    assert signed is not None and signed.seq == 10 and signed.is_signed_by(key.public_key)
    assert again == signed  # nothing new: the head is signed once
    with store.unit_of_work() as tx:
        repo = AuditRepository(tx.connection)
        assert [c.seq for c in repo.checkpoints()] == [4, 8, 10]
        first = repo.first()
    recorded = read_head(head_path(home), database_name(store.engine))
    assert first is not None and recorded == (signed, first.hash)


def test_the_head_file_keeps_a_newer_head_and_another_chains_head(
    append: Append, store: Store, key: SigningKey, home: Path
) -> None:
    """The recorded head only moves forward along one chain; anything else leaves it as evidence."""
    append(3)
    newer = end_run(store, key, head_path(home))
    database = database_name(store.engine)
    kept = read_head(head_path(home), database)
    assert newer is not None and kept is not None

    older = SignedHead(2, "a" * 64, newer.at, newer.key_id, newer.signature)
    write_head(head_path(home), database, older, first=kept[1])
    another_chain = SignedHead(9, "b" * 64, newer.at, newer.key_id, newer.signature)
    write_head(head_path(home), database, another_chain, first="c" * 64)

    assert read_head(head_path(home), database) == kept
