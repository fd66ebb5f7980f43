"""Checkpoints: the chain's head (seq, hash) signed with Ed25519, kept apart from the entries.

What is signed is the canonical JSON (RFC 8785) of `{"at", "hash", "seq"}`; the signature is base64.
A checkpoint is made every N entries (inside the transaction of the entry that reaches a multiple of
N, see `record`) and at the end of each run (`end_run`). Deleting the newest entries then leaves a
checkpoint whose head no longer matches.

Each run's final signed head is also written outside the database, to GCWM_HOME/audit-head.json (one
head per database, named by its URL without the password), so deleting the newest checkpoint together
with the newest entries is caught too. Whoever calls `end_run` may also hand the new head to a
`Witness` in the same transaction: gcwm.notify queues it as an `audit.checkpoint` event for ITSM
targets to keep, as CloudTrail's digest files and RFC 6962's signed tree heads are kept by others
(the audit room does not import notify: the caller wires the two). `head_document` is the shape both
the event and `gcwm audit sign --output json` carry, and `read_head_document` reads it back for
`gcwm audit verify --head`. The file is written after the run's transaction commits, never
for a head that might roll back, and atomically (a temporary file renamed over it). A head only ever
moves forward: the file keeps the hash of the chain's first entry, and a head that is older, or of
another chain (the database emptied and begun again), does not replace the recorded one, which stays
as evidence until a person removes it.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gcwm.audit.chain import canonical, format_time
from gcwm.audit.keys import SigningKey
from gcwm.errors import ConfigError
from gcwm.store import Store, UnitOfWork
from gcwm.store.audit import AuditCheckpoint, AuditHead, AuditRepository, database_name

log = structlog.get_logger(__name__)

HEAD_FILE = "audit-head.json"
DEFAULT_EVERY = 1000


@dataclass(frozen=True)
class SignedHead:
    """A signed (seq, hash) of the chain: a checkpoint row, or the head kept in GCWM_HOME."""

    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return canonical({"at": self.at, "hash": self.hash, "seq": self.seq})

    def is_signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature is this key's over this head."""
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        """The head as JSON (head file and export)."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "keyId": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedHead:
        """Read `to_dict`'s shape; ValueError if it is not that."""
        try:
            head = cls(
                seq=data["seq"],
                hash=data["hash"],
                at=data["at"],
                key_id=data["keyId"],
                signature=data["signature"],
            )
        except (KeyError, TypeError) as exc:
            msg = f"not a signed head: missing {exc}"
            raise ValueError(msg) from exc
        if not isinstance(head.seq, int) or not all(
            isinstance(v, str) for v in (head.hash, head.at, head.key_id, head.signature)
        ):
            msg = "not a signed head: seq must be an integer and the other fields strings"
            raise ValueError(msg)
        return head

    @classmethod
    def from_checkpoint(cls, row: AuditCheckpoint) -> SignedHead:
        """The signed head a checkpoint row holds."""
        return cls(row.seq, row.hash, format_time(row.at), row.key_id, row.signature)


#: Told of each head `end_run` signs, in the transaction that stores it: (tx, head, database name).
Witness = Callable[[UnitOfWork, SignedHead, str], object]


def head_document(head: SignedHead, database: str) -> dict[str, Any]:
    """A signed head as others keep it: `{"database", "head": {seq, hash, at, keyId, signature}}`
    (`gcwm audit sign --output json`, and the data of an `audit.checkpoint` event)."""
    return {"database": database, "head": head.to_dict()}


def read_head_document(path: Path) -> SignedHead:
    """The signed head in a file someone kept: `head_document`'s shape, the whole `audit.checkpoint`
    payload (`{"type", "timestamp", "data": {..., "head"}}`), or the head alone."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"--head {path}: cannot read it ({exc.strerror})"
        raise ConfigError(msg) from exc
    except ValueError as exc:
        msg = f"--head {path}: not JSON ({exc})"
        raise ConfigError(msg) from exc
    found: Any = document
    if isinstance(found, dict) and isinstance(found.get("data"), dict):
        found = found["data"]
    if isinstance(found, dict) and "head" in found:
        found = found["head"]
    if not isinstance(found, dict):
        msg = f"--head {path}: not a signed audit head (expected {{seq, hash, at, keyId, signature}})"
        raise ConfigError(msg)
    try:
        return SignedHead.from_dict(found)
    except ValueError as exc:
        msg = f"--head {path}: {exc}"
        raise ConfigError(msg) from exc


def head_path(home: Path) -> Path:
    """Where the signed head of each run is kept outside the database: GCWM_HOME/audit-head.json."""
    return home / HEAD_FILE


def sign_head(key: SigningKey, head: AuditHead, at: datetime) -> SignedHead:
    """Sign the chain's head as of `at`."""
    unsigned = SignedHead(head.seq, head.hash, format_time(at), key.key_id, "")
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    return SignedHead(head.seq, head.hash, unsigned.at, key.key_id, signature)


def is_due(seq: int, every: int) -> bool:
    """Whether entry `seq` closes a run of `every` entries and so gets a checkpoint."""
    return every > 0 and seq % every == 0


def checkpoint(tx: UnitOfWork, key: SigningKey) -> SignedHead | None:
    """Sign the chain's head in the caller's transaction, unless it is signed already; None if empty."""
    signed = _sign_head_of(tx, key)
    return None if signed is None else signed[0]


