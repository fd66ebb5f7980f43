"""The audit chain on real databases: appends never fork it, and every kind of tampering is named where
it happened (edited, deleted, reordered, inserted, truncated, re-signed)."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import queue
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection, Engine

from gcwm.audit import (
    SignedHead,
    SigningKey,
    checkpoint,
    end_run,
    format_time,
    head_path,
    record,
    verify_store,
)
from gcwm.audit.chain import GENESIS, link, seal
from gcwm.errors import StoreError
from gcwm.store import Store, connect
from gcwm.store.audit import AuditEntry, AuditRepository
from tests.integration.audit import audit_workers
from tests.integration.audit.conftest import LOG, event

PROCESSES = 4
PER_PROCESS = 25
DEADLINE_S = 60
BIG = 100_000

Tamper = Callable[[Connection], None]


def _row(c: Connection, seq: int) -> tuple[str, str]:
    row = c.execute(sa.text("SELECT body, hash FROM audit_entries WHERE seq = :s"), {"s": seq}).one()
    return str(row.body), str(row.hash)


def _shift(c: Connection, first: int, by: int) -> None:
    """Renumber the entries from `first` on by `by`, through negative seqs so no key collides."""
    c.execute(
        sa.text("UPDATE audit_entries SET seq = -(seq + :by) WHERE seq >= :first"), {"by": by, "first": first}
    )
    c.execute(sa.text("UPDATE audit_entries SET seq = -seq WHERE seq < 0"))


def _set(c: Connection, seq: int, body: str, hash_: str) -> None:
    c.execute(
        sa.text("UPDATE audit_entries SET body = :b, hash = :h WHERE seq = :s"),
        {"b": body, "h": hash_, "s": seq},
    )


def _insert(c: Connection, seq: int, body: str, hash_: str) -> None:
    c.execute(
        sa.text(
            "INSERT INTO audit_entries (seq, at, action, org_id, body, hash) "
            "VALUES (:s, :at, 'job.enqueued', 'org-1', :b, :h)"
        ),
        {"s": seq, "at": "2026-01-01 00:00:00", "b": body, "h": hash_},
    )


def _reseal(c: Connection, seq: int, prev: str, **changes: Any) -> str:
    """Rewrite entry `seq` after `prev` with `changes`, as an attacker who knows the scheme would."""
    document = json.loads(_row(c, seq)[0])
    fields = {k: v for k, v in document.items() if k not in ("seq", "at", "prev")} | changes
    body, hash_ = seal(seq, datetime.fromisoformat(document["at"]), prev, fields)
    _set(c, seq, body, hash_)
    return hash_


def _swap(c: Connection, a: int, b: int) -> None:
    c.execute(sa.text("UPDATE audit_entries SET seq = -1 WHERE seq = :a"), {"a": a})
    c.execute(sa.text("UPDATE audit_entries SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    c.execute(sa.text("UPDATE audit_entries SET seq = :b WHERE seq = -1"), {"b": b})


def edit_field(c: Connection) -> None:
    c.execute(sa.text("UPDATE audit_entries SET body = replace(body, 'alice@', 'mallory@') WHERE seq = 17"))


def edit_hash(c: Connection) -> None:
    c.execute(sa.text("UPDATE audit_entries SET hash = :h WHERE seq = 17"), {"h": "f" * 64})


def edit_and_rehash(c: Connection) -> None:
    _reseal(c, 17, _row(c, 16)[1], actor="mallory@example.com")


def rewrite_the_rest(c: Connection) -> None:
    prev = _reseal(c, 17, _row(c, 16)[1], actor="mallory@example.com")
    for seq in range(18, LOG + 1):
        prev = _reseal(c, seq, prev)


def delete_one(c: Connection) -> None:
    c.execute(sa.text("DELETE FROM audit_entries WHERE seq = 17"))


def delete_and_renumber(c: Connection) -> None:
    delete_one(c)
    _shift(c, 18, -1)


def swap_neighbours(c: Connection) -> None:
    _swap(c, 17, 18)


def swap_apart(c: Connection) -> None:
    _swap(c, 12, 16)


def insert_chained(c: Connection) -> None:
    prev = _row(c, 16)[1]
    _shift(c, 17, 1)
    fields = {"action": "channel.deleted", "actor": "mallory", "orgId": "org-1", "targets": {}}
    body, hash_ = seal(17, datetime.now(UTC), prev, {**fields, "outcome": "succeeded", "correlationId": "x"})
    _insert(c, 17, body, hash_)


def insert_unchained(c: Connection) -> None:
    _shift(c, 17, 1)
    _insert(c, 17, '{"action":"channel.deleted","seq":17}', "0" * 64)


def insert_copy(c: Connection) -> None:
    copy = _row(c, 12)
    _shift(c, 17, 1)
    _insert(c, 17, *copy)


def truncate_tail(c: Connection) -> None:
    c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 33"))


def truncate_tail_and_checkpoint(c: Connection) -> None:
    truncate_tail(c)
    c.execute(sa.text("DELETE FROM audit_checkpoints WHERE seq > 30"))


def resign_checkpoint(c: Connection) -> None:
    row = next(cp for cp in AuditRepository(c).checkpoints() if cp.seq == 20)
    message = SignedHead(row.seq, row.hash, format_time(row.at), "", "").message()
    signature = base64.b64encode(Ed25519PrivateKey.generate().sign(message)).decode()
    c.execute(
        sa.text("UPDATE audit_checkpoints SET signature = :sig, key_id = 'mallory' WHERE seq = 20"),
        {"sig": signature},
    )


@pytest.mark.parametrize(
    ("tamper", "first_bad", "reason"),
    [
        pytest.param(edit_field, 17, "edited", id="edit-a-field"),
        pytest.param(edit_hash, 17, "edited", id="edit-the-hash"),
        pytest.param(edit_and_rehash, 17, "edited", id="edit-and-rehash-one"),
        # A consistent rewrite is only caught at the next signed head: the first entry it can no
        # longer vouch for is the one after the last head that still matches (checkpoint 10).
        pytest.param(rewrite_the_rest, 11, "edited", id="rewrite-the-rest"),
        pytest.param(delete_one, 17, "deleted", id="delete-one"),
        pytest.param(delete_and_renumber, 17, "deleted", id="delete-and-renumber"),
        pytest.param(swap_neighbours, 17, "reordered", id="swap-neighbours"),
        pytest.param(swap_apart, 12, "reordered", id="swap-apart"),
        pytest.param(insert_chained, 17, "inserted", id="insert-chained"),
        pytest.param(insert_unchained, 17, "inserted", id="insert-unchained"),
        pytest.param(insert_copy, 17, "inserted", id="insert-a-copy"),
        pytest.param(truncate_tail, 34, "truncated", id="truncate-the-tail"),
        pytest.param(truncate_tail_and_checkpoint, 34, "truncated", id="truncate-tail-and-checkpoint"),
        pytest.param(resign_checkpoint, 20, "bad signature", id="re-sign-a-checkpoint"),
    ],
)
def test_tampering_is_named_at_the_first_bad_entry(
    tamper: Tamper, first_bad: int, reason: str, log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """Each kind of tampering with the tables is detected, at the seq where it happened."""
    with engine.begin() as c:
        tamper(c)

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, first_bad, reason), result.message
    assert result.to_dict() == {
        "ok": False,
        "entries": result.entries,
        "firstBad": first_bad,
        "reason": reason,
    }


def test_a_clean_log_verifies(log: Path, store: Store, key: SigningKey) -> None:
    """An untouched log verifies: every entry, every checkpoint and the head file."""
    result = verify_store(store, key.public_key, head_file=log)

    assert result.to_dict() == {"ok": True, "entries": LOG, "firstBad": None, "reason": None}
    assert result.signed_heads == 5  # checkpoints 10, 20, 30, 40 and the head file's


def _signed(store: Store, key: SigningKey, home: Path) -> Path:
    """End the run (sign the head, record it outside the database), as every command does: the head
    file to verify with."""
    end_run(store, key, head_path(home))
    return head_path(home)


def test_an_entry_rolls_back_with_the_change_it_records(store: Store, key: SigningKey, home: Path) -> None:
    """The entry is part of the caller's transaction: a failed change leaves no entry behind."""
    with pytest.raises(RuntimeError), store.unit_of_work() as tx:
        record(tx, event(1), key=key)
        raise RuntimeError("the change failed")

    with store.unit_of_work() as tx:
        head = record(tx, event(2), key=key)

    assert head.seq == 1
    assert verify_store(store, key.public_key, head_file=_signed(store, key, home)).ok


