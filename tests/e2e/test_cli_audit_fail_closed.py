"""`gcwm audit verify` fails closed, as users run it (issue 23, item 3 and item 8's second half): the
review's tampering cases on SQLite, PostgreSQL and a copy of the SQLite file at another path, `gcwm
audit sign`, `verify --head`, keys that sign the head, and the `audit.checkpoint` witness event."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gcwm.audit import AuditEvent, AuditTargets, end_run, head_path, load_signing_key, record
from gcwm.notify import EmbeddedSink, Sink, new_secret
from gcwm.spec import channel_key
from gcwm.store import Store, connect
from tests.e2e.conftest import Result, run_gcwm
from tests.support.audit_tampering import copy_sqlite, forged_rotation, rechain
from tests.support.databases import make_database_url

ENTRIES = 12


def _env(home: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    return {**env, "GCWM_HOME": str(home), "GCWM_DATABASE_URL": url, "GCWM_LOG_LEVEL": "warning", **extra}


def _append(home: Path, url: str, entries: int, *, first: int = 1, sign: bool = True) -> None:
    """Append entries as provisioning does (a checkpoint every 5), and end the run unless `sign` is off."""
    engine = connect(url)
    try:
        store = Store(engine)
        key = load_signing_key(home)
        for n in range(first, first + entries):
            event = AuditEvent(
                action="channel.provisioned",
                actor="alice",
                org_id="org-1",
                targets=AuditTargets(channel="support" if n % 2 else "sales", job=f"job-{n}"),
                outcome="succeeded",
                correlation_id=f"corr-{n}",
            )
            with store.unit_of_work() as tx:
                record(tx, event, key=key, every=5)
        if sign:
            end_run(store, key, head_path(home))
    finally:
        engine.dispose()


def _sql(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def _verify(env: dict[str, str], *args: str) -> Result:
    return run_gcwm(["audit", "verify", "--output", "json", *args], env)


@pytest.fixture(params=["sqlite", "postgresql", "sqlite-copy"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the URL the log was written to, the URL verify reads): the same, or a copy of the SQLite file
    at another path (a backup restored, a copy taken elsewhere)."""
    kind = str(request.param)
    with make_database_url(kind.removesuffix("-copy"), tmp_path) as url:
        if kind != "sqlite-copy":
            yield url, url
            return
        copy = tmp_path / "copied" / "gcwm.db"
        yield url, f"sqlite:///{copy}"


def _copy_if_asked(written: str, read: str) -> None:
    if read != written:
        copy_sqlite(written, Path(read.removeprefix("sqlite:///")))


def _truncate(url: str, home: Path) -> None:
    """Cut the log back to its checkpoint at 10; the head file goes too (no record of the database)."""
    _sql(url, "DELETE FROM audit_entries WHERE seq > 10", "DELETE FROM audit_checkpoints WHERE seq > 10")
    head_path(home).unlink(missing_ok=True)


