"""connect() makes an empty database at head in one step: exactly what the migrations, run one after the
other, make of it (tables, columns, indexes, constraints, triggers and their functions, the version row)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from gcwm.store import Store, connect, head_revision
from gcwm.store.engine import HEAD_REVISION
from tests.integration.store.test_store_migrations import _engine_without_migrations, _upgrade
from tests.support.databases import make_database_url

ROOT = Path(__file__).parents[3]
MIGRATIONS = ROOT / "src" / "gcwm" / "store" / "migrations"

# What PostgreSQL's catalogs say of the current schema (each test has a schema of its own, whose
# name is taken out of the definitions).
_PG_CATALOG = {
    "columns": "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,"
    " column_default FROM information_schema.columns WHERE table_schema = current_schema()",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    "constraints": "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)"
    " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
    " WHERE n.nspname = current_schema()",
    "triggers": "SELECT r.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t"
    " JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
    " WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
    "functions": "SELECT p.proname, p.prokind, pg_get_function_result(p.oid), p.prosrc FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases of one kind (SQLite files, or PostgreSQL schemas)."""
    with ExitStack() as stack:
        first = stack.enter_context(make_database_url(request.param, tmp_path / "first"))
        second = stack.enter_context(make_database_url(request.param, tmp_path / "second"))
        yield first, second


def _migrated_step_by_step(database_url: str) -> Engine:
    """The database as a gcwm user's would be after every release: each migration in turn, committed."""
    script = ScriptDirectory(str(MIGRATIONS))
    engine = _engine_without_migrations(database_url)
    for revision in reversed(list(script.walk_revisions())):
        with engine.connect() as connection, connection.begin():
            _upgrade(connection, revision.revision)
    return engine


def _plain(value: Any) -> Any:
    """A value of the inspector's, comparable between databases (SQL expressions as their text)."""
    if isinstance(value, dict):
        return sorted((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, sa.ClauseElement):
        return str(value)
    return value


def _inspection(engine: Engine) -> dict[str, Any]:
    """SQLAlchemy's view of every table: columns by name (their order is the history's, not the
    schema's: a column a migration added comes last), keys, indexes and constraints."""
    inspector = sa.inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        columns = {
            c["name"]: (str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
            for c in inspector.get_columns(table)
        }
        tables[table] = {
            "columns": columns,
            "primary key": _plain(inspector.get_pk_constraint(table)),
            "foreign keys": sorted(_plain(list(inspector.get_foreign_keys(table)))),
            "indexes": sorted(_plain(list(inspector.get_indexes(table)))),
            "unique": sorted(_plain(list(inspector.get_unique_constraints(table)))),
            "checks": sorted(_plain(list(inspector.get_check_constraints(table)))),
        }
    return tables


def _catalog(engine: Engine) -> dict[str, Any]:
    """The database's own catalog: sqlite_master and PRAGMAs, or PostgreSQL's pg_* and information_schema."""
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        if engine.dialect.name == "sqlite":
            master = run("SELECT type, name, tbl_name, sql FROM sqlite_master").all()
            found: dict[str, Any] = {
                # Indexes and triggers word for word; tables by their columns (below), in any order.
                "sql": sorted((t, n, tbl, sql) for t, n, tbl, sql in master if t != "table"),
                "tables": sorted(n for t, n, _, _ in master if t == "table"),
            }
            for table in found["tables"]:
                found[f"{table} columns"] = sorted(tuple(r)[1:] for r in run(f"PRAGMA table_xinfo({table})"))
                found[f"{table} foreign keys"] = sorted(
                    tuple(r)[2:] for r in run(f"PRAGMA foreign_key_list({table})")
                )
                found[f"{table} indexes"] = sorted(tuple(r)[1:] for r in run(f"PRAGMA index_list({table})"))
            return found
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        return {
            name: sorted(
                tuple(str(v).replace(f"{schema}.", "") if isinstance(v, str) else v for v in row)
                for row in run(query)
            )
            for name, query in _PG_CATALOG.items()
        }


def _schema(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return {"inspection": _inspection(engine), "catalog": _catalog(engine), "versions": versions}


def test_head_revision_is_the_newest_migration() -> None:
    """The revision a new database is stamped with is Alembic's head: a new migration must move it."""
    assert head_revision() == HEAD_REVISION


def test_fresh_database_equals_one_migrated_step_by_step(two_database_urls: tuple[str, str]) -> None:
    """Tables, columns, keys, indexes, triggers (and PostgreSQL's trigger function) and the version
    row of a database made in one step are those of one every migration was run on in turn."""
    migrated_url, fresh_url = two_database_urls
    migrated = _migrated_step_by_step(migrated_url)
    fresh = connect(fresh_url)
    try:
        expected, made = _schema(migrated), _schema(fresh)
        assert made["versions"] == [HEAD_REVISION]
        assert made == expected
        triggers = made["catalog"]["sql" if fresh.dialect.name == "sqlite" else "triggers"]
        assert "trg_jobs_park_slots" in repr(triggers)  # the comparison covers the triggers
    finally:
        migrated.dispose()
        fresh.dispose()


def test_schema_comparison_notices_a_missing_trigger(two_database_urls: tuple[str, str]) -> None:
    """The comparison above is live: a trigger the one-step database lacked would be reported."""
    first_url, second_url = two_database_urls
    first, second = connect(first_url), connect(second_url)
    try:
        assert _schema(first) == _schema(second)
        with second.begin() as connection:
            on_table = " ON jobs" if second.dialect.name == "postgresql" else ""
            connection.exec_driver_sql(f"DROP TRIGGER trg_jobs_park_slots{on_table}")
        assert _schema(first) != _schema(second)
    finally:
        first.dispose()
        second.dispose()


def test_fresh_database_keeps_held_slots_by_its_triggers(database_url: str) -> None:
    """The triggers of a one-step database work: a job's slot is held while it is queued, parked when
    it ends (SQLite also keeps the count in held_slot_counts)."""
    store = Store(connect(database_url))
    try:
        with store.unit_of_work() as tx:
            job = tx.jobs.enqueue(
                batch_id="b",
                org_id="org",
                channel_name="web",
                channel_key="web",
                kind="provision",
                spec={},
                actor="a",
                correlation_id="c",
            )
            tx.connection.execute(
                sa.text(
                    "INSERT INTO slot_reservations (job_id, kind, org_id, state, created_at)"
                    " VALUES (:job, 'deployment', 'org', 'held', CURRENT_TIMESTAMP)"
                ),
                {"job": job.id},
            )
        with store.unit_of_work() as tx:
            assert tx.slots.counted("org", job.created_at)["deployment"] == 1
            tx.connection.execute(
                sa.text("UPDATE jobs SET status = 'failed' WHERE id = :job"), {"job": job.id}
            )
        with store.unit_of_work() as tx:
            state = tx.connection.execute(sa.text("SELECT state FROM slot_reservations")).scalar_one()
            assert state == "parked"
            assert tx.slots.counted("org", job.created_at).get("deployment", 0) == 0
    finally:
        store.engine.dispose()


def test_new_and_current_databases_open_without_alembic(database_url: str) -> None:
    """connect() loads Alembic only to migrate an older database: not to make a new one, nor to open
    one at head."""
    code = (
        "import sys; from gcwm.store import connect; "
        "connect(sys.argv[1]).dispose(); connect(sys.argv[1]).dispose(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, database_url], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"
