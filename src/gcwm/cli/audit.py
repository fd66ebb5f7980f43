"""`gcwm audit verify|sign|show|export|key|rotate-key`: prove the audit log intact, sign its head,
read it, hand it to others.

`verify` trusts, in this order, the key given with `--public-key`, the configured signing key
(GCWM_AUDIT_KEY_FILE, else the one under GCWM_HOME), and, for an export only, the key inside it (and
says so). It fails closed: the log is intact only if a signed head covers its last entry and a head
kept outside the database (the head file's record, or `--head FILE`) vouches for its end. It never
creates a key; `key` and `sign` do, on first use, as provisioning would.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer

from gcwm.cli import Output, OutputOption, _run, _store_only, app

if TYPE_CHECKING:
    from gcwm.audit import RotationResult, SignedHead, VerifyResult
    from gcwm.settings import Settings
    from gcwm.store import Store

audit_app = typer.Typer(help="Verify, read and export the tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

_SPAN = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    cef = "cef"


@audit_app.command("verify")
def audit_verify(
    public_key: Path | None = typer.Option(
        None, "--public-key", help="PEM public key to trust (default: the configured signing key's)"
    ),
    file: Path | None = typer.Option(
        None, "--file", help="check this export (`gcwm audit export --format jsonl`) offline instead"
    ),
    head: list[Path] = typer.Option(
        [],
        "--head",
        help="a signed head kept outside gcwm (`audit sign --output json`, an audit.checkpoint event) "
        "that the log must extend; repeatable",
    ),
    output: Output = OutputOption,
) -> None:
    """Walk the chain and the signed heads; name the first bad entry. Exit 1 if the log is not intact:
    that includes entries no signed head covers, and no head kept outside the database."""

    async def main(settings: Settings) -> VerifyResult:
        from gcwm.audit import (
            KeptHead,
            configured_public_key,
            head_path,
            load_public_key,
            read_head_document,
            verify_export,
            verify_store,
        )
        from gcwm.bootstrap import open_store

        trusted = (
            load_public_key(public_key)
            if public_key is not None
            else configured_public_key(settings.home, settings.audit_key_file)
        )
        kept = [KeptHead(read_head_document(path), str(path)) for path in head]
        if file is not None:
            with _open_export(file) as lines:
                return verify_export(lines, trusted, source=str(file), kept=kept)
        store = open_store(settings)
        try:
            return verify_store(store, trusted, head_file=head_path(settings.home), kept=kept)
        finally:
            store.engine.dispose()

    result = _run(output, main)
    if output is Output.json:
        print(json.dumps(result.to_dict(), indent=2))
        if not result.ok:
            print(f"gcwm: {result.message}", file=sys.stderr)
    elif result.ok:
        print(f"ok: {result.message}")
    else:
        print(f"NOT OK at seq {result.first_bad} ({result.reason}): {result.message}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("sign")
def audit_sign(output: Output = OutputOption) -> None:
    """Sign the log's head now (unless it is signed already) and record it in GCWM_HOME; subscribed
    ITSM targets get it as an audit.checkpoint event. Keep the JSON elsewhere for `verify --head`."""

    async def main(settings: Settings) -> tuple[SignedHead | None, str]:
        from gcwm.audit import end_run, head_path, load_signing_key
        from gcwm.bootstrap import open_store
        from gcwm.notify import enqueue_checkpoint
        from gcwm.store.audit import database_name

        store = open_store(settings)
        try:
            key = load_signing_key(settings.home, settings.audit_key_file)
            signed = end_run(store, key, head_path(settings.home), witness=enqueue_checkpoint)
            return signed, database_name(store.engine)
        finally:
            store.engine.dispose()

    signed, database = _run(output, main)
    if output is Output.json:
        from gcwm.audit import head_document

        document = (
            head_document(signed, database) if signed is not None else {"database": database, "head": None}
        )
        print(json.dumps(document, indent=2))
    elif signed is None:
        print(f"the audit log of {database} is empty: nothing to sign")
    else:
        print(f"signed the audit head at seq {signed.seq} ({signed.hash}) with key {signed.key_id}")


@audit_app.command("show")
def audit_show(
    channel: str | None = typer.Option(None, "--channel", help="only entries about this channel (its name)"),
    since: str | None = typer.Option(
        None,
        "--since",
        help="only entries at or after: an RFC 3339 time, a date, or a span back (30m, 24h, 7d)",
    ),
    output: Output = OutputOption,
) -> None:
    """List audit entries, oldest first."""

    def work(store: Store) -> list[dict[str, Any]]:
        from gcwm.audit import entry_documents

        start = _since(since) if since is not None else None
        return list(entry_documents(store, channel=channel, since=start))

    entries = _store_only(output, work)
    if output is Output.json:
        print(json.dumps({"entries": entries}, indent=2))
        return
    _entries_table(entries)


@audit_app.command("export")
def audit_export(
    format: ExportFormat = typer.Option(
        ..., "--format", help="jsonl (verifiable offline) or cef (for SIEMs)"
    ),
    output_file: Path | None = typer.Option(None, "--output-file", help="write here instead of stdout"),
) -> None:
    """Export the audit log: JSON lines with what an outside verifier needs, or CEF lines."""

    async def main(settings: Settings) -> int:
        from gcwm import __version__
        from gcwm.audit import configured_public_key, head_path, write_cef, write_jsonl
        from gcwm.bootstrap import open_store

        store = open_store(settings)
        try:
            with _destination(output_file) as out:
                if format is ExportFormat.cef:
                    return write_cef(store, out, version=__version__)
                key = configured_public_key(settings.home, settings.audit_key_file)
                return write_jsonl(store, out, public_key=key, head_file=head_path(settings.home))
        finally:
            store.engine.dispose()

    count = _run(Output.text, main)
    where = f" to {output_file}" if output_file is not None else ""
    print(f"exported {count} audit entries{where}", file=sys.stderr)


@audit_app.command("key")
def audit_key() -> None:
    """Print the public key that verifies the audit log's checkpoints (PEM; made on first use)."""

    async def main(settings: Settings) -> tuple[str, str]:
        from gcwm.audit import load_signing_key, public_key_pem

        key = load_signing_key(settings.home, settings.audit_key_file)
        return public_key_pem(key.public_key), key.key_id

    pem, key_id = _run(Output.text, main)
    print(pem, end="")
    print(f"key id {key_id}", file=sys.stderr)


