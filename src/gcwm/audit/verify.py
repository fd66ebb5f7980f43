"""Verifying the audit log: walk the chain, check every signed head, name the first bad entry.

The walk recomputes each hash from the previous one and the stored body (no JSON parsing on the way:
that is what keeps it above 100 000 entries a second) and compares seq with the next expected one.
Only at the first row that does not fit does it parse bodies, to say what happened there:

- deleted: a seq is missing, or a row holds a later entry and the one that belongs there is nowhere;
- reordered: a row holds a later entry, and the entry that belongs there comes further on;
- inserted: a row that does not belong (the row after it follows the row before it), or a row holding
  an earlier entry (everything between was inserted, or it repeats that entry);
- edited: the row's body or hash changed, or (when the row is intact but follows a different hash)
  the row before it was replaced with a new hash;
- truncated: the log ends before a head someone signed: a checkpoint, or the head recorded outside
  the database at the end of a run (GCWM_HOME/audit-head.json);
- bad signature: a checkpoint, the recorded head or a kept head is not signed by the trusted public
  key, or by a key it succeeded (`rotation`) for a head before that key was retired.

A signed head whose hash differs from the entry at its seq means the entries since the last head that
matched were rewritten with a consistent chain: the first of those is named.

It fails closed (issue 23): a chain that holds together proves nothing by itself, since anyone who can
write the database can rebuild one. So the log is intact only when, besides the above,
- a signed head from a trusted key covers its last entry (else `unsigned`: entries appended since the
  last signing, or forged, a key rotation entry included);
- a head kept outside the database vouches for where it ends: the head file's record for this database,
  or a head someone kept (`--head`: an `audit.checkpoint` event, `gcwm audit sign --output json`)
  (else `no head`: a copy, a restore, another home; a head file without a record is not skipped);
- every such outside head has its checkpoint in the database (else `missing checkpoint`);
- in the database, the columns listings filter on (time, action, org, channel, job) say what the
  hashed entry says (else `edited`: nulling `channel` would hide an entry from `audit show`).
Only a head kept by someone else catches a log cut back to an older signed head whose record in the
head file was put back too: that is what `--head` is for.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gcwm.audit.chain import link
from gcwm.audit.checkpoints import SignedHead, read_head
from gcwm.audit.keys import key_id
from gcwm.audit.rotation import Signer, read_rotations, rotation_rows, trusted_signers
from gcwm.errors import ConfigError, StoreError
from gcwm.store import Store, UnitOfWork
from gcwm.store.audit import AuditRepository, ChainRow, SearchRow, database_name

EDITED = "edited"
DELETED = "deleted"
REORDERED = "reordered"
INSERTED = "inserted"
TRUNCATED = "truncated"
BAD_SIGNATURE = "bad signature"
UNSIGNED = "unsigned"
NO_HEAD = "no head"
MISSING_CHECKPOINT = "missing checkpoint"

# How far back the walk remembers hashes, to tell a repeated entry from entries inserted before it.
_WINDOW = 4096
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class VerifyResult:
    """What verify found: `first_bad` and `reason` are None when the log is intact."""

    ok: bool
    entries: int
    first_bad: int | None
    reason: str | None
    message: str
    signed_heads: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The result as `gcwm audit verify --output json` prints it."""
        return {"ok": self.ok, "entries": self.entries, "firstBad": self.first_bad, "reason": self.reason}


@dataclass(frozen=True)
class RecordedHead:
    """The head written outside the database at the end of a run, and its chain's first hash."""

    head: SignedHead
    first: str
    source: str


@dataclass(frozen=True)
class KeptHead:
    """A signed head someone kept outside gcwm (`gcwm audit verify --head FILE`), and where from."""

    head: SignedHead
    source: str


@dataclass(frozen=True, order=True)
class _Problem:
    first_bad: int
    rank: int  # at one position, a broken chain says more than a column or a truncation, and those
    # more than a signature
    reason: str
    message: str


