"""Heads kept outside gcwm (issue 23, item 3): a signed head an outsider holds (an `audit.checkpoint`
event, or `gcwm audit sign --output json`) proves the log extends it, where a head file that can be
rewritten, or that has no record for the database, cannot."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from gcwm.audit import (
    KeptHead,
    SignedHead,
    SigningKey,
    head_document,
    read_head,
    read_head_document,
    verify_export,
    verify_store,
    write_jsonl,
)
from gcwm.audit.checkpoints import write_head
from gcwm.errors import ConfigError
from gcwm.store import Store, connect
from gcwm.store.audit import AuditRepository, database_name
from tests.integration.audit.conftest import LOG
from tests.support.audit_tampering import copy_sqlite, rechain


def _recorded(log: Path, store: Store) -> tuple[SignedHead, str]:
    found = read_head(log, database_name(store.engine))
    assert found is not None
    return found


def _kept(head: SignedHead) -> KeptHead:
    return KeptHead(head, "the ITSM copy")


def _checkpoint(store: Store, seq: int) -> SignedHead:
    with store.unit_of_work() as tx:
        (row,) = [c for c in AuditRepository(tx.connection).checkpoints() if c.seq == seq]
    return SignedHead.from_checkpoint(row)


def test_an_older_signed_head_replayed_after_truncation_is_caught_by_a_kept_head(
    log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """Cut back to the checkpoint at 20 and put its (genuine) signed head in the head file: only the
    newer head someone kept shows entries were removed."""
    newest, first = _recorded(log, store)
    older = _checkpoint(store, 20)
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 20"))
        c.execute(sa.text("DELETE FROM audit_checkpoints WHERE seq > 20"))
    log.write_text(json.dumps({"heads": {database_name(store.engine): {**older.to_dict(), "first": first}}}))

    result = verify_store(store, key.public_key, head_file=log, kept=[_kept(newest)])

    assert (result.ok, result.first_bad, result.reason) == (False, 21, "truncated")
    assert f"the head at seq {LOG} kept in the ITSM copy" in result.message


def test_a_kept_head_not_signed_by_a_trusted_key_fails(log: Path, store: Store, key: SigningKey) -> None:
    """A head signed by any other key proves nothing, and says so."""
    newest, _ = _recorded(log, store)
    signature = base64.b64encode(Ed25519PrivateKey.generate().sign(newest.message())).decode()
    forged = SignedHead(newest.seq, newest.hash, newest.at, "mallory", signature)

    result = verify_store(store, key.public_key, head_file=log, kept=[_kept(forged)])

    assert (result.ok, result.first_bad, result.reason) == (False, LOG, "bad signature")
    assert "the ITSM copy" in result.message


def test_a_log_that_diverges_from_a_kept_head_fails(
    log: Path, engine: Engine, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """Every entry kept but one summary changed and the chain rebuilt: the kept head's hash at 40 no
    longer matches, even with the head file gone."""
    newest, _ = _recorded(log, store)

    def edit(entry: dict[str, object]) -> bool:
        if entry["seq"] == 5:
            entry["actor"] = "mallory"
        return True

    assert rechain(engine, edit) == LOG

    result = verify_store(store, key.public_key, head_file=tmp_path / "none.json", kept=[_kept(newest)])

    assert (result.ok, result.first_bad, result.reason) == (False, 1, "edited")
    assert "the ITSM copy" in result.message


def test_a_copy_at_another_path_and_its_export_verify_with_a_kept_head_and_fail_when_cut(
    database_url: str, log: Path, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """A copy (or a restore) has no head record of its own: a kept head vouches for it, for its export
    too, and still catches entries removed from either."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a file copy is SQLite's; PostgreSQL is covered by the other cases")
    newest, _ = _recorded(log, store)
    engine = connect(copy_sqlite(database_url, tmp_path / "copy" / "gcwm.db"))
    try:
        copied = Store(engine)
        intact = verify_store(copied, key.public_key, head_file=log, kept=[_kept(newest)])
        out = io.StringIO()
        write_jsonl(copied, out, public_key=key.public_key, head_file=log)
        lines = out.getvalue().splitlines()
        with engine.begin() as c:
            c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 30"))
            c.execute(sa.text("DELETE FROM audit_checkpoints WHERE seq > 30"))
        cut = verify_store(copied, key.public_key, head_file=log, kept=[_kept(newest)])
    finally:
        engine.dispose()
    shortened = [line for line in lines if json.loads(line).get("seq", 0) <= 30]

    assert (intact.ok, intact.reason) == (True, None)
    assert (cut.ok, cut.first_bad, cut.reason) == (False, 31, "truncated")
    assert verify_export(lines, key.public_key).reason == "no head"
    assert verify_export(lines, key.public_key, kept=[_kept(newest)]).ok
    short = verify_export(shortened, key.public_key, kept=[_kept(newest)])
    assert (short.ok, short.first_bad, short.reason) == (False, 31, "truncated")


def test_head_documents_are_read_as_sign_prints_them_and_as_the_event_carries_them(
    log: Path, store: Store, tmp_path: Path
) -> None:
    """The signed head alone, `audit sign --output json`'s document, and the whole webhook payload."""
    newest, _ = _recorded(log, store)
    document = head_document(newest, database_name(store.engine))
    shapes = {
        "head.json": newest.to_dict(),
        "sign.json": document,
        "event.json": {
            "type": "audit.checkpoint",
            "timestamp": newest.at,
            "data": {**document, "orgId": "o"},
        },
    }
    for name, shape in shapes.items():
        (tmp_path / name).write_text(json.dumps(shape))
        assert read_head_document(tmp_path / name) == newest
    (tmp_path / "bad.json").write_text(json.dumps({"head": {"seq": "forty"}}))
    with pytest.raises(ConfigError, match=r"bad\.json"):
        read_head_document(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match=r"missing\.json"):
        read_head_document(tmp_path / "missing.json")


def test_a_head_file_rewritten_with_a_forged_record_cannot_hide_a_kept_head(
    log: Path, store: Store, key: SigningKey
) -> None:
    """write_head keeps the newer record; a kept head is checked whatever the head file says."""
    newest, first = _recorded(log, store)
    write_head(log, database_name(store.engine), _checkpoint(store, 20), first=first)

    result = verify_store(store, key.public_key, head_file=log, kept=[_kept(newest)])

    assert result.ok and _recorded(log, store)[0] == newest
