"""`gcwm audit` as users run it: verify's JSON and exit code, export then verify offline, show, key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlalchemy as sa

from gcwm.audit import AuditEvent, AuditTargets, end_run, head_path, load_signing_key, record
from gcwm.store import Store, connect
from tests.e2e.conftest import run_gcwm


def _env(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    return {**env, "GCWM_HOME": str(home), "GCWM_DATABASE_URL": url, "GCWM_LOG_LEVEL": "warning"}


def _log(home: Path, url: str, entries: int) -> None:
    """Append `entries` as provisioning would (checkpoint every 5) and end the run."""
    engine = connect(url)
    try:
        store = Store(engine)
        key = load_signing_key(home)
        for n in range(1, entries + 1):
            event = AuditEvent(
                action="channel.provisioned",
                actor="alice",
                org_id="org-1",
                targets=AuditTargets(channel="support" if n % 2 else "sales", job=f"job-{n}"),
                outcome="succeeded",
                correlation_id=f"corr-{n}",
                summary={"specHash": f"{n:064x}"},
            )
            with store.unit_of_work() as tx:
                record(tx, event, key=key, every=5)
        end_run(store, key, head_path(home))
    finally:
        engine.dispose()


def test_verify_prints_its_four_fields_and_exits_1_on_tampering(
    any_database_url: str, tmp_path: Path
) -> None:
    """A clean log exits 0; after a deletion, exit 1 with the first bad seq and the reason."""
    home = tmp_path / "home"
    _log(home, any_database_url, 12)
    env = _env(home, any_database_url)

    clean = run_gcwm(["audit", "verify", "--output", "json"], env)
    assert (clean.code, clean.json()) == (0, {"ok": True, "entries": 12, "firstBad": None, "reason": None})

    engine = sa.create_engine(any_database_url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_entries WHERE seq = 7"))
    engine.dispose()
    bad = run_gcwm(["audit", "verify", "--output", "json"], env)
    text = run_gcwm(["audit", "verify"], env)

    assert (bad.code, bad.json()) == (1, {"ok": False, "entries": 11, "firstBad": 7, "reason": "deleted"})
    assert "entry 7 is missing" in bad.stderr
    assert text.code == 1 and "seq 7 (deleted)" in text.stdout


def test_an_export_verifies_offline_with_the_exported_public_key(tmp_path: Path) -> None:
    """Export and public key taken elsewhere verify without the database; another key does not."""
    home, url = tmp_path / "home", f"sqlite:///{tmp_path}/db/gcwm.db"
    _log(home, url, 7)
    env = _env(home, url)
    key = run_gcwm(["audit", "key"], env)
    exported = run_gcwm(
        ["audit", "export", "--format", "jsonl", "--output-file", str(tmp_path / "e.jsonl")], env
    )
    (tmp_path / "public.pem").write_text(key.stdout)
    elsewhere = _env(tmp_path / "elsewhere", "sqlite:////nonexistent/never-opened.db")

    offline = run_gcwm(
        [
            "audit",
            "verify",
            "--file",
            str(tmp_path / "e.jsonl"),
            "--public-key",
            str(tmp_path / "public.pem"),
            "-o",
            "json",
        ],
        elsewhere,
    )
    other_home = tmp_path / "other"
    run_gcwm(["audit", "key"], _env(other_home, url))
    wrong = run_gcwm(
        [
            "audit",
            "verify",
            "--file",
            str(tmp_path / "e.jsonl"),
            "--public-key",
            str(other_home / "audit-key.pem"),
        ],
        elsewhere,
    )

    assert key.code == 0 and key.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert exported.code == 0 and "exported 7 audit entries" in exported.stderr
    assert (offline.code, offline.json()) == (0, {"ok": True, "entries": 7, "firstBad": None, "reason": None})
    assert wrong.code == 1 and "(bad signature)" in wrong.stdout


def test_show_and_cef_export_read_the_log(tmp_path: Path) -> None:
    """`show --channel` filters by channel name; `export --format cef` writes one line per entry."""
    home, url = tmp_path / "home", f"sqlite:///{tmp_path}/db/gcwm.db"
    _log(home, url, 5)
    env = _env(home, url)

    shown = run_gcwm(["audit", "show", "--channel", "sales", "--since", "1h", "--output", "json"], env)
    cef = run_gcwm(["audit", "export", "--format", "cef"], env)
    bad_since = run_gcwm(["audit", "show", "--since", "yesterday"], env)

    assert shown.code == 0
    assert [(e["seq"], e["targets"]["channel"]) for e in shown.json()["entries"]] == [
        (2, "sales"),
        (4, "sales"),
    ]
    assert cef.code == 0 and len(cef.stdout.splitlines()) == 5
    assert all(line.startswith("CEF:0|gcwm|gcwm|") for line in cef.stdout.splitlines())
    assert bad_since.code == 2 and "--since 'yesterday'" in bad_since.stderr


def test_json_of_verify_is_the_only_thing_on_stdout(tmp_path: Path) -> None:
    """Machines parse stdout: nothing but the document, even when the log is bad."""
    home, url = tmp_path / "home", f"sqlite:///{tmp_path}/db/gcwm.db"
    _log(home, url, 3)
    (home / "audit-head.json").write_text(json.dumps({"heads": {}}))
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_entries SET body = replace(body, 'alice', 'eve') WHERE seq = 2")
        )
    engine.dispose()

    result = run_gcwm(["audit", "verify", "-o", "json"], _env(home, url))

    assert (result.code, json.loads(result.stdout)) == (
        1,
        {"ok": False, "entries": 3, "firstBad": 2, "reason": "edited"},
    )
