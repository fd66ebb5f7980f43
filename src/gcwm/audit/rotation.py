"""Rotating the key that signs the audit log, so trust passes from each key to the next.

`rotate` works in one transaction: the head is signed by the retiring key (unless it is already), an
`audit.key_rotated` entry names both public keys, and the successor signs that entry's head. Its head
is then recorded outside the database, as at the end of a run.

A verifier trusts the newest key (given with --public-key, or configured) and, through each rotation
entry, the key it retired, for the heads before that entry and only those. A rotation counts only if
the chain holds it (the walk checks its hash) and its successor signed a head at or after it, so an
entry appended later cannot make a planted key trusted, and heads a retired key signs after its
rotation are refused. Once a log has checkpoints, only the key that signed the newest one may sign:
any other key must arrive through `rotate`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gcwm.audit.checkpoints import (
    SignedHead,
    Witness,
    check_signer,
    head_path,
    insert_signed,
    store_checkpoint,
    write_head,
)
from gcwm.audit.keys import (
    KEY_FILE,
    NEXT_KEY_FILE,
    SigningKey,
    key_id,
    load_signing_key,
    parse_public_key,
    promote_successor,
    public_key_pem,
    read_signing_key,
    successor_key,
)
from gcwm.audit.log import AuditEvent, record
from gcwm.errors import ConfigError
from gcwm.observability.context import actor, correlation_id, new_correlation_id
from gcwm.store import Store
from gcwm.store.audit import AuditCheckpoint, AuditRepository, ChainRow, database_name

ROTATED = "audit.key_rotated"


@dataclass(frozen=True)
class Rotation:
    """An `audit.key_rotated` entry as a verifier reads it."""

    seq: int
    hash: str
    retired: Ed25519PublicKey
    successor_id: str


@dataclass(frozen=True)
class Signer:
    """A key a verifier trusts, up to the last seq it may sign (None: any)."""

    public_key: Ed25519PublicKey
    last_seq: int | None = None

    def may_sign(self, head: SignedHead) -> bool:
        """Whether `head` is this key's signature over a head it was trusted for."""
        return (self.last_seq is None or head.seq <= self.last_seq) and head.is_signed_by(self.public_key)


def rotate(
    store: Store,
    retiring: SigningKey,
    successor: SigningKey,
    *,
    actor: str,
    correlation_id: str,
    head_file: Path | None = None,
    witness: Witness | None = None,
) -> SignedHead:
    """Hand signing from `retiring` to `successor`, recorded and signed in the log; the new head
    (handed to `witness` in the rotation's transaction, as `end_run` does)."""
    if retiring.key_id == successor.key_id:
        msg = f"the new key is the key in use ({retiring.key_id}): nothing to rotate"
        raise ConfigError(msg)
    with store.unit_of_work() as tx:
        repo = AuditRepository(tx.connection)
        repo.lock()
        check_signer(tx, retiring)
        head, last = repo.head(), repo.last_checkpoint()
        if head is not None and (last is None or last.seq != head.seq):
            store_checkpoint(repo, retiring, head)
        event = AuditEvent(
            action=ROTATED,
            actor=actor,
            org_id="",
            outcome="succeeded",
            correlation_id=correlation_id,
            summary={"retired": _describe(retiring), "successor": _describe(successor)},
        )
        signed = insert_signed(repo, successor, record(tx, event))
        first = repo.first()
        database = database_name(tx.connection)
        if witness is not None:
            witness(tx, signed, database)
    if head_file is not None and first is not None:
        write_head(head_file, database, signed, first=first.hash)
    return signed


@dataclass(frozen=True)
class RotationResult:
    """What `gcwm audit rotate-key` did."""

    retired: str | None  # None: it finished a rotation recorded earlier
    successor: str
    seq: int
    key_file: Path

    def to_dict(self) -> dict[str, object]:
        """As `gcwm audit rotate-key --output json` prints it."""
        return {
            "retired": self.retired,
            "successor": self.successor,
            "seq": self.seq,
            "keyFile": str(self.key_file),
        }


