"""Reading the audit log out: entries for people, JSON lines for outside verifiers, CEF for SIEMs.

The JSONL export puts what a verifier needs before the entries, so it is checked in one pass:

    {"type": "gcwm.audit.export", "version": 1, "chain": "...", "signature": "...", "database": "..."}
    {"type": "key", "keyId": "...", "publicKey": "-----BEGIN PUBLIC KEY-----..."}
    {"type": "checkpoint", "seq": 1000, "hash": "...", "at": "...", "keyId": "...", "signature": "..."}
    {"type": "head", ...the head recorded outside the database at the end of the last run..., "first": "..."}
    {"type": "rotation", "seq": 2001, "hash": "...", "body": "..."}   (each key rotation entry, again)
    {"type": "entry", "seq": 1, "hash": "...", "body": "<the exact canonical JSON that was hashed>"}

Heads are read before entries: the log only grows, so every head exported refers to an exported entry.
The public key inside an export is informational: `verify --file` trusts the key it is given, and
uses the embedded one only when given none, saying so. An export carries a `head` line only if the
exporting home recorded one for the database; without it (or with one the exporter could have put
back), `verify --file F --head KEPT` checks the export against a head someone else kept.

CEF (ArcSight Common Event Format, rev. 25): `CEF:0|gcwm|gcwm|<version>|<action>|<action>|<severity>|`
then `rt` (ms since the epoch), `suser` (actor), `act`, `outcome`, `externalId` (seq), `cs1`..`cs6`
(org id, channel, configuration, deployment, job, correlation id, each with its label), and `msg` (the
redacted summary as canonical JSON). Header fields escape `\\` and `|`; extension values escape `\\`
and `=` and write line breaks as `\\n` / `\\r`. Severity: 7 failed, 5 refused or cancelled, 3 otherwise.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gcwm.audit.chain import canonical, parse_time
from gcwm.audit.checkpoints import SignedHead, read_head
from gcwm.audit.keys import key_id, parse_public_key, public_key_pem
from gcwm.audit.rotation import rotation_rows
from gcwm.audit.verify import KeptHead, RecordedHead, VerifyResult, verify_chain
from gcwm.errors import ConfigError
from gcwm.store import Store, UnitOfWork
from gcwm.store.audit import AuditRepository, ChainRow, database_name

EXPORT_TYPE = "gcwm.audit.export"
EXPORT_VERSION = 1
_CHAIN = "h_0 = 32 zero bytes; h_i = SHA-256(h_{i-1} as raw bytes || UTF-8 body_i); body = RFC 8785 JSON"
_SIGNATURE = "Ed25519 over RFC 8785 JSON of {at, hash, seq}; base64"
_CUSTOM = ("orgId", "channel", "configuration", "deployment", "job", "correlationId")
_SEVERITY = {"failed": 7, "error": 7, "refused": 5, "cancelled": 5}


def entry_documents(
    store: Store, *, channel: str | None = None, since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Entries in seq order as JSON objects (their body, plus `hash`), optionally filtered."""
    with UnitOfWork(store.engine, read_only=True) as tx:
        for entry in AuditRepository(tx.connection).entries(channel=channel, since=since):
            yield {**json.loads(entry.body), "hash": entry.hash}


def write_jsonl(
    store: Store, out: TextIO, *, public_key: Ed25519PublicKey | None, head_file: Path | None = None
) -> int:
    """Write the JSONL export of the store's log to `out`; return how many entries it holds."""
    with UnitOfWork(store.engine, read_only=True) as tx:
        repo = AuditRepository(tx.connection)
        database = database_name(tx.connection)
        recorded = read_head(head_file, database) if head_file is not None else None
        checkpoints = repo.checkpoints()
        header = {"type": EXPORT_TYPE, "version": EXPORT_VERSION, "chain": _CHAIN, "signature": _SIGNATURE}
        _line(out, {**header, "database": database})
        if public_key is not None:
            _line(out, {"type": "key", "keyId": key_id(public_key), "publicKey": public_key_pem(public_key)})
        for row in checkpoints:
            _line(out, {"type": "checkpoint", **SignedHead.from_checkpoint(row).to_dict()})
        if recorded is not None:
            _line(out, {"type": "head", **recorded[0].to_dict(), "first": recorded[1]})
        for seq, body, hash_ in rotation_rows(repo):
            _line(out, {"type": "rotation", "seq": seq, "hash": hash_, "body": body})
        count = 0
        for seq, body, hash_ in repo.chain():
            _line(out, {"type": "entry", "seq": seq, "hash": hash_, "body": body})
            count += 1
    return count


def write_cef(store: Store, out: TextIO, *, version: str) -> int:
    """Write one CEF line per entry to `out`; return how many."""
    count = 0
    with UnitOfWork(store.engine, read_only=True) as tx:
        for _seq, body, _hash in AuditRepository(tx.connection).chain():
            out.write(cef_line(json.loads(body), version=version) + "\n")
            count += 1
    return count