@audit_app.command("rotate-key")
def audit_rotate_key(
    new_key: Path | None = typer.Option(
        None, "--new-key", help="PEM Ed25519 private key to hand over to (default: a new one under GCWM_HOME)"
    ),
    output: Output = OutputOption,
) -> None:
    """Hand checkpoint signing to a new key, recorded in the log and signed by both keys.

    Under GCWM_HOME the new key takes audit-key.pem's place. With GCWM_AUDIT_KEY_FILE set, pass
    --new-key, then point GCWM_AUDIT_KEY_FILE at that file: gcwm writes neither. Running it again
    finishes a rotation that was interrupted. `audit verify` with the new public key still trusts the
    old key's checkpoints, up to the rotation."""

    async def main(settings: Settings) -> RotationResult:
        from gcwm.audit import rotate_configured
        from gcwm.bootstrap import open_store
        from gcwm.notify import enqueue_checkpoint

        store = open_store(settings)
        try:
            return rotate_configured(
                store, settings.home, settings.audit_key_file, new_key, witness=enqueue_checkpoint
            )
        finally:
            store.engine.dispose()

    result = _run(output, main)
    if output is Output.json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    if result.retired is None:
        print(f"finished the rotation to key {result.successor} recorded at seq {result.seq}")
    else:
        print(f"rotated the audit signing key {result.retired} to {result.successor} at seq {result.seq}")
    if new_key is not None and result.key_file == new_key:
        print(f"now point GCWM_AUDIT_KEY_FILE at {new_key}: runs refuse to sign with the retired key")


def _since(text: str) -> datetime:
    """--since as an aware UTC datetime: an RFC 3339 time, a date (midnight UTC), or a span back."""
    from gcwm.errors import ConfigError

    span = _SPAN.fullmatch(text.strip())
    if span is not None:
        return datetime.now(UTC) - timedelta(**{_UNITS[span[2]]: int(span[1])})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        msg = f"--since {text!r}: expected an RFC 3339 time, a date (2026-11-29), or a span like 24h or 7d"
        raise ConfigError(msg) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def _open_export(path: Path) -> Iterator[TextIO]:
    """The export file to read; a missing or unreadable one is a ConfigError naming it."""
    from gcwm.errors import ConfigError

    try:
        file = path.open(encoding="utf-8")
    except OSError as exc:
        msg = f"--file {path}: cannot read it ({exc.strerror})"
        raise ConfigError(msg) from exc
    with file:
        yield file


@contextmanager
def _destination(path: Path | None) -> Iterator[TextIO]:
    """stdout, or the file to write (made afresh)."""
    from gcwm.errors import ConfigError

    if path is None:
        yield sys.stdout
        return
    try:
        file = path.open("w", encoding="utf-8")
    except OSError as exc:
        msg = f"--output-file {path}: cannot write it ({exc.strerror})"
        raise ConfigError(msg) from exc
    with file:
        yield file


def _entries_table(entries: list[dict[str, Any]]) -> None:
    """seq, time (to the second), actor, action, channel, outcome; `--output json` has everything."""
    from rich.table import Table

    from gcwm import render

    if not entries:
        render.stderr().print("no audit entries")
        return
    table = Table("seq")
    table.add_column("at (UTC)", no_wrap=True)
    for column in ("actor", "action", "channel", "outcome"):
        table.add_column(column)
    for entry in entries:
        at = str(entry["at"])[:19].replace("T", " ")
        channel = entry.get("targets", {}).get("channel", "")
        table.add_row(str(entry["seq"]), at, entry["actor"], entry["action"], channel, entry["outcome"])
    render.stdout().print(table)