def _drop_a_channel(url: str, home: Path) -> None:
    """Every entry of channel `sales` removed, the rest renumbered and re-chained, no checkpoint left."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        rechain(engine, lambda entry: entry["targets"].get("channel") != "sales")
    finally:
        engine.dispose()
    head_path(home).unlink(missing_ok=True)


def _null_channel_column(url: str, home: Path) -> None:
    """The column `show --channel` filters on nulled for one entry (its hashed body untouched)."""
    _sql(url, "UPDATE audit_entries SET channel = NULL WHERE seq = 4")


def _forge_rotation(url: str, home: Path) -> None:
    """Item 8: a key rotation appended, properly chained, by someone without the signing key."""
    engine = connect(url)
    try:
        with Store(engine).unit_of_work() as tx:
            record(tx, forged_rotation(load_signing_key(home)))
    finally:
        engine.dispose()


TAMPERING: dict[str, tuple[Callable[[str, Path], None], str]] = {
    "truncate with no head record": (_truncate, "no head"),
    "remove a channel, re-chain, delete every checkpoint": (_drop_a_channel, "unsigned"),
    "null a filter column": (_null_channel_column, "edited"),
    "forged key rotation after the head": (_forge_rotation, "unsigned"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_each_tampering_case_fails_verify_with_and_without_a_kept_head(
    case: str, database: tuple[str, str], tmp_path: Path
) -> None:
    """The review's cases: exit 1 with the reason, whether or not a head kept outside is given (which,
    where given, catches the rewrite or the cut on its own)."""
    written, read = database
    home = tmp_path / "home"
    _append(home, written, ENTRIES)
    kept = tmp_path / "kept.json"
    signed = run_gcwm(["audit", "sign", "--output", "json"], _env(home, written))
    kept.write_text(signed.stdout)
    _copy_if_asked(written, read)
    tamper, reason = TAMPERING[case]
    tamper(read, home)
    env = _env(home, read)

    plain = _verify(env)
    with_head = _verify(env, "--head", str(kept))

    assert signed.code == 0, signed.stderr
    assert (plain.code, plain.json()["ok"], plain.json()["reason"]) == (1, False, reason), plain.stderr
    assert (with_head.code, with_head.json()["ok"]) == (1, False), with_head.stderr


def test_audit_sign_prints_one_json_document_that_verify_head_accepts(
    database: tuple[str, str], tmp_path: Path
) -> None:
    """Entries not yet signed fail verify; `audit sign` signs them, prints the head alone on stdout,
    and that document, kept elsewhere, vouches for the log, a copy of it included."""
    written, read = database
    home = tmp_path / "home"
    _append(home, written, ENTRIES, sign=False)
    env = _env(home, written)
    unsigned = _verify(env)
    signed = run_gcwm(["audit", "sign", "--output", "json"], env)
    kept = tmp_path / "kept.json"
    kept.write_text(signed.stdout)
    _copy_if_asked(written, read)
    here = _env(home, read)

    assert (unsigned.code, unsigned.json()["reason"], unsigned.json()["firstBad"]) == (1, "unsigned", 11)
    assert signed.code == 0, signed.stderr
    document = json.loads(signed.stdout)
    assert set(document) == {"database", "head"} and document["head"]["seq"] == ENTRIES
    assert set(document["head"]) == {"seq", "hash", "at", "keyId", "signature"}
    with_head = _verify(here, "--head", str(kept))
    assert (with_head.code, with_head.json()["ok"]) == (0, True), with_head.stderr
    plain = _verify(here)
    assert plain.json()["ok"] is (read == written), plain.stderr


def test_an_older_signed_head_replayed_after_truncation_is_caught_by_verify_head(
    any_database_url: str, tmp_path: Path
) -> None:
    """The head file put back as it was at seq 10, the log cut back to match: `--head` with the head
    an outsider kept at seq 20 says entries were removed."""
    home = tmp_path / "home"
    env = _env(home, any_database_url)
    _append(home, any_database_url, 10)
    older_file = head_path(home).read_text()
    _append(home, any_database_url, 10, first=11, sign=False)
    kept = tmp_path / "kept.json"
    kept.write_text(run_gcwm(["audit", "sign", "--output", "json"], env).stdout)

    _sql(
        any_database_url,
        "DELETE FROM audit_entries WHERE seq > 10",
        "DELETE FROM audit_checkpoints WHERE seq > 10",
    )
    head_path(home).write_text(older_file)
    caught = _verify(env, "--head", str(kept))

    assert (caught.code, caught.json()["firstBad"], caught.json()["reason"]) == (1, 11, "truncated")
    assert f"kept in {kept}" in caught.stderr


def test_an_export_of_a_copy_verifies_offline_only_with_a_kept_head(tmp_path: Path) -> None:
    """`verify --file` of a copy's export: no head record in it, so a kept head is needed; an export
    with its newest entries dropped fails against that head."""
    home, url = tmp_path / "home", f"sqlite:///{tmp_path}/db/gcwm.db"
    _append(home, url, ENTRIES)
    env = _env(home, url)
    kept = tmp_path / "kept.json"
    kept.write_text(run_gcwm(["audit", "sign", "--output", "json"], env).stdout)
    public = tmp_path / "public.pem"
    public.write_text(run_gcwm(["audit", "key"], env).stdout)
    copy = tmp_path / "copy" / "gcwm.db"
    _copy_if_asked(url, f"sqlite:///{copy}")
    exported = tmp_path / "copy.jsonl"
    export = run_gcwm(
        ["audit", "export", "--format", "jsonl", "--output-file", str(exported)],
        _env(home, f"sqlite:///{copy}"),
    )
    short = tmp_path / "short.jsonl"
    short.write_text(
        "".join(
            line + "\n" for line in exported.read_text().splitlines() if json.loads(line).get("seq", 0) <= 10
        )
    )
    elsewhere = _env(tmp_path / "elsewhere", "sqlite:////nonexistent/never-opened.db")
    offline = ["--public-key", str(public), "--file"]

    assert export.code == 0, export.stderr
    assert _verify(elsewhere, *offline, str(exported)).json()["reason"] == "no head"
    assert _verify(elsewhere, *offline, str(exported), "--head", str(kept)).code == 0
    cut = _verify(elsewhere, *offline, str(short), "--head", str(kept))
    assert (cut.code, cut.json()["firstBad"], cut.json()["reason"]) == (1, 11, "truncated")


def test_keys_create_and_revoke_sign_the_head_they_append(tmp_path: Path) -> None:
    """Each key command's entry is covered by a signed head recorded outside the database at once."""
    home, url = tmp_path / "home", f"sqlite:///{tmp_path}/db/gcwm.db"
    env = _env(home, url)

    def recorded_seq() -> int:
        (head,) = json.loads(head_path(home).read_text())["heads"].values()
        return int(head["seq"])

    created = run_gcwm(["keys", "create", "--role", "viewer", "--name", "ci"], env)
    assert created.code == 0, created.stderr
    assert recorded_seq() == 1 and _verify(env).code == 0
    (key,) = run_gcwm(["keys", "list", "--output", "json"], env).json()["keys"]
    revoked = run_gcwm(["keys", "revoke", key["id"]], env)
    assert revoked.code == 0, revoked.stderr
    assert recorded_seq() == 2
    assert _verify(env).json() == {"ok": True, "entries": 2, "firstBad": None, "reason": None}


