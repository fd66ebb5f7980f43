"""connect(): migrations to head, the schema they build, URLs and per-connection settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

import gcwm.store
from gcwm.errors import StoreError
from gcwm.store import Store, connect, default_sqlite_url, head_revision
from gcwm.store.tables import metadata


def _schema_differences(engine: Engine, target: sa.MetaData) -> list[object]:
    def on_this_database(table: object, name: str | None, kind: str, *_: object) -> bool:
        # A table marked for some databases only (info["dialects"]) exists on those only.
        dialects = getattr(table, "info", {}).get("dialects") if kind == "table" else None
        return dialects is None or engine.dialect.name in dialects

    with engine.connect() as connection:
        opts = {"compare_type": True, "include_object": on_this_database}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, target))


def test_migrated_schema_matches_table_metadata(engine: Engine) -> None:
    """The hand-written migration builds exactly what tables.py declares."""
    assert _schema_differences(engine, metadata) == []


def test_schema_comparison_notices_a_missing_column(engine: Engine) -> None:
    """The comparison above is live: a column the database lacks is reported."""
    target = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(target)
    target.tables["jobs"].append_column(sa.Column("priority", sa.Integer(), nullable=True))

    differences = _schema_differences(engine, target)

    assert [diff[0] for diff in differences] == ["add_column"]  # type: ignore[index]


def test_migrating_twice_is_a_no_op(database_url: str) -> None:
    """A second connect() finds the database at head and leaves tables and rows alone."""
    first = connect(database_url)
    try:
        with Store(first).unit_of_work() as tx:
            tx.channels.upsert_desired("org-1", "support", "support", {"name": "support"}, "hash-1")
        tables_before = sorted(sa.inspect(first).get_table_names())
    finally:
        first.dispose()

    second = connect(database_url)
    try:
        with second.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            versions = connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one()
        assert revision == head_revision()
        assert versions == 1
        assert sorted(sa.inspect(second).get_table_names()) == tables_before
        assert Store(second).get_channel("org-1", "support") is not None
    finally:
        second.dispose()


def test_alembic_version_table_is_beside_the_tables(engine: Engine) -> None:
    """alembic_version sits in the same schema as the tables (the test's own one on PostgreSQL)."""
    inspector = sa.inspect(engine)
    assert {"alembic_version", "channels", "jobs", "job_steps"} <= set(inspector.get_table_names())
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schemas = connection.execute(
                sa.text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'jobs'")
            ).scalars()
            current = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            assert current.startswith("t_")
            assert current in set(schemas)
            assert not inspector.has_table("alembic_version", schema="public")


def test_timestamps_round_trip_as_aware_utc(store: Store) -> None:
    """Datetimes come back timezone-aware in UTC, on SQLite too."""
    before = datetime.now(UTC)
    with store.unit_of_work() as tx:
        job = tx.jobs.enqueue(
            batch_id="b",
            org_id="o",
            channel_name="c",
            channel_key="c",
            kind="provision",
            spec={},
            actor="a",
            correlation_id="x",
        )

    stored = store.get_job(job.id)

    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)
    assert before <= stored.created_at <= datetime.now(UTC)
    assert stored.created_at == job.created_at