def verify_store(
    store: Store,
    public_key: Ed25519PublicKey | None,
    *,
    head_file: Path | None = None,
    kept: Sequence[KeptHead] = (),
) -> VerifyResult:
    """Verify the store's audit log against `public_key`, the head recorded in `head_file` and the
    heads others `kept`."""
    with UnitOfWork(store.engine, read_only=True) as tx:
        repo = AuditRepository(tx.connection)
        database = database_name(tx.connection)
        # Heads first, then entries: the log only grows, so every head read refers to an entry
        # the walk will find, even on PostgreSQL where each statement sees the newest commits.
        recorded = None
        if head_file is not None:
            found = read_head(head_file, database)
            if found is not None:
                recorded = RecordedHead(found[0], found[1], str(head_file))
        unrecorded = (
            f"{head_file} holds no head for {database}"
            if head_file is not None
            else f"no head file was read for {database}"
        )
        heads = [SignedHead.from_checkpoint(row) for row in repo.checkpoints()]
        rotations = rotation_rows(repo)
        columns = _ColumnCheck()
        return _verify(
            columns.rows(repo),
            heads,
            public_key,
            recorded=recorded,
            rotations=rotations,
            kept=kept,
            unrecorded=unrecorded,
            columns=columns,
        )


def verify_chain(
    rows: Iterable[ChainRow],
    checkpoints: Sequence[SignedHead],
    public_key: Ed25519PublicKey | None,
    *,
    recorded: RecordedHead | None = None,
    rotations: Sequence[ChainRow] = (),
    kept: Sequence[KeptHead] = (),
    unrecorded: str = "no head was recorded outside the database",
) -> VerifyResult:
    """Walk `rows` (seq, body, hash) in seq order and check the signed heads against them.

    `rotations` are the log's key rotation entries, read ahead: through them `public_key` vouches for
    the keys it succeeded; the walk checks each is the chain's entry at its seq. `unrecorded` says,
    for a `no head` failure, where a recorded head was looked for."""
    return _verify(
        rows,
        checkpoints,
        public_key,
        recorded=recorded,
        rotations=rotations,
        kept=kept,
        unrecorded=unrecorded,
        columns=None,
    )


def _verify(
    rows: Iterable[ChainRow],
    checkpoints: Sequence[SignedHead],
    public_key: Ed25519PublicKey | None,
    *,
    recorded: RecordedHead | None,
    rotations: Sequence[ChainRow],
    kept: Sequence[KeptHead],
    unrecorded: str,
    columns: _ColumnCheck | None,
) -> VerifyResult:
    outside = [(k.head, f"the head at seq {k.head.seq} kept in {k.source}") for k in kept]
    if recorded is not None:
        outside.append((recorded.head, f"the head at seq {recorded.head.seq} recorded in {recorded.source}"))
    signed = [(c, f"the checkpoint at seq {c.seq}") for c in checkpoints] + outside
    if signed and public_key is None:
        msg = (
            f"no public key to check the audit log's {len(signed)} signed heads with: pass --public-key "
            "FILE or set GCWM_AUDIT_KEY_FILE"
        )
        raise ConfigError(msg)
    problems: list[_Problem] = []
    anchors: dict[int, list[tuple[str, str]]] = {}
    signers: dict[str, Signer] = {}
    trusted: list[int] = []  # seqs of the signed heads a trusted key vouches for
    if public_key is not None:
        signers = trusted_signers(public_key, read_rotations(rotations), [head for head, _ in signed])
    for head, source in signed:
        assert public_key is not None
        signer = signers.get(head.key_id)
        if signer is not None and signer.may_sign(head):
            anchors.setdefault(head.seq, []).append((head.hash, source))
            trusted.append(head.seq)
        else:
            problems.append(_bad_signature(head, source, public_key, signer))
    for seq, _body, hash_ in rotations:
        anchors.setdefault(seq, []).append((hash_, f"the key rotation at seq {seq}"))
    if recorded is not None:
        anchors.setdefault(1, []).append((recorded.first, f"the first entry recorded in {recorded.source}"))

    count, last, problem = _walk(iter(rows), anchors)
    if columns is not None and columns.problem is not None:
        problems.append(columns.problem)
    if problem is not None:
        problems.append(problem)
    else:
        beyond = [(seq, source) for seq, found in anchors.items() if seq > last for _, source in found]
        if beyond:
            _, source = max(beyond, key=lambda found: found[0])  # on a tie, the checkpoint
            ends = f"the log ends at seq {last}" if last else "the log is empty"
            message = f"{ends}, before {source}: entries were removed"
            problems.append(_Problem(last + 1, 1, TRUNCATED, message))
    covered = max((seq for seq in trusted if seq <= last), default=0)
    if not problems:
        # Only a log that holds together is asked what vouches for it, so the first thing wrong is named.
        problems = _unvouched(last, covered, checkpoints, outside, unrecorded)
    if problems:
        worst = min(problems)
        return VerifyResult(False, count, worst.first_bad, worst.reason, worst.message, len(signed))
    message = f"{count} entries chain from the first; {len(signed)} signed heads match"
    if public_key is not None and signed:
        message += f" (key {key_id(public_key)}"
        message += f" and {len(signers) - 1} it succeeded)" if len(signers) > 1 else ")"
    message += f"; the newest covers the last entry, and {outside[0][1]} vouches for the end"
    return VerifyResult(True, count, None, None, message, len(signed))


