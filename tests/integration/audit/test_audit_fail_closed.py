"""Verify fails closed (issue 23, item 3 and item 8's second half): the log is intact only when a
signed head from a trusted key covers its last entry and a head kept outside the database vouches for
its end. Each case is what the security review did to the database directly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gcwm.audit import SigningKey, end_run, head_path, read_head, record, verify_store
from gcwm.store import Store, connect
from gcwm.store.audit import database_name
from gcwm.store.tables import audit_entries
from tests.integration.audit.conftest import LOG, Append
from tests.support.audit_tampering import copy_sqlite, forged_rotation, rechain


def _elsewhere(tmp_path: Path) -> Path:
    """A head file holding no record for the database under test (another home, a copy, a restore)."""
    path = tmp_path / "elsewhere" / "audit-head.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"heads": {"sqlite:////some/other.db": {}}}))
    return path


def test_a_log_with_every_checkpoint_deleted_and_no_head_record_fails(
    log: Path, engine: Engine, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """Nothing signed vouches for any entry: that is a failure with its reason, not an intact log."""
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_checkpoints"))

    for head_file in (_elsewhere(tmp_path), None):
        result = verify_store(store, key.public_key, head_file=head_file)
        assert (result.ok, result.first_bad, result.reason) == (False, 1, "unsigned")
        assert f"entries 1..{LOG}" in result.message


def test_truncating_a_log_with_no_head_record_fails(
    log: Path, engine: Engine, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """Cut back past a checkpoint (its tail then unsigned) or exactly to one (nothing outside says
    where the log ended): both fail when the head file holds no record for the database."""
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 35"))
        c.execute(sa.text("DELETE FROM audit_checkpoints WHERE seq > 30"))
    past = verify_store(store, key.public_key, head_file=_elsewhere(tmp_path))
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 30"))
    exactly = verify_store(store, key.public_key, head_file=tmp_path / "elsewhere" / "audit-head.json")

    assert (past.ok, past.first_bad, past.reason) == (False, 31, "unsigned")
    assert "entries 31..35 are not covered by a signed head" in past.message
    assert (exactly.ok, exactly.reason) == (False, "no head")
    assert database_name(store.engine) in exactly.message and "--head" in exactly.message


def test_removing_one_channels_entries_re_chained_with_every_checkpoint_deleted_fails(
    log: Path, engine: Engine, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """The review's forgery: a consistent chain without web-1's entries and no checkpoint left. The
    head file that has a record sees the rewrite; without one, nothing signed covers the new chain."""
    kept = rechain(engine, lambda entry: entry["targets"].get("channel") != "web-1")
    assert 0 < kept < LOG

    unrecorded = verify_store(store, key.public_key, head_file=_elsewhere(tmp_path))
    recorded = verify_store(store, key.public_key, head_file=log)

    assert (unrecorded.ok, unrecorded.first_bad, unrecorded.reason) == (False, 1, "unsigned")
    assert not recorded.ok and recorded.first_bad == 1


@pytest.mark.parametrize("column", ["channel", "job_id"])
def test_nulling_a_column_that_listings_filter_on_fails_verify(
    log: Path, engine: Engine, store: Store, key: SigningKey, column: str
) -> None:
    """`audit show --channel` and the API filter on the channel and job columns, outside the hash:
    a column that no longer says what the hashed entry says is an edit verify names."""
    with engine.begin() as c:
        c.execute(sa.update(audit_entries).where(audit_entries.c.seq == 7).values({column: None}))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, 7, "edited")
    assert column.removesuffix("_id") in result.message


def test_moving_an_entrys_time_column_fails_verify(
    log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """`show --since` filters on the `at` column: moving it back hides an entry, so verify names it."""
    with engine.begin() as c:
        c.execute(
            sa.update(audit_entries)
            .where(audit_entries.c.seq == 12)
            .values(at=datetime(1999, 1, 1, tzinfo=UTC))
        )

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, 12, "edited")
    assert "time" in result.message


def test_entries_after_the_last_signed_head_fail_verify(
    log: Path, append: Append, store: Store, key: SigningKey
) -> None:
    """Appended since the last signing (or forged): verify is ok only once a signed head covers them."""
    append(3, every=0)

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, LOG + 1, "unsigned")
    assert f"entries {LOG + 1}..{LOG + 3} are not covered by a signed head" in result.message


def test_a_forged_key_rotation_after_the_last_head_fails_instead_of_hiding_the_uncovered_note(
    log: Path, store: Store, key: SigningKey
) -> None:
    """Item 8: a rotation entry appended by someone without the key counts as no signed head."""
    with store.unit_of_work() as tx:
        record(tx, forged_rotation(key))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, LOG + 1, "unsigned")


def test_a_head_file_without_a_record_for_this_database_fails_naming_both(
    log: Path, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """A head file that knows other databases only is not skipped silently."""
    elsewhere = _elsewhere(tmp_path)

    result = verify_store(store, key.public_key, head_file=elsewhere)

    assert (result.ok, result.first_bad, result.reason) == (False, LOG + 1, "no head")
    assert str(elsewhere) in result.message and database_name(store.engine) in result.message


def test_deleting_the_checkpoints_under_a_recorded_head_fails(
    log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """Every head kept outside the database was a checkpoint in it too: its row gone is tampering."""
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_checkpoints"))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, LOG, "missing checkpoint")


def test_a_copy_of_the_database_at_another_path_has_no_head_record_and_fails(
    database_url: str, log: Path, store: Store, key: SigningKey, tmp_path: Path
) -> None:
    """The head file names the database by its URL: a copy elsewhere (or a restore) is not vouched
    for by the original's record, intact or cut back."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a file copy is SQLite's; PostgreSQL is covered by the head-file cases")
    engine = connect(copy_sqlite(database_url, tmp_path / "copy" / "gcwm.db"))
    try:
        copied = Store(engine)
        intact = verify_store(copied, key.public_key, head_file=log)
        with engine.begin() as c:
            c.execute(sa.text("DELETE FROM audit_entries WHERE seq > 20"))
            c.execute(sa.text("DELETE FROM audit_checkpoints WHERE seq > 20"))
        cut = verify_store(copied, key.public_key, head_file=log)
    finally:
        engine.dispose()

    assert read_head(log, database_name(store.engine)) is not None
    assert (intact.ok, intact.reason) == (False, "no head")
    assert (cut.ok, cut.reason) == (False, "no head")


def test_a_signed_and_recorded_log_still_verifies(
    log: Path, append: Append, store: Store, key: SigningKey, home: Path
) -> None:
    """The ordinary case: every run ends with a signed head, recorded outside the database."""
    append(5, every=0)
    end_run(store, key, head_path(home))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.entries, result.reason) == (True, LOG + 5, None)


def test_a_body_that_is_not_json_is_named_and_the_columns_are_still_compared(
    log: Path, engine: Engine, store: Store, key: SigningKey
) -> None:
    """PostgreSQL cannot compare the columns of a row whose body is not JSON (SQLite skips it): the
    rows are then compared one by one, so a nulled column before it is still named first."""
    with engine.begin() as c:
        c.execute(sa.update(audit_entries).where(audit_entries.c.seq == 17).values(body="not json"))
        c.execute(sa.update(audit_entries).where(audit_entries.c.seq == 5).values(channel=None))

    result = verify_store(store, key.public_key, head_file=log)

    assert (result.ok, result.first_bad, result.reason) == (False, 5, "edited")
    assert "channel column" in result.message