def test_processes_appending_at_once_never_fork_the_chain(
    database_url: str, store: Store, home: Path, key: SigningKey
) -> None:
    """4 processes append 25 entries each, one transaction per entry: one chain of 100, every seq once."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=audit_workers.append_entries,
            args=(database_url, f"worker-{n}", str(home), PER_PROCESS, 7, start, results),
        )
        for n in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    reports: dict[str, Any] = {}
    try:
        for _ in workers:
            worker_id, report = results.get(timeout=DEADLINE_S)
            reports[worker_id] = report
    except queue.Empty:
        raise AssertionError(f"only {sorted(reports)} reported within {DEADLINE_S} s") from None
    finally:
        for process in workers:
            process.join(timeout=DEADLINE_S)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()

    failures = {w: r for w, r in reports.items() if isinstance(r, str)}
    assert not failures, "\n".join(f"{w}:\n{r}" for w, r in failures.items())
    seqs = sorted(seq for got in reports.values() for seq in got)
    assert seqs == list(range(1, PROCESSES * PER_PROCESS + 1))
    with store.unit_of_work() as tx:
        assert [c.seq for c in AuditRepository(tx.connection).checkpoints()] == list(range(7, 101, 7))
    result = verify_store(store, key.public_key, head_file=_signed(store, key, home))
    assert (result.ok, result.entries) == (True, PROCESSES * PER_PROCESS), result.message


def test_two_appends_of_one_seq_cannot_both_commit(store: Store, key: SigningKey) -> None:
    """The primary key is the last guard: an entry whose seq is taken is refused, not forked."""
    with store.unit_of_work() as tx:
        record(tx, event(1), key=key)
    at = datetime.now(UTC)
    body, hash_ = seal(1, at, GENESIS, event(2).fields())

    with pytest.raises(StoreError, match="appending audit entry 1"), store.unit_of_work() as tx:
        AuditRepository(tx.connection).insert(AuditEntry(1, at, "x", "org-1", None, None, body, hash_))


@pytest.fixture(scope="module")
def big_log() -> list[AuditEntry]:
    """BIG correctly chained entries, built once for both databases (bulk: `record` would take minutes)."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    prev, entries = GENESIS, []
    for seq in range(1, BIG + 1):
        at = start + timedelta(microseconds=seq)
        body, prev = seal(seq, at, prev, event(seq).fields())
        entries.append(
            AuditEntry(seq, at, "deployment.created", "org-1", f"web-{seq % 3}", f"job-{seq}", body, prev)
        )
    return entries