def _unvouched(
    last: int,
    covered: int,
    checkpoints: Sequence[SignedHead],
    outside: Sequence[tuple[SignedHead, str]],
    unrecorded: str,
) -> list[_Problem]:
    """What is missing for an intact chain to count as the log: a checkpoint under each head kept
    outside, a signed head over the last entry, a head kept outside at all."""
    problems = []
    stored = {c.seq for c in checkpoints}
    for head, source in outside:
        if head.seq <= last and head.seq not in stored:
            message = f"{source} has no checkpoint in the database: checkpoints were deleted"
            problems.append(_Problem(head.seq, 0, MISSING_CHECKPOINT, message))
    if last > covered:
        why = (
            f"the newest covers seq {covered}"
            if covered
            else "there is no checkpoint from a trusted key in the database and no head recorded outside it"
        )
        message = (
            f"{_span(covered + 1, last, 'is', 'are')} not covered by a signed head ({why}): appended since "
            "the head was last signed, or forged; read them with `gcwm audit show`, and only if they are "
            "genuine sign them with `gcwm audit sign`"
        )
        problems.append(_Problem(covered + 1, 1, UNSIGNED, message))
    if not outside:
        # An empty log too: emptied, it looks like a new one, and only a head kept outside tells.
        ends = "where the log ends" if last else "that the log should be empty"
        message = (
            f"nothing kept outside the database vouches for {ends}: {unrecorded} (a copy, a restore, a "
            "database this GCWM_HOME never signed, or a new one); pass --head FILE with a head kept "
            "elsewhere (`gcwm audit sign --output json`, or an audit.checkpoint event)"
        )
        problems.append(_Problem(last + 1, 2, NO_HEAD, message))
    return problems