def test_a_signed_head_reaches_a_subscribed_webhook_and_verify_head_accepts_what_it_carries(
    tmp_path: Path,
) -> None:
    """A channel subscribed to `checkpoint`: `audit sign` queues the event, `notify run` delivers it,
    and the payload the receiver kept is a head `verify --head` checks; its delivery adds no entry."""
    home, url = tmp_path / "home", f"sqlite:///{tmp_path}/db/gcwm.db"
    secret = new_secret()
    policy = tmp_path / "policy.yaml"
    policy.write_text("allowPrivateItsmTargets: true\n")
    env = _env(home, url, GCWM_ITSM_WITNESS_SECRET=secret, GCWM_POLICY_FILE=str(policy))
    _append(home, url, 6, sign=False)
    with EmbeddedSink(Sink(secret=secret)) as sink:
        engine = connect(url)
        try:
            itsm = {
                "type": "webhook",
                "url": f"{sink.url}/webhook",
                "secretEnv": "GCWM_ITSM_WITNESS_SECRET",
                "events": ["checkpoint"],
            }
            with Store(engine).unit_of_work() as tx:
                tx.channels.upsert_desired(
                    "org-1", "web", channel_key("web"), {"name": "web", "itsm": itsm}, "h"
                )
        finally:
            engine.dispose()
        signed = run_gcwm(["audit", "sign"], env)
        sent = run_gcwm(["notify", "run", "--once", "--output", "json"], env)
        (call,) = sink.sink.received()
    kept = tmp_path / "witness.json"
    kept.write_text(call.body)

    assert signed.code == 0 and "seq 6" in signed.stdout, signed.stderr
    assert sent.json()["delivered"] == 1, sent.stderr
    payload = json.loads(call.body)
    assert payload["type"] == "audit.checkpoint" and payload["data"]["head"]["seq"] == 6
    assert _verify(env, "--head", str(kept)).json() == {
        "ok": True,
        "entries": 6,
        "firstBad": None,
        "reason": None,
    }
