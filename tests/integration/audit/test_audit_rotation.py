"""Key rotation: the newest key vouches for the keys it succeeded, and only for heads before each
handover; a retired or unrelated key may not sign again."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from gcwm.audit import (
    AuditEvent,
    SigningKey,
    check_signer,
    end_run,
    head_path,
    load_signing_key,
    read_signing_key,
    record,
    rotate,
    rotate_configured,
    verify_export,
    verify_store,
    write_jsonl,
)
from gcwm.audit.checkpoints import sign_head
from gcwm.audit.keys import public_key_pem, successor_key
from gcwm.audit.rotation import ROTATED
from gcwm.errors import ConfigError
from gcwm.store import Store
from gcwm.store.audit import AuditCheckpoint, AuditRepository
from tests.integration.audit.conftest import LOG, Append, event


def _key(path: Path) -> SigningKey:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return read_signing_key(path)


def _rotate(store: Store, old: SigningKey, new: SigningKey, home: Path) -> int:
    return rotate(store, old, new, actor="ops", correlation_id="rot-1", head_file=head_path(home)).seq


def test_after_a_rotation_the_new_key_alone_verifies_the_whole_log(
    log: Path, store: Store, key: SigningKey, home: Path, tmp_path: Path, append: Append
) -> None:
    """Old checkpoints (signed by the retired key) and new ones (the successor's) all check out."""
    new = _key(tmp_path / "new.pem")
    seq = _rotate(store, key, new, home)
    with store.unit_of_work() as tx:
        for n in range(5):
            record(tx, event(100 + n), key=new, every=10)
    end_run(store, new, head_path(home))

    result = verify_store(store, new.public_key, head_file=head_path(home))

    assert (result.ok, result.entries) == (True, LOG + 1 + 5), result.message
    assert seq == LOG + 1
    assert f"key {new.key_id} and 1 it succeeded" in result.message
    with store.unit_of_work() as tx:
        (row,) = AuditRepository(tx.connection).rows_with_action(ROTATED)
    body = json.loads(row[1])
    assert body["summary"]["retired"]["fingerprint"] == key.key_id
    assert body["summary"]["successor"] == {"fingerprint": new.key_id, "pem": public_key_pem(new.public_key)}
    assert (body["actor"], body["correlationId"]) == ("ops", "rot-1")


def test_the_retired_key_may_not_sign_again_and_a_head_it_signs_later_is_refused(
    log: Path, store: Store, engine: Engine, key: SigningKey, home: Path, tmp_path: Path
) -> None:
    """Provisioning with the old key stops before writing; a checkpoint forged with it is caught."""
    new = _key(tmp_path / "new.pem")
    seq = _rotate(store, key, new, home)
    with store.unit_of_work() as tx, pytest.raises(ConfigError, match=f"signed by key {new.key_id}"):
        check_signer(tx, key)
    with store.unit_of_work() as tx:
        head = record(tx, event(200), key=None)
        # What a thief of the old key could do: sign the newest head with it.
        signed = sign_head(key, head, AuditRepository(tx.connection).now())
        AuditRepository(tx.connection).insert_checkpoint(
            AuditCheckpoint(
                head.seq, head.hash, AuditRepository(tx.connection).now(), key.key_id, signed.signature
            )
        )

    result = verify_store(store, new.public_key)

    assert (result.ok, result.first_bad, result.reason) == (False, seq + 1, "bad signature")
    assert f"retired at seq {seq}" in result.message


def test_a_rotation_entry_the_successor_never_signed_does_not_make_its_key_trusted(
    store: Store, engine: Engine, tmp_path: Path
) -> None:
    """Mallory appends an entry claiming her key was retired in favour of the real one: no signature
    by the real key covers it, so her re-signed checkpoint stays a bad signature."""
    real = _key(tmp_path / "real.pem")
    mallory = _key(tmp_path / "mallory.pem")
    with store.unit_of_work() as tx:
        heads = [record(tx, event(n), key=None) for n in range(1, 6)]
        repo = AuditRepository(tx.connection)
        at = repo.now()
        forged = sign_head(mallory, heads[2], at)
        repo.insert_checkpoint(AuditCheckpoint(3, heads[2].hash, at, mallory.key_id, forged.signature))
        summary = {
            "retired": {"fingerprint": mallory.key_id, "pem": public_key_pem(mallory.public_key)},
            "successor": {"fingerprint": real.key_id, "pem": public_key_pem(real.public_key)},
        }
        claim = AuditEvent(
            action=ROTATED,
            actor="mallory",
            org_id="",
            outcome="succeeded",
            correlation_id="x",
            summary=summary,
        )
        record(tx, claim, key=None)

    result = verify_store(store, real.public_key)

    assert (result.ok, result.first_bad, result.reason) == (False, 3, "bad signature")


def test_an_unrelated_key_may_not_sign_a_log_another_key_signs(
    log: Path, store: Store, tmp_path: Path
) -> None:
    """Pointing GCWM_AUDIT_KEY_FILE at a new key without rotating is refused, saying what to do."""
    other = _key(tmp_path / "other.pem")
    with store.unit_of_work() as tx, pytest.raises(ConfigError, match="gcwm audit rotate-key"):
        check_signer(tx, other)
    with pytest.raises(ConfigError, match="nothing to rotate"):
        rotate(store, other, other, actor="ops", correlation_id="c")


def test_an_export_after_a_rotation_verifies_offline_and_without_its_rotation_lines_does_not(
    log: Path, store: Store, key: SigningKey, home: Path, tmp_path: Path
) -> None:
    """The export repeats each rotation entry before the entries, so one pass knows every signer."""
    new = _key(tmp_path / "new.pem")
    _rotate(store, key, new, home)
    out = io.StringIO()
    write_jsonl(store, out, public_key=new.public_key, head_file=head_path(home))
    lines = out.getvalue().splitlines()
    assert sum(json.loads(line)["type"] == "rotation" for line in lines) == 1

    assert verify_export(lines, new.public_key).ok
    stripped = [line for line in lines if json.loads(line)["type"] != "rotation"]
    result = verify_export(stripped, new.public_key)
    assert (result.ok, result.first_bad, result.reason) == (False, 10, "bad signature")
    forged_rotation = [
        json.dumps({**json.loads(line), "hash": "0" * 64}) if json.loads(line)["type"] == "rotation" else line
        for line in lines
    ]
    assert not verify_export(forged_rotation, new.public_key).ok


def test_rotating_the_home_key_puts_the_successor_in_its_place(
    log: Path, store: Store, key: SigningKey, home: Path
) -> None:
    """Under GCWM_HOME the successor replaces audit-key.pem once the rotation is recorded."""
    result = rotate_configured(store, home, None, None)

    assert (result.retired, result.seq) == (key.key_id, LOG + 1)
    current = load_signing_key(home)
    assert current.key_id == result.successor != key.key_id
    assert sorted(p.name for p in home.iterdir() if not p.name.startswith(".")) == [
        "audit-head.json",
        "audit-key.pem",
    ]
    assert verify_store(store, current.public_key, head_file=head_path(home)).ok


def test_a_rotation_interrupted_after_it_was_recorded_is_finished_by_running_it_again(
    log: Path, store: Store, key: SigningKey, home: Path
) -> None:
    """The crash window: the log names the successor, which still waits in audit-key.next.pem. The
    retired key is refused; rotate-key again moves the successor in rather than rotating twice."""
    successor = successor_key(home)
    seq = _rotate(store, key, successor, home)  # recorded; the process dies before the file moves
    with store.unit_of_work() as tx, pytest.raises(ConfigError, match="finishes a rotation"):
        check_signer(tx, load_signing_key(home))

    finished = rotate_configured(store, home, None, None)

    assert (finished.retired, finished.successor, finished.seq) == (None, successor.key_id, seq)
    assert load_signing_key(home).key_id == successor.key_id
    assert not (home / "audit-key.next.pem").exists()
    with store.unit_of_work() as tx:
        assert len(AuditRepository(tx.connection).rows_with_action(ROTATED)) == 1


def test_with_a_key_file_setting_a_new_key_is_required_and_no_file_is_written(
    store: Store, tmp_path: Path, home: Path
) -> None:
    """gcwm never writes GCWM_AUDIT_KEY_FILE's key: the operator gives the successor and points at it."""
    current = _key(tmp_path / "current.pem")
    with store.unit_of_work() as tx:
        record(tx, event(1), key=None)
    end_run(store, current, head_path(home))
    with pytest.raises(ConfigError, match="pass --new-key"):
        rotate_configured(store, home, current.path, None)
    new = _key(tmp_path / "new.pem")
    before = {p: p.read_bytes() for p in (current.path, new.path)}

    result = rotate_configured(store, home, current.path, new.path)

    assert (result.retired, result.successor, result.key_file) == (current.key_id, new.key_id, new.path)
    assert {p: p.read_bytes() for p in (current.path, new.path)} == before
    assert not (home / "audit-key.pem").exists() and not (home / "audit-key.next.pem").exists()
    assert verify_store(store, new.public_key, head_file=head_path(home)).ok


def test_a_fresh_log_takes_any_key(store: Store, tmp_path: Path) -> None:
    """No checkpoints yet: nothing to hand over from, the first key signs."""
    with store.unit_of_work() as tx:
        check_signer(tx, _key(tmp_path / "k.pem"))