class _ColumnCheck:
    """Checks that the columns listings filter on (outside the hash) say what the hashed body says,
    and keeps the first row where they do not. The database finds that row (its JSON functions cost
    a fraction of a parse per row here); this reads it, to say what differs. Where the database cannot
    tell (a body that is not JSON, on PostgreSQL), every row is compared here as the walk reads it."""

    def __init__(self) -> None:
        self.problem: _Problem | None = None

    def rows(self, repo: AuditRepository) -> Iterator[ChainRow]:
        """The chain rows to walk, the columns checked before or on the way."""
        try:
            found = repo.first_search_mismatch()
        except StoreError:
            yield from self._compared(repo.search_rows())
            return
        if found is not None:
            self._compare_one(repo, found)
        yield from repo.chain()

    def _compare_one(self, repo: AuditRepository, seq: int) -> None:
        row = repo.search_row(seq)
        if row is not None:
            deque(self._compared([row]), maxlen=0)
        if self.problem is None:  # the database saw a difference this cannot name (a body not an object)
            message = (
                f"the row at seq {seq} was edited outside its entry: its columns do not say what it says"
            )
            self.problem = _Problem(seq, 1, EDITED, message)

    def _compared(self, rows: Iterable[SearchRow]) -> Iterator[ChainRow]:
        loads = json.loads
        for seq, body, hash_, at, action, org_id, channel, job_id in rows:
            if self.problem is None:
                try:
                    entry = loads(body)
                except ValueError:
                    entry = None  # not an entry: the chain walk says what is wrong with it
                if type(entry) is dict:
                    targets = entry.get("targets")
                    if type(targets) is not dict:
                        targets = {}
                    if (
                        at != entry.get("at")
                        or action != entry.get("action")
                        or org_id != entry.get("orgId")
                        or (channel or None) != (targets.get("channel") or None)
                        or (job_id or None) != (targets.get("job") or None)
                    ):
                        self.problem = _column_problem(
                            seq, entry, targets, at, action, org_id, channel, job_id
                        )
            yield seq, body, hash_


def _column_problem(
    seq: int,
    entry: dict[str, Any],
    targets: dict[str, Any],
    at: str | None,
    action: str,
    org_id: str,
    channel: str | None,
    job_id: str | None,
) -> _Problem:
    """The first search column of row `seq` that differs from its entry, as an `edited` problem."""
    pairs = (
        ("time", at, entry.get("at")),
        ("action", action, entry.get("action")),
        ("org", org_id, entry.get("orgId")),
        ("channel", channel or None, targets.get("channel") or None),
        ("job", job_id or None, targets.get("job") or None),
    )
    name, column, value = next(pair for pair in pairs if pair[1] != pair[2])
    message = (
        f"the row at seq {seq} was edited outside its entry: its {name} column says {column!r} and the "
        f"entry {value!r}, so listings filtering on it (`gcwm audit show`, /v1/audit) would miss or "
        "misplace it"
    )
    # Rank 1: where the chain breaks at the same row, that says more.
    return _Problem(seq, 1, EDITED, message)


def _walk(
    rows: Iterator[ChainRow], anchors: dict[int, list[tuple[str, str]]]
) -> tuple[int, int, _Problem | None]:
    """(rows read, last seq that fits, the first problem or None)."""
    sha256 = hashlib.sha256
    prev = bytes(32)
    expected = 1
    count = 0
    last_anchored = 0
    recent: deque[str] = deque(maxlen=_WINDOW)
    for row in rows:
        count += 1
        seq, body, stored = row
        digest = sha256(prev + body.encode()).digest()
        if seq != expected or digest.hex() != stored:
            problem, read = _diagnose(row, prev.hex(), expected, rows, recent)
            return count + read + sum(1 for _ in rows), expected - 1, problem
        found = anchors.get(seq)
        if found is not None:
            for hash_, source in found:
                if hash_ != stored:
                    first = last_anchored + 1
                    message = (
                        f"{_span(first, seq, 'was', 'were')} rewritten: entry {seq} does not match {source}"
                    )
                    return count + sum(1 for _ in rows), seq, _Problem(first, 0, EDITED, message)
            last_anchored = seq
        recent.append(stored)
        prev = digest
        expected += 1
    return count, expected - 1, None