def test_default_sqlite_url_creates_its_directory(tmp_path: Path) -> None:
    """The default SQLite database lands in gcwm's home, which connect() creates if missing."""
    home = tmp_path / "state" / "gcwm"
    url = default_sqlite_url(home)
    assert url == f"sqlite:///{home}/gcwm.db"

    engine = connect(url)
    engine.dispose()

    assert (home / "gcwm.db").is_file()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    """Every SQLite connection gets the PRAGMAs concurrent workers need."""
    engine = connect(f"sqlite:///{tmp_path}/gcwm.db")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar_one() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar_one() == 10000
            assert pragma("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()


def test_unreachable_database_is_a_store_error_without_the_password() -> None:
    """The error names the database URL but masks its password."""
    with pytest.raises(StoreError) as caught:
        connect("postgresql://gcwm:s3cret-pw@127.0.0.1:1/gcwm")

    assert "postgresql+psycopg://gcwm:***@127.0.0.1:1/gcwm" in caught.value.message
    assert "s3cret-pw" not in str(caught.value)


def test_unsupported_database_url_is_a_store_error() -> None:
    """Only SQLite and PostgreSQL URLs are accepted, and the message says so."""
    with pytest.raises(StoreError, match=r"unsupported database URL mysql://gcwm:\*\*\*@db/gcwm"):
        connect("mysql://gcwm:pw@db/gcwm")


def test_malformed_database_url_is_a_store_error() -> None:
    """A URL SQLAlchemy cannot parse is refused without echoing it."""
    with pytest.raises(StoreError, match="not valid"):
        connect("not a url")


def test_upgrade_gives_existing_rows_the_key_of_their_name(database_url: str) -> None:
    """Channels and jobs written by 0.1.0 (revision 0001) get their channel key on upgrade."""
    engine = _engine_without_migrations(database_url)
    try:
        with engine.connect() as connection, connection.begin():
            _upgrade(connection, "0001")
            now = datetime.now(UTC)
            connection.execute(
                sa.text(
                    "INSERT INTO channels (id, org_id, name, spec, spec_hash, status, created_at, updated_at)"
                    " VALUES ('c1', 'org', 'Web One', '{}', 'h', 'active', :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO jobs (id, batch_id, org_id, channel_name, kind, status, spec, actor,"
                    " correlation_id, attempts, created_at, updated_at)"
                    " VALUES ('j1', 'b', 'org', 'Web One', 'provision', 'succeeded', '{}', 'a', 'x', 1,"
                    " :now, :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()
    store = Store(connect(database_url))
    try:
        channel = store.get_channel("org", "web one")
        assert channel is not None and channel.name == "Web One"
        assert store.get_job("j1").channel_key == "web one"
    finally:
        store.engine.dispose()


def test_upgrade_counts_the_slots_already_held(database_url: str) -> None:
    """Reservations queued before revision 0009 count as held after it (SQLite keeps the count in a
    table the migration fills; PostgreSQL counts the rows)."""
    engine = _engine_without_migrations(database_url)
    now = datetime.now(UTC)
    try:
        with engine.connect() as connection, connection.begin():
            _upgrade(connection, "0008")
            for job, status in (("j1", "queued"), ("j2", "queued"), ("j3", "succeeded")):
                connection.execute(
                    sa.text(
                        "INSERT INTO jobs (id, batch_id, org_id, channel_name, channel_key, kind, status,"
                        " spec, actor, correlation_id, attempts, created_at, updated_at)"
                        " VALUES (:job, 'b', 'org', :job, :job, 'provision', :status, '{}', 'a', 'x', 0,"
                        " :now, :now)"
                    ),
                    {"job": job, "status": status, "now": now},
                )
            for job, kind, state in (
                ("j1", "deployment", "held"),
                ("j1", "configuration", "held"),
                ("j2", "deployment", "held"),
                ("j3", "deployment", "parked"),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO slot_reservations (job_id, kind, org_id, state, created_at)"
                        " VALUES (:job, :kind, 'org', :state, :now)"
                    ),
                    {"job": job, "kind": kind, "state": state, "now": now},
                )
    finally:
        engine.dispose()
    store = Store(connect(database_url))
    try:
        with store.unit_of_work() as tx:
            assert tx.slots.counted("org", now) == {"deployment": 2, "configuration": 1}
    finally:
        store.engine.dispose()


def _engine_without_migrations(database_url: str) -> Engine:
    """An engine on the test database that, unlike connect(), leaves it as it is."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url, poolclass=sa.NullPool)


def _upgrade(connection: sa.Connection, revision: str) -> None:
    """Migrate the database of `connection` to `revision`, as an earlier gcwm would have left it."""
    config = Config()
    config.set_main_option("script_location", str(Path(gcwm.store.__file__).parent / "migrations"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
