"""Sessions of the operator dashboard: who logged in with which API key, until when.

Only a hash of the session token is stored (the token is the browser's secret, as an API key is the
caller's), with the key's id, name and role as checked at login. Expiry is compared with the
database's clock, so every replica of `gcwm serve` on one database agrees on it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.store.sql import database_errors
from gcwm.store.tables import dashboard_sessions
from gcwm.store.types import database_now

_s = dashboard_sessions.c


@dataclass(frozen=True)
class DashboardSession:
    """One live session: the key it was opened with and when it ends."""

    token_hash: str
    key_id: str
    key_name: str
    role: str
    created_at: datetime
    expires_at: datetime


class DashboardSessionRepository:
    """Session rows on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def open(self, token_hash: str, *, key_id: str, key_name: str, role: str, lifetime_s: float) -> datetime:
        """Store a new session; returns when it expires. Expired sessions are swept on the way."""
        now = database_now(self._connection)
        expires = now + timedelta(seconds=lifetime_s)
        with self._errors("opening a dashboard session"):
            self._connection.execute(dashboard_sessions.delete().where(_s.expires_at < now))
            self._connection.execute(
                dashboard_sessions.insert().values(
                    token_hash=token_hash,
                    key_id=key_id,
                    key_name=key_name,
                    role=role,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return expires

    def live(self, token_hash: str) -> DashboardSession | None:
        """The session with this token hash, unless it has expired (or never was)."""
        query = sa.select(dashboard_sessions).where(
            _s.token_hash == token_hash, _s.expires_at > database_now(self._connection)
        )
        with self._errors("reading a dashboard session"):
            row = self._connection.execute(query).first()
        return None if row is None else DashboardSession(**row._mapping)

    def close(self, token_hash: str) -> bool:
        """End a session (logout); whether it existed."""
        with self._errors("closing a dashboard session"):
            deleted = self._connection.execute(dashboard_sessions.delete().where(_s.token_hash == token_hash))
        return bool(deleted.rowcount)

    def close_for_key(self, key_id: str) -> int:
        """End every session opened with this key (when the key is revoked); how many."""
        with self._errors(f"closing the dashboard sessions of key {key_id}"):
            deleted = self._connection.execute(dashboard_sessions.delete().where(_s.key_id == key_id))
        return int(deleted.rowcount)

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)