def _diagnose(
    row: ChainRow, prev: str, expected: int, rows: Iterator[ChainRow], recent: deque[str]
) -> tuple[_Problem, int]:
    """Say what happened at the first row that does not fit, and how many more rows it read."""
    seq, body, stored = row
    if seq > expected:
        return _Problem(expected, 0, DELETED, f"{_span(expected, seq - 1, 'is', 'are')} missing"), 0
    if seq < expected:  # only before the first entry: seqs are unique and read in order
        return _Problem(seq, 0, INSERTED, f"a row with seq {seq} comes before the first entry"), 0
    claimed, carried = _claims(body)
    following = next(rows, None)
    read = 0 if following is None else 1
    if claimed is not None and claimed > seq:
        found, scanned = _find(seq, following, rows)
        read += scanned
        if found is not None:
            message = f"the row at seq {seq} holds entry {claimed}, and entry {seq} is at seq {found}"
            return _Problem(seq, 0, REORDERED, message), read
    if claimed is not None and 1 <= claimed < seq:
        back = seq - claimed
        if back <= len(recent) and recent[-back] == stored:
            return _Problem(seq, 0, INSERTED, f"the row at seq {seq} repeats entry {claimed}"), read
    if following is not None and link(prev, following[1].encode()) == following[2]:
        message = f"the row at seq {seq} does not belong: the entry after it follows seq {seq - 1}"
        return _Problem(seq, 0, INSERTED, message), read
    if claimed is None:
        return _Problem(seq, 0, EDITED, f"the row at seq {seq} does not hold an audit entry"), read
    if claimed > seq:
        message = f"{_span(seq, claimed - 1, 'is', 'are')} missing (the later ones were renumbered)"
        return _Problem(seq, 0, DELETED, message), read
    if claimed < seq:
        first = max(claimed, 1)
        inserted = f"row {first} was" if first == seq - 1 else f"rows {first}..{seq - 1} were"
        message = f"{inserted} inserted: the row at seq {seq} holds entry {claimed}"
        return _Problem(first, 0, INSERTED, message), read
    if seq > 1 and carried not in (None, prev) and link(str(carried), body.encode()) == stored:
        message = f"the entry at seq {seq - 1} was replaced: the entry after it follows another hash"
        return _Problem(seq - 1, 0, EDITED, message), read
    return _Problem(seq, 0, EDITED, f"the entry at seq {seq} does not match its hash"), read


def _span(first: int, last: int, one: str, many: str) -> str:
    """Entries by seq with the verb in their number: 'entry 7 is', 'entries 7..9 are'."""
    return f"entry {first} {one}" if first == last else f"entries {first}..{last} {many}"


def _find(seq: int, following: ChainRow | None, rows: Iterator[ChainRow]) -> tuple[int | None, int]:
    """Where the row holding entry `seq` is further on, and how many rows past `following` were read."""
    if following is not None and _claims(following[1])[0] == seq:
        return following[0], 0
    read = 0
    for row in rows:
        read += 1
        if _claims(row[1])[0] == seq:
            return row[0], read
    return None, read


def _claims(body: str) -> tuple[int | None, str | None]:
    """The seq an entry's body says it has, and the previous hash it carries (None where unreadable)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    seq, prev = document.get("seq"), document.get("prev")
    return (
        seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        prev if isinstance(prev, str) and _HEX64.fullmatch(prev) else None,
    )


def _bad_signature(
    head: SignedHead, source: str, public_key: Ed25519PublicKey, signer: Signer | None
) -> _Problem:
    if signer is not None and signer.last_seq is not None and head.seq > signer.last_seq:
        message = f"{source} is signed by key {head.key_id}, retired at seq {signer.last_seq + 1}"
        return _Problem(head.seq, 2, BAD_SIGNATURE, message)
    trusted = key_id(public_key)
    named = "" if head.key_id == trusted else f" (it names key {head.key_id})"
    message = f"{source} is not signed by the trusted key {trusted}{named}"
    return _Problem(head.seq, 2, BAD_SIGNATURE, message)
