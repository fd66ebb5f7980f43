"""Opening the database: engine settings per backend, and migrations to head.

An empty database is made at head in one step: the tables of tables.py, the triggers the migrations
add, and Alembic's version row, as `alembic upgrade head` would leave them (a test compares the two
on SQLite and PostgreSQL). A database at head is left alone, and any other is migrated by Alembic,
which is imported only then (it costs a command ~0.1 s to load).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from gcwm.errors import StoreError
from gcwm.store.sql import reason
from gcwm.store.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

#: Execution option that marks a connection's transactions as read-only (see _begin_sqlite).
READ_ONLY_OPTION = "gcwm_read_only"

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed 64-bit key; every gcwm process migrating a PostgreSQL database takes it first.
_MIGRATION_LOCK_KEY = 0x67_63_77_6D  # "gcwm"
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg"}

#: The newest migration in migrations/versions: what a new database is stamped with, and what a
#: database needs to be at to be used without migrating. A test checks it is Alembic's head.
HEAD_REVISION = "0012"

# gcwm's transactions never wait on anything but the database, a few milliseconds between statements:
# one idle this long belongs to a process that was paused (a VM pause, SIGSTOP, Ctrl-Z) inside it. Its
# row locks would block every other gcwm until it woke (a destroy waiting on a paused worker's lease
# renewal; found by bench/explore.py, issue 22), so PostgreSQL ends that session; the paused process
# finds its transaction gone when it wakes, and its lease lost.
IDLE_TRANSACTION_S = 30.0

# The triggers migrations 0007 and 0009 add, per backend, word for word (tables.py says why they
# exist): a new database gets them with its tables.
_PARK_SLOTS = (
    "UPDATE slot_reservations SET state = "
    "CASE WHEN NEW.status IN ('queued', 'running') THEN 'held' ELSE 'parked' END "
    "WHERE job_id = NEW.id AND state IN ('held', 'parked')"
)
_STATUS_CHANGED = "((OLD.status IN ('queued', 'running')) <> (NEW.status IN ('queued', 'running')))"
_HOLD = (
    "INSERT INTO held_slot_counts (org_id, kind, held) VALUES (NEW.org_id, NEW.kind, 1) "
    "ON CONFLICT (org_id, kind) DO UPDATE SET held = held + 1"
)
_RELEASE = "UPDATE held_slot_counts SET held = held - 1 WHERE org_id = OLD.org_id AND kind = OLD.kind"
_TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER trg_jobs_park_slots AFTER UPDATE OF status ON jobs "
        f"WHEN {_STATUS_CHANGED} BEGIN {_PARK_SLOTS}; END",
        "CREATE TRIGGER trg_slots_held_insert AFTER INSERT ON slot_reservations "
        f"WHEN NEW.state = 'held' BEGIN {_HOLD}; END",
        "CREATE TRIGGER trg_slots_held_delete AFTER DELETE ON slot_reservations "
        f"WHEN OLD.state = 'held' BEGIN {_RELEASE}; END",
        "CREATE TRIGGER trg_slots_held_leave AFTER UPDATE ON slot_reservations WHEN OLD.state = 'held' AND "
        f"(NEW.state <> 'held' OR NEW.org_id <> OLD.org_id OR NEW.kind <> OLD.kind) BEGIN {_RELEASE}; END",
        "CREATE TRIGGER trg_slots_held_enter AFTER UPDATE ON slot_reservations WHEN NEW.state = 'held' AND "
        f"(OLD.state <> 'held' OR NEW.org_id <> OLD.org_id OR NEW.kind <> OLD.kind) BEGIN {_HOLD}; END",
    ),
    "postgresql": (
        "CREATE FUNCTION gcwm_park_slots() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_PARK_SLOTS}; RETURN NULL; END $$",
        "CREATE TRIGGER trg_jobs_park_slots AFTER UPDATE OF status ON jobs FOR EACH ROW "
        f"WHEN {_STATUS_CHANGED} EXECUTE FUNCTION gcwm_park_slots()",
    ),
}


def default_sqlite_url(home: Path) -> str:
    """The SQLite database gcwm uses when no URL is configured: ``gcwm.db`` in the gcwm home."""
    return f"sqlite:///{home}/gcwm.db"


def connect(url: str, *, idle_transaction_s: float = IDLE_TRANSACTION_S) -> Engine:
    """Create an engine for ``url`` (SQLite or PostgreSQL) and migrate its database to head.

    On PostgreSQL a session of gcwm's that keeps a transaction open without a word for
    `idle_transaction_s` is ended by the server (unless the URL's own `options` set that timeout).

    Raises StoreError, naming the URL without its password, if the URL is not usable or the
    database cannot be reached or migrated.
    """
    parsed = _parse(url)
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, where)
    else:
        # A firewalled host would otherwise hang until the OS gives up on TCP (minutes).
        timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        try:
            engine = sa.create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={**timeout, **_session_options(parsed, idle_transaction_s)},
            )
        except ImportError as exc:
            # The driver is the gcwm[postgres] extra: SQLite installs go without it (pyproject.toml).
            msg = (
                f"the database {where} needs PostgreSQL's driver, psycopg, which cannot be imported"
                f" ({exc}): pip install 'gcwm[postgres]'"
            )
            raise StoreError(msg) from exc
    try:
        _upgrade_to_head(engine)
    except (SQLAlchemyError, _MigrationFailed, OSError) as exc:
        engine.dispose()
        msg = f"could not open and migrate the database {where}: {reason(exc)}"
        raise StoreError(msg) from exc
    return engine


def _session_options(url: URL, idle_transaction_s: float) -> dict[str, str]:
    """The server settings of each PostgreSQL session: the URL's own `options`, and an idle-in-
    transaction timeout unless those set one."""
    given = url.query.get("options", "")
    options = " ".join(given) if isinstance(given, tuple) else given
    if "idle_in_transaction_session_timeout" not in options:
        options = f"{options} -c idle_in_transaction_session_timeout={round(idle_transaction_s * 1000)}"
    return {"options": options.strip()}


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        # The message names no part of the URL: a malformed one may still hold a password.
        msg = "the database URL is not valid: expected sqlite:///path or postgresql://user@host/db"
        raise StoreError(msg) from exc
    if parsed.drivername in _POSTGRES_DRIVERS:
        # psycopg 3 is the one PostgreSQL driver gcwm ships; bare postgresql:// would pick psycopg2.
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        return parsed
    where = parsed.render_as_string(hide_password=True)
    msg = f"unsupported database URL {where}: use sqlite:///path or postgresql://user@host/db"
    raise StoreError(msg)


def _sqlite_engine(url: URL, where: str) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            # gcwm's directory and database are its user's alone. SQLite makes a new database 0644,
            # but its -wal, -shm and -journal files with the database's mode (os_unix.c,
            # findCreateFileMode): so the file is made here first, 0600. An existing directory or
            # database keeps its mode (it may be one the user chose to share).
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            msg = f"could not create the database {where}: {exc}"
            raise StoreError(msg) from exc
    engine = sa.create_engine(url)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver so _begin_sqlite decides how each transaction starts
    # (SQLAlchemy docs, "Transactions with SQLite and the sqlite3 driver").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=10000")  # wait for another writer rather than fail at once
        _set_wal(cursor)  # readers and the one writer do not block each other
        # In WAL mode NORMAL is durable across process crashes (kill -9); only a power cut may
        # lose the last commits, never corrupt the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default; job_steps' ON DELETE CASCADE needs it
    finally:
        cursor.close()


def _set_wal(cursor: Any) -> None:
    # Switching a new file to WAL needs a moment of exclusive access, and SQLite reports "locked"
    # at once (no busy wait) when several processes open the file together: try again briefly.
    deadline = time.monotonic() + 10.0
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _begin_sqlite(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so two processes can never both read and then write
    # (a deferred transaction that later writes fails with SQLITE_BUSY instead of waiting).
    read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class _MigrationFailed(Exception):
    """Alembic's CommandError, caught where Alembic is imported."""


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The migration revision this gcwm's tables correspond to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "the store ships migrations"
    return head


def _upgrade_to_head(engine: Engine) -> None:
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            # Two processes starting together would both create the tables; the second waits here and
            # then finds the database at head. The lock ends with the transaction.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
        # On SQLite the BEGIN IMMEDIATE of this transaction serialises migrators the same way.
        tables = set(sa.inspect(connection).get_table_names())
        if not tables:
            _create_at_head(connection)
        elif "alembic_version" not in tables or _revisions(connection) != [HEAD_REVISION]:
            _migrate(connection)


def _revisions(connection: Connection) -> list[str]:
    return list(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def _create_at_head(connection: Connection) -> None:
    """Make an empty database what every migration in turn would make of it, in one step."""
    dialect = connection.dialect.name
    # A table marked for some backends only (info["dialects"]) exists on those only.
    tables = [t for t in metadata.sorted_tables if dialect in t.info.get("dialects", (dialect,))]
    metadata.create_all(connection, tables=tables, checkfirst=False)
    for statement in _TRIGGERS.get(dialect, ()):
        connection.exec_driver_sql(statement)
    # Alembic's version table, as Alembic makes it (its primary key named <table>_pkc).
    version = sa.Table(
        "alembic_version",
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(version.insert().values(version_num=HEAD_REVISION))


def _migrate(connection: Connection) -> None:
    """Run the migrations from the database's revision to head, in the caller's transaction."""
    from alembic import command
    from alembic.util import CommandError

    config = _alembic_config()
    config.attributes["connection"] = connection
    try:
        command.upgrade(config, "head")
    except CommandError as exc:
        raise _MigrationFailed(str(exc)) from exc
