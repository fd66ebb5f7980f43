"""Exports of the audit log: JSON lines an outside verifier checks offline, CEF for SIEMs, and reads."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gcwm.audit import (
    AuditTargets,
    SigningKey,
    end_run,
    entry_documents,
    head_path,
    verify_export,
    write_cef,
    write_jsonl,
)
from gcwm.errors import ConfigError
from gcwm.store import Store
from tests.integration.audit.conftest import Append

ENTRIES = 12


@pytest.fixture
def export(append: Append, store: Store, key: SigningKey, home: Path) -> list[str]:
    """The JSONL export of a log of ENTRIES entries, checkpointed every 5 and at the end of the run."""
    append(ENTRIES, every=5)
    end_run(store, key, head_path(home))
    out = io.StringIO()
    assert write_jsonl(store, out, public_key=key.public_key, head_file=head_path(home)) == ENTRIES
    return out.getvalue().splitlines()


def _entry_line(lines: list[str], seq: int) -> int:
    return next(n for n, line in enumerate(lines) if json.loads(line).get("seq") == seq and '"entry"' in line)


def test_an_export_carries_what_an_outside_verifier_needs(export: list[str], key: SigningKey) -> None:
    """Header, public key, checkpoints and the run's head come first, then every entry in seq order."""
    records = [json.loads(line) for line in export]

    assert [r["type"] for r in records[:5]] == [
        "gcwm.audit.export",
        "key",
        "checkpoint",
        "checkpoint",
        "checkpoint",
    ]
    assert records[5]["type"] == "head" and records[5]["seq"] == ENTRIES
    assert [r["seq"] for r in records[6:]] == list(range(1, ENTRIES + 1))
    assert set(records[6]) == {"type", "seq", "hash", "body"}
    assert records[1]["publicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert [r["seq"] for r in records if r["type"] == "checkpoint"] == [5, 10, 12]


def test_a_clean_export_verifies_offline_with_the_trusted_key(export: list[str], key: SigningKey) -> None:
    """The export alone, and the public key, are enough: no database is opened."""
    result = verify_export(export, key.public_key)

    assert result.to_dict() == {"ok": True, "entries": ENTRIES, "firstBad": None, "reason": None}


def test_an_export_checked_against_another_key_fails_at_the_first_checkpoint(export: list[str]) -> None:
    """Trust comes from the key the verifier brings, not from the one inside the export."""
    result = verify_export(export, Ed25519PrivateKey.generate().public_key())

    assert (result.ok, result.first_bad, result.reason) == (False, 5, "bad signature")


def test_without_a_key_the_export_is_checked_with_its_own_and_says_so(
    export: list[str], key: SigningKey
) -> None:
    """Given no key, the embedded one is used, and the message says to pass --public-key."""
    result = verify_export(export, None)

    assert result.ok
    assert key.key_id in result.message and "--public-key" in result.message


def test_an_edited_export_names_the_edited_entry(export: list[str], key: SigningKey) -> None:
    """Editing one entry's body in the file is caught at that entry."""
    n = _entry_line(export, 7)
    record = json.loads(export[n])
    record["body"] = record["body"].replace("alice@", "mallory@")
    export[n] = json.dumps(record)

    result = verify_export(export, key.public_key)

    assert (result.ok, result.first_bad, result.reason) == (False, 7, "edited")


def test_an_export_missing_its_last_entries_is_truncated(export: list[str], key: SigningKey) -> None:
    """Entries cut from the end of the file are caught by the signed heads it carries."""
    result = verify_export(export[:-3], key.public_key)

    assert (result.ok, result.entries, result.first_bad, result.reason) == (
        False,
        ENTRIES - 3,
        10,
        "truncated",
    )


def test_a_file_that_is_not_an_export_is_refused_with_its_line(tmp_path: Path) -> None:
    """A wrong file is a usage error naming the file and line, not a verdict about the log."""
    with pytest.raises(ConfigError, match="line 1: not a gcwm audit export"):
        verify_export(['{"type": "something else"}'], None, source="f.jsonl")
    with pytest.raises(ConfigError, match="line 2: not JSON"):
        verify_export(['{"type": "gcwm.audit.export", "version": 1}', "{oops"], None)


def test_cef_export_writes_one_escaped_line_per_entry(append: Append, store: Store) -> None:
    """Each entry becomes one CEF line; pipes, equals signs, backslashes and newlines are escaped."""
    append(2, targets=AuditTargets(channel="a|b=c\\d\ne", job="job-1"), outcome="failed")
    out = io.StringIO()

    assert write_cef(store, out, version="1.2.3") == 2

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("CEF:0|gcwm|gcwm|1.2.3|deployment.created|deployment.created|7|rt=")
    assert "suser=alice@example.com act=deployment.created outcome=failed externalId=1 " in lines[0]
    assert "cs2Label=channel cs2=a|b\\=c\\\\d\\ne cs5Label=job cs5=job-1" in lines[0]
    assert 'msg={"changed":["deployment.allowedDomains"],"specHash":"' in lines[0]


def test_entries_are_read_by_channel_and_time(append: Append, store: Store) -> None:
    """`show`'s reads: a channel's entries, and those at or after a time, in seq order."""
    before = datetime.now(UTC) - timedelta(seconds=1)
    append(6)  # channels web-1, web-2, web-0, web-1, ...

    documents = list(entry_documents(store, channel="web-1"))
    assert [d["seq"] for d in documents] == [1, 4]
    assert {"hash", "seq", "at", "actor", "action", "orgId", "targets", "outcome", "correlationId"} <= set(
        documents[0]
    )
    assert [d["seq"] for d in entry_documents(store, since=before)] == list(range(1, 7))
    assert list(entry_documents(store, since=datetime.now(UTC) + timedelta(hours=1))) == []