def _sign_head_of(tx: UnitOfWork, key: SigningKey) -> tuple[SignedHead, bool] | None:
    """The head's signature, and whether it was made now (False: it was signed already)."""
    repo = AuditRepository(tx.connection)
    repo.lock()
    head = repo.head()
    if head is None:
        return None
    last = repo.last_checkpoint()
    if last is not None and last.seq == head.seq:
        return SignedHead.from_checkpoint(last), False
    return store_checkpoint(repo, key, head), True


def check_signer(tx: UnitOfWork, key: SigningKey) -> None:
    """Refuse a key that may not sign this log: once it has checkpoints, only the newest one's key
    may, until `gcwm audit rotate-key` hands over (a ConfigError saying which key and what to do)."""
    _check_signer(AuditRepository(tx.connection), key)


def _check_signer(repo: AuditRepository, key: SigningKey) -> None:
    last = repo.last_checkpoint()
    if last is not None and last.key_id != key.key_id:
        msg = (
            f"the audit log's newest checkpoint (seq {last.seq}) is signed by key {last.key_id}, not by key "
            f"{key.key_id} ({key.path}): sign with key {last.key_id} (restore it, or point "
            "GCWM_AUDIT_KEY_FILE at it); to change keys run `gcwm audit rotate-key`, which also finishes "
            "a rotation that was interrupted"
        )
        raise ConfigError(msg)


def store_checkpoint(repo: AuditRepository, key: SigningKey, head: AuditHead) -> SignedHead:
    """Sign `head` and store it (the caller knows it is not signed yet); `key` must be the log's signer."""
    _check_signer(repo, key)
    return insert_signed(repo, key, head)


def insert_signed(repo: AuditRepository, key: SigningKey, head: AuditHead) -> SignedHead:
    """Sign `head` with `key` and store it, whoever signed before (a rotation hands over this way)."""
    at = repo.now()
    signed = sign_head(key, head, at)
    repo.insert_checkpoint(AuditCheckpoint(head.seq, head.hash, at, signed.key_id, signed.signature))
    log.info("audit.checkpointed", seq=head.seq, key_id=signed.key_id)
    return signed


def end_run(
    store: Store, key: SigningKey, head_file: Path, *, witness: Witness | None = None
) -> SignedHead | None:
    """At the end of a run (or on `gcwm audit sign`): checkpoint the head, hand a new one to
    `witness` in the same transaction, commit, then record it in the head file. None: empty log."""
    with store.unit_of_work() as tx:
        found = _sign_head_of(tx, key)
        first = _first_hash(tx)
        database = database_name(tx.connection)
        if found is not None and found[1] and witness is not None:
            witness(tx, found[0], database)
    if found is None or first is None:
        return None
    write_head(head_file, database, found[0], first=first)
    return found[0]


def read_head(head_file: Path, database: str) -> tuple[SignedHead, str] | None:
    """The signed head recorded for this database and the hash of its chain's first entry, if any."""
    heads = _read_heads(head_file)
    record = heads.get(database)
    if record is None:
        return None
    try:
        return SignedHead.from_dict(record), str(record["first"])
    except (ValueError, KeyError) as exc:
        msg = f"{head_file}: the head of {database} is not valid ({exc})"
        raise ConfigError(msg) from exc


def write_head(head_file: Path, database: str, head: SignedHead, *, first: str) -> None:
    """Record `head` for this database, unless the file holds a newer head or another chain's.

    Processes ending runs together take turns (a lock file beside it), so a head never moves back."""
    with _locked(head_file):
        try:
            heads = _read_heads(head_file)
        except ConfigError as exc:
            log.warning("audit.head_file_unreadable", path=str(head_file), problem=exc.message)
            heads = {}
        old = heads.get(database)
        if old is not None and (old.get("first") != first or old.get("seq", 0) > head.seq):
            log.warning("audit.head_file_kept", path=str(head_file), recorded=old.get("seq"), head=head.seq)
            return
        heads[database] = {**head.to_dict(), "first": first}
        _write_atomically(head_file, json.dumps({"heads": heads}, indent=2, sort_keys=True) + "\n")


@contextmanager
def _locked(head_file: Path) -> Iterator[None]:
    lock_file = head_file.with_name(f".{head_file.name}.lock")
    try:
        head_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as GCWM_HOME: the user's alone
        with open(lock_file, "a", opener=_private) as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
            yield
    except OSError as exc:
        msg = f"could not lock {lock_file} to record the audit head: {exc.strerror}"
        raise ConfigError(msg) from exc


def _private(path: str, flags: int) -> int:
    """open()'s opener for a file only its owner may read (the head file itself comes from mkstemp)."""
    return os.open(path, flags, 0o600)


def _first_hash(tx: UnitOfWork) -> str | None:
    first = AuditRepository(tx.connection).first()
    return None if first is None else first.hash


def _read_heads(head_file: Path) -> dict[str, Any]:
    try:
        text = head_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        msg = f"{head_file}: cannot read it ({exc.strerror})"
        raise ConfigError(msg) from exc
    try:
        heads = json.loads(text)["heads"]
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"{head_file}: not a gcwm audit head file ({exc})"
        raise ConfigError(msg) from exc
    if not isinstance(heads, dict):
        msg = f"{head_file}: not a gcwm audit head file (heads is not an object)"
        raise ConfigError(msg)
    return heads


def _write_atomically(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        msg = f"could not write the audit head to {path}: {exc.strerror}"
        raise ConfigError(msg) from exc