def rotate_configured(
    store: Store, home: Path, key_file: Path | None, new_key: Path | None, *, witness: Witness | None = None
) -> RotationResult:
    """Rotate the configured key: GCWM_AUDIT_KEY_FILE's to `new_key` (gcwm writes neither file), or
    GCWM_HOME's to `new_key` or a new key, which takes its place once the rotation is recorded. A
    rotation interrupted between the two is finished."""
    if key_file is not None:
        if new_key is None:
            msg = "GCWM_AUDIT_KEY_FILE names the signing key: pass --new-key FILE with the key to rotate to"
            raise ConfigError(msg)
        successor = read_signing_key(new_key, "--new-key")
        retiring = read_signing_key(key_file, "GCWM_AUDIT_KEY_FILE")
        signed = _rotate(store, retiring, successor, home, witness)
        return RotationResult(signed[0], successor.key_id, signed[1], new_key)
    current = home / KEY_FILE
    if not current.exists():
        msg = f"no audit signing key at {current} yet, so nothing to rotate (the first run makes one)"
        raise ConfigError(msg)
    interrupted = (home / NEXT_KEY_FILE).exists() and new_key is None
    successor = successor_key(home, new_key)
    last = _last_checkpoint(store)
    if interrupted and last is not None and last.key_id == successor.key_id:
        return RotationResult(None, successor.key_id, last.seq, promote_successor(home))
    signed = _rotate(store, load_signing_key(home), successor, home, witness)
    return RotationResult(signed[0], successor.key_id, signed[1], promote_successor(home))


def _rotate(
    store: Store, retiring: SigningKey, successor: SigningKey, home: Path, witness: Witness | None
) -> tuple[str, int]:
    signed = rotate(
        store,
        retiring,
        successor,
        actor=actor() or "cli",
        correlation_id=correlation_id() or new_correlation_id(),
        head_file=head_path(home),
        witness=witness,
    )
    return retiring.key_id, signed.seq


def _last_checkpoint(store: Store) -> AuditCheckpoint | None:
    with store.unit_of_work() as tx:
        return AuditRepository(tx.connection).last_checkpoint()


def rotation_rows(repo: AuditRepository) -> list[ChainRow]:
    """The log's rotation entries (few), for a verifier to read before it walks the chain."""
    return repo.rows_with_action(ROTATED)


def read_rotations(rows: Iterable[ChainRow]) -> list[Rotation]:
    """Rotation entries from their rows; a row that does not read as one is left to the chain walk."""
    found = []
    for seq, body, hash_ in rows:
        try:
            document = json.loads(body)
            summary = document["summary"]
            retired = parse_public_key(str(summary["retired"]["pem"]))
            successor_id = str(summary["successor"]["fingerprint"])
        except (ValueError, KeyError, TypeError, ConfigError):
            continue
        if document.get("action") == ROTATED and document.get("seq") == seq:
            found.append(Rotation(seq, hash_, retired, successor_id))
    return found


def trusted_signers(
    anchor: Ed25519PublicKey, rotations: Sequence[Rotation], heads: Sequence[SignedHead]
) -> dict[str, Signer]:
    """Key id → the key and how far it is trusted: the anchor for all, each retired key before its
    rotation, following rotations back from the newest while their successor is trusted and signed."""
    signers = {key_id(anchor): Signer(anchor)}
    for rotation in sorted(rotations, key=lambda r: r.seq, reverse=True):
        successor = signers.get(rotation.successor_id)
        if successor is None:
            continue
        confirmed = any(
            h.seq >= rotation.seq and h.key_id == rotation.successor_id and successor.may_sign(h)
            for h in heads
        )
        retired_id = key_id(rotation.retired)
        if confirmed and retired_id not in signers:
            signers[retired_id] = Signer(rotation.retired, rotation.seq - 1)
    return signers


def _describe(key: SigningKey) -> Mapping[str, str]:
    # "fingerprint" and "pem", not "keyId"/"publicKey": the summary's redaction drops names with "key".
    return {"fingerprint": key.key_id, "pem": public_key_pem(key.public_key)}
