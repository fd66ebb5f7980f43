"""The audit log's rows: hash-chained entries and the signed checkpoints kept apart from them.

The chain itself (bodies, hashes, signatures) is gcwm.audit's craft; this module stores and reads rows.

Appends never fork the chain. `append` builds the entry after a head and inserts it with ON CONFLICT
DO NOTHING: if another transaction took that seq first (PostgreSQL makes the insert wait until that
transaction ends), nothing goes in, and the entry is built again after the new head. The primary key
thus serialises appends without a lock round trip on every state change; on SQLite BEGIN IMMEDIATE
already lets one writer in at a time. `lock()` (an advisory lock on PostgreSQL) makes the rarer
checkpoint writers take turns, so two never sign and store the same head.

An append runs inside every state change's transaction, and bench/audit.py holds it to under 10 % of
a provisioning step's checkpoint transaction, so:
- the head is first taken from this process's last append to the database, a guess the insert checks
  (`WHERE EXISTS` that entry with that hash): one round trip when it holds, and when it does not (an
  append by another process, a rollback) the head is read and the insert tried again;
- its statements go straight to the driver on the transaction's own connection: SQLAlchemy's work
  per statement (about 20 µs on SQLite, 70 µs on PostgreSQL here) was most of the cost. They are fixed
  SQL, and `at` is bound through the column type, so it is stored exactly as SQLAlchemy stores it.

Reads stream in seq order in chunks (`yield_per`: a server-side cursor on PostgreSQL), and the chain
walk gets plain `(seq, body, hash)` tuples: verifying 100 000 entries a second leaves no time for a
dataclass per row. For the same reason the columns that repeat the body for searching are compared
with it by the database (`first_search_mismatch`, one statement per dialect).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from gcwm.errors import StoreError
from gcwm.store.sql import database_errors, describe, reason
from gcwm.store.tables import audit_checkpoints, audit_entries
from gcwm.store.types import database_now

CHUNK = 5_000
#: How often an append builds its entry again after losing the race for a seq before giving up.
APPEND_ATTEMPTS = 1_000

_LOCK_SPACE = 0x61756474  # "audt": apart from the slot locks (gcwm.store.slots) and the migration lock
_e = audit_entries.c
_LOCK = sa.select(sa.func.pg_advisory_xact_lock(sa.cast(_LOCK_SPACE, sa.Integer), sa.cast(0, sa.Integer)))
_HEAD = sa.select(_e.seq, _e.hash).order_by(_e.seq.desc()).limit(1)
_FIRST = sa.select(_e.seq, _e.hash).order_by(_e.seq).limit(1)
_INSERT = audit_entries.insert()
# `at` read raw and spelled by _rfc3339: SQLAlchemy's parsing of SQLite's text costs more than the row.
_SEARCH_COLUMNS = (
    _e.seq,
    _e.body,
    _e.hash,
    sa.type_coerce(_e.at, sa.String()),
    _e.action,
    _e.org_id,
    _e.channel,
    _e.job_id,
)
_INSERT_CHECKPOINT = audit_checkpoints.insert()

#: One entry as the chain walk reads it: seq, canonical body, hash.
ChainRow = tuple[int, str, str]
#: One entry with the columns that repeat its body for searching: seq, body, hash, at (RFC 3339 in UTC
#: with microseconds and `Z`, as the body spells it; None where the stored value is not a time),
#: action, org_id, channel, job_id.
SearchRow = tuple[int, str, str, str | None, str, str, str | None, str | None]


class AuditHead(NamedTuple):
    """The newest entry of the chain: its seq and hash (unpacks as `seq, hash`)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry; `body` is the canonical JSON that was hashed, the rest repeats it for search."""

    seq: int
    at: datetime
    action: str
    org_id: str
    channel: str | None
    job_id: str | None
    body: str
    hash: str


@dataclass(frozen=True)
class AuditCheckpoint:
    """A signed head of the chain, as stored."""

    seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str


#: Builds the entry that follows a head (None: the log is empty).
EntryBuilder = Callable[[AuditHead | None], AuditEntry]


def _append_sql(mark: str) -> tuple[str, str]:
    """The append's two inserts in the driver's parameter style: after a head just read, and after a
    guessed head (which must be there with that hash). The row count says whether the row went in."""
    into = "INSERT INTO audit_entries (seq, at, action, org_id, channel, job_id, body, hash)"
    values = ", ".join([mark] * 8)
    taken = "ON CONFLICT (seq) DO NOTHING"
    after_guess = f"WHERE EXISTS (SELECT 1 FROM audit_entries WHERE seq = {mark} AND hash = {mark})"
    return f"{into} VALUES ({values}) {taken}", f"{into} SELECT {values} {after_guess} {taken}"


# The first entry whose search columns differ from its body, found by the database's own JSON
# functions (a JSON parse per row in Python would cost more than the whole chain walk). The rules
# are `gcwm.audit.verify`'s: `at` spelled as the body spells it (RFC 3339, UTC, microseconds, Z);
# action, orgId, targets.channel and targets.job equal, an empty string counting as absent. A body
# that is not JSON is left to the chain walk (SQLite: json_valid; PostgreSQL: the cast fails, and
# the caller is told so).
_MISMATCH_SQL = {
    "sqlite": """
        SELECT seq FROM audit_entries WHERE CASE WHEN json_valid(body) THEN NOT (
            substr(at, 1, 10) || 'T' || substr(at, 12) || 'Z' IS json_extract(body, '$.at')
            AND action IS json_extract(body, '$.action')
            AND org_id IS json_extract(body, '$.orgId')
            AND nullif(channel, '') IS nullif(json_extract(body, '$.targets.channel'), '')
            AND nullif(job_id, '') IS nullif(json_extract(body, '$.targets.job'), '')
        ) ELSE 0 END ORDER BY seq LIMIT 1""",
    # OFFSET 0 keeps the subquery apart, so each body is cast once, not once per field read.
    "postgresql": """
        SELECT seq FROM (
            SELECT seq, at, action, org_id, channel, job_id, body::jsonb AS j FROM audit_entries OFFSET 0
        ) AS parsed WHERE NOT (
            to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') IS NOT DISTINCT FROM j ->> 'at'
            AND action IS NOT DISTINCT FROM j ->> 'action'
            AND org_id IS NOT DISTINCT FROM j ->> 'orgId'
            AND nullif(channel, '') IS NOT DISTINCT FROM nullif(j -> 'targets' ->> 'channel', '')
            AND nullif(job_id, '') IS NOT DISTINCT FROM nullif(j -> 'targets' ->> 'job', '')
        ) ORDER BY seq LIMIT 1""",
}
_HEAD_SQL = "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
_APPEND_SQL = {"sqlite": _append_sql("?"), "postgresql": _append_sql("%s")}
# Per engine, the head this process's last append made: a guess, checked by the insert itself.
_last_heads: WeakKeyDictionary[Engine, AuditHead] = WeakKeyDictionary()


def database_name(bind: Connection | Engine) -> str:
    """Which database this is, for records kept outside it: its URL without the password."""
    return describe(bind)


class AuditRepository:
    """Audit rows, read and written on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def database(self) -> str:
        """The database's URL without its password (names the chain in files kept outside it)."""
        return database_name(self._connection)

    def append(self, build: EntryBuilder) -> AuditEntry:
        """Insert the entry `build` makes after the head; if that seq was taken meanwhile, build again."""
        after_head, after_guess = _APPEND_SQL[self._connection.dialect.name]
        with self._driver_cursor("appending to the audit log") as cursor:
            guess = _last_heads.get(self._connection.engine)
            if guess is not None:
                entry = build(guess)
                cursor.execute(after_guess, (*self._row(entry), guess.seq, guess.hash))
                if cursor.rowcount == 1:
                    return self._appended(entry)
            for _ in range(APPEND_ATTEMPTS):
                cursor.execute(_HEAD_SQL)
                row = cursor.fetchone()
                entry = build(None if row is None else AuditHead(int(row[0]), str(row[1])))
                cursor.execute(after_head, self._row(entry))
                if cursor.rowcount == 1:
                    return self._appended(entry)
        msg = f"could not append to the audit log on {self.database}: {APPEND_ATTEMPTS} appends raced ahead"
        raise StoreError(msg)

    def lock(self) -> None:
        """Make checkpoint writers take turns until the transaction ends (PostgreSQL; SQLite needs none)."""
        if self._connection.dialect.name != "postgresql":
            return
        with self._errors("locking the audit log"):
            self._connection.execute(_LOCK)

    def now(self) -> datetime:
        """The database's clock (the host's for SQLite, which runs on it)."""
        with self._errors("reading the database clock"):
            return database_now(self._connection)

    def head(self) -> AuditHead | None:
        """The newest entry's seq and hash, or None for an empty log."""
        with self._errors("reading the head of the audit log"):
            row = self._connection.execute(_HEAD).first()
        return None if row is None else AuditHead(int(row.seq), str(row.hash))

    def first(self) -> AuditHead | None:
        """The oldest entry's seq and hash (names the chain), or None for an empty log."""
        with self._errors("reading the first entry of the audit log"):
            row = self._connection.execute(_FIRST).first()
        return None if row is None else AuditHead(int(row.seq), str(row.hash))

    def insert(self, entry: AuditEntry) -> None:
        """Insert one entry as given; a seq already taken is a StoreError (imports and tests)."""
        with self._errors(f"appending audit entry {entry.seq}"):
            self._connection.execute(_INSERT, _entry_values(entry))

    def insert_many(self, entries: list[AuditEntry]) -> None:
        """Insert entries as given, in one statement batch (imports and tests)."""
        if entries:
            with self._errors(f"appending audit entries {entries[0].seq}..{entries[-1].seq}"):
                self._connection.execute(_INSERT, [_entry_values(e) for e in entries])

    def count(self) -> int:
        """How many entries the log holds."""
        query = sa.select(sa.func.count()).select_from(audit_entries)
        with self._errors("counting audit entries"):
            return int(self._connection.execute(query).scalar_one())

    def chain(self, *, chunk: int = CHUNK) -> Iterator[ChainRow]:
        """Every entry as (seq, body, hash), in seq order, fetched `chunk` rows at a time."""
        query = sa.select(_e.seq, _e.body, _e.hash).order_by(_e.seq).execution_options(yield_per=chunk)
        with self._errors("reading the audit log"):
            yield from ((seq, body, hash_) for seq, body, hash_ in self._connection.execute(query))

    def first_search_mismatch(self) -> int | None:
        """The seq of the first entry whose search columns (at, action, org_id, channel, job_id) differ
        from its body, or None. A StoreError if the database cannot tell (on PostgreSQL, a body that is
        not JSON): the caller then compares `search_rows` itself."""
        dialect = self._connection.dialect.name
        with self._errors("comparing the audit log's search columns with its entries"):
            if dialect != "postgresql":
                found = self._connection.exec_driver_sql(_MISMATCH_SQL[dialect]).scalar()
            else:
                with self._connection.begin_nested():  # a failed cast must not end the transaction
                    found = self._connection.exec_driver_sql(_MISMATCH_SQL[dialect]).scalar()
        return None if found is None else int(found)

    def search_rows(self, *, chunk: int = CHUNK) -> Iterator[SearchRow]:
        """Every entry with its search columns, in seq order, `chunk` rows at a time (for verify to
        compare the columns with the body, where `first_search_mismatch` cannot)."""
        query = sa.select(*_SEARCH_COLUMNS).order_by(_e.seq).execution_options(yield_per=chunk)
        with self._errors("reading the audit log"):
            for seq, body, hash_, at, action, org_id, channel, job_id in self._connection.execute(query):
                yield seq, body, hash_, _rfc3339(at), action, org_id, channel, job_id

    def search_row(self, seq: int) -> SearchRow | None:
        """Entry `seq` with its search columns, or None."""
        query = sa.select(*_SEARCH_COLUMNS).where(_e.seq == seq)
        with self._errors(f"reading audit entry {seq}"):
            row = self._connection.execute(query).first()
        if row is None:
            return None
        seq, body, hash_, at, action, org_id, channel, job_id = row
        return seq, body, hash_, _rfc3339(at), action, org_id, channel, job_id

    def entries(
        self, *, channel: str | None = None, since: datetime | None = None, chunk: int = CHUNK
    ) -> Iterator[AuditEntry]:
        """Entries in seq order, optionally of one channel or at or after a time."""
        query = sa.select(audit_entries).order_by(_e.seq).execution_options(yield_per=chunk)
        if channel is not None:
            query = query.where(_e.channel == channel)
        if since is not None:
            query = query.where(_e.at >= since)
        with self._errors("reading the audit log"):
            for row in self._connection.execute(query):
                yield AuditEntry(**row._mapping)

    def insert_checkpoint(self, checkpoint: AuditCheckpoint) -> None:
        """Store a signed head."""
        values = {
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "at": checkpoint.at,
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
        }
        with self._errors(f"storing the audit checkpoint at {checkpoint.seq}"):
            self._connection.execute(_INSERT_CHECKPOINT, values)

    def last_checkpoint(self) -> AuditCheckpoint | None:
        """The newest signed head, or None."""
        query = sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)
        with self._errors("reading the newest audit checkpoint"):
            row = self._connection.execute(query).first()
        return None if row is None else AuditCheckpoint(**row._mapping)

    def checkpoints(self) -> list[AuditCheckpoint]:
        """Every signed head, in seq order (one per N entries and per run: few)."""
        query = sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq)
        with self._errors("reading the audit checkpoints"):
            return [AuditCheckpoint(**row._mapping) for row in self._connection.execute(query)]

    def rows_with_action(self, action: str) -> list[ChainRow]:
        """(seq, body, hash) of the entries with this action, in seq order (for rare actions)."""
        query = sa.select(_e.seq, _e.body, _e.hash).where(_e.action == action).order_by(_e.seq)
        with self._errors(f"reading the {action} entries of the audit log"):
            return [(int(seq), str(body), str(hash_)) for seq, body, hash_ in self._connection.execute(query)]

    def _row(self, entry: AuditEntry) -> tuple[Any, ...]:
        at = _at_binder(self._connection.dialect)(entry.at)
        return (
            entry.seq,
            at,
            entry.action,
            entry.org_id,
            entry.channel,
            entry.job_id,
            entry.body,
            entry.hash,
        )

    def _appended(self, entry: AuditEntry) -> AuditEntry:
        _last_heads[self._connection.engine] = AuditHead(entry.seq, entry.hash)
        return entry

    @contextmanager
    def _driver_cursor(self, action: str) -> Iterator[Any]:
        """A driver cursor on this transaction's connection; driver errors become a StoreError."""
        cursor = self._connection.connection.cursor()
        try:
            yield cursor
        except self._connection.dialect.loaded_dbapi.Error as exc:
            msg = f"{action} failed on {self.database}: {reason(exc)}"
            raise StoreError(msg) from exc
        finally:
            cursor.close()

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)


@cache
def _at_binder(dialect: Dialect) -> Callable[[datetime], Any]:
    """`at` as the column type binds it for this dialect (naive UTC text on SQLite)."""
    process = audit_entries.c.at.type.bind_processor(dialect)
    assert process is not None, "UtcDateTime always converts"
    return process


def _rfc3339(value: object) -> str | None:
    """A stored `at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`: PostgreSQL's driver gives an aware datetime,
    SQLite the naive UTC text UtcDateTime wrote (`YYYY-MM-DD HH:MM:SS.ffffff`, rewritten without
    parsing); anything else (a hand-edited value) is read as a time if it is one, else None."""
    if type(value) is str and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(moment, datetime):
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry_values(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "action": entry.action,
        "org_id": entry.org_id,
        "channel": entry.channel,
        "job_id": entry.job_id,
        "body": entry.body,
        "hash": entry.hash,
    }