def test_a_clean_log_of_100_000_entries_verifies(
    big_log: list[AuditEntry], store: Store, key: SigningKey, home: Path
) -> None:
    """100 000 entries with a checkpoint every 1 000 verify clean (bench/audit.py times it)."""
    for at in range(0, BIG, 1000):
        with store.unit_of_work() as tx:
            AuditRepository(tx.connection).insert_many(big_log[at : at + 1000])
            checkpoint(tx, key)

    result = verify_store(store, key.public_key, head_file=_signed(store, key, home))

    assert result.to_dict() == {"ok": True, "entries": BIG, "firstBad": None, "reason": None}
    assert result.signed_heads == BIG // 1000 + 1  # and the head file's


def test_the_chain_hash_is_sha256_of_the_previous_hash_and_the_body(store: Store, key: SigningKey) -> None:
    """What an outside verifier recomputes: SHA-256(previous hash as 32 bytes || body as stored)."""
    with store.unit_of_work() as tx:
        first = record(tx, event(1), key=key)
        second = record(tx, event(2), key=key)
    with store.unit_of_work() as tx:
        rows = list(AuditRepository(tx.connection).chain())

    assert [r[0] for r in rows] == [1, 2]
    assert rows[0][2] == first.hash == hashlib.sha256(bytes(32) + rows[0][1].encode()).hexdigest()
    assert rows[1][2] == second.hash == link(first.hash, rows[1][1].encode())
    assert json.loads(rows[1][1])["prev"] == first.hash


def test_appends_through_two_engines_take_turns_without_forking(
    database_url: str, store: Store, key: SigningKey, home: Path
) -> None:
    """An engine's guessed head, gone stale by the other's append, is caught and the entry rebuilt."""
    other = Store(connect(database_url))
    try:
        for n in range(1, 7):
            with (store if n % 2 else other).unit_of_work() as tx:
                assert record(tx, event(n), key=key).seq == n
    finally:
        other.engine.dispose()

    assert verify_store(store, key.public_key, head_file=_signed(store, key, home)).to_dict() == {
        "ok": True,
        "entries": 6,
        "firstBad": None,
        "reason": None,
    }