def cef_line(entry: Mapping[str, Any], *, version: str) -> str:
    """One entry's body as a CEF line."""
    action = str(entry.get("action", ""))
    outcome = str(entry.get("outcome", ""))
    severity = _SEVERITY.get(outcome, 3)
    header = ["CEF:0", "gcwm", "gcwm", version, action, action, str(severity)]
    fields: list[tuple[str, str]] = [
        ("rt", str(int(parse_time(str(entry["at"])).timestamp() * 1000))),
        ("suser", str(entry.get("actor", ""))),
        ("act", action),
        ("outcome", outcome),
        ("externalId", str(entry.get("seq", ""))),
    ]
    targets = entry.get("targets") or {}
    values = {"orgId": entry.get("orgId"), "correlationId": entry.get("correlationId"), **targets}
    for n, label in enumerate(_CUSTOM, 1):
        if values.get(label):
            fields += [(f"cs{n}Label", label), (f"cs{n}", str(values[label]))]
    fields.append(("msg", canonical(entry.get("summary") or {}).decode()))
    extension = " ".join(f"{name}={cef_value(value)}" for name, value in fields)
    return "|".join([header[0], *(cef_header(part) for part in header[1:])]) + "|" + extension


def cef_header(text: str) -> str:
    """A CEF header field: backslash and pipe escaped (line breaks become spaces: not allowed there)."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r", " ").replace("\n", " ")


def cef_value(text: str) -> str:
    """A CEF extension value: backslash and equals sign escaped, line breaks written as \\n and \\r."""
    text = text.replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def verify_export(
    lines: Iterable[str],
    public_key: Ed25519PublicKey | None,
    *,
    source: str = "the export",
    kept: Sequence[KeptHead] = (),
) -> VerifyResult:
    """Verify a JSONL export offline, trusting `public_key` (else the key inside it, said so), against
    the heads others `kept` too."""
    numbered = enumerate(lines, 1)
    checkpoints: list[SignedHead] = []
    rotations: list[ChainRow] = []
    recorded: RecordedHead | None = None
    embedded: Ed25519PublicKey | None = None
    first_entry: tuple[int, dict[str, Any]] | None = None
    seen_header = False
    for number, line in numbered:
        if not line.strip():
            continue
        record = _parse(line, number, source)
        kind = record.get("type")
        if not seen_header:
            if kind != EXPORT_TYPE or record.get("version") != EXPORT_VERSION:
                msg = f"{source}: line {number}: not a gcwm audit export (version {EXPORT_VERSION})"
                raise ConfigError(msg)
            seen_header = True
        elif kind == "entry":
            first_entry = (number, record)
            break
        elif kind == "checkpoint":
            checkpoints.append(_head(record, number, source))
        elif kind == "head":
            recorded = RecordedHead(_head(record, number, source), str(record.get("first", "")), source)
        elif kind == "rotation":
            rotations.append(_entry(number, {**record, "type": "entry"}, source))
        elif kind == "key":
            embedded = parse_public_key(str(record.get("publicKey", "")), source=f"{source}: line {number}")
        else:
            msg = f"{source}: line {number}: unexpected record type {kind!r} before the entries"
            raise ConfigError(msg)
    if not seen_header:
        msg = f"{source}: empty, not a gcwm audit export"
        raise ConfigError(msg)
    result = verify_chain(
        _entries(first_entry, numbered, source),
        checkpoints,
        public_key or embedded,
        recorded=recorded,
        rotations=rotations,
        kept=kept,
        unrecorded=f"{source} carries no head recorded outside the database",
    )
    if public_key is None and embedded is not None:
        note = f"; trusted the key inside the export ({key_id(embedded)}): pass --public-key to check it"
        result = dataclasses.replace(result, message=result.message + note)
    return result


def _entries(
    first: tuple[int, dict[str, Any]] | None, numbered: Iterator[tuple[int, str]], source: str
) -> Iterator[ChainRow]:
    if first is None:
        return
    yield _entry(*first, source)
    for number, line in numbered:
        if line.strip():
            yield _entry(number, _parse(line, number, source), source)


def _entry(number: int, record: Mapping[str, Any], source: str) -> ChainRow:
    seq, body, hash_ = record.get("seq"), record.get("body"), record.get("hash")
    if record.get("type") != "entry" or not isinstance(seq, int) or not isinstance(body, str):
        msg = f"{source}: line {number}: expected an entry (type, seq, hash, body)"
        raise ConfigError(msg)
    return seq, body, str(hash_)


def _head(record: Mapping[str, Any], number: int, source: str) -> SignedHead:
    try:
        return SignedHead.from_dict(record)
    except ValueError as exc:
        msg = f"{source}: line {number}: {exc}"
        raise ConfigError(msg) from exc


def _parse(line: str, number: int, source: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        msg = f"{source}: line {number}: not JSON ({exc})"
        raise ConfigError(msg) from exc
    if not isinstance(record, dict):
        msg = f"{source}: line {number}: not a JSON object"
        raise ConfigError(msg)
    return record


def _line(out: TextIO, record: Mapping[str, Any]) -> None:
    out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
