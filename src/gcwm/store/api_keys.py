"""API keys of the HTTP service: who may call it, with which role. Only a hash of each key is stored."""

from __future__ import annotations

import builtins
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.errors import NotFound
from gcwm.store.sql import by_id_or_prefix, database_errors
from gcwm.store.tables import api_keys
from gcwm.store.types import database_now

_k = api_keys.c


class ApiKeyNotFound(NotFound):
    """No API key has this id (or unique id prefix)."""


@dataclass(frozen=True)
class ApiKey:
    """One key's record: never the key itself."""

    id: str
    name: str
    role: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# Built once: the service runs it on every request, and a statement object reused keeps its cache key.
_ACTIVE_BY_HASH = sa.select(api_keys).where(_k.key_hash == sa.bindparam("key_hash"), _k.revoked_at.is_(None))


class ApiKeyRepository:
    """API key rows on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, key_id: str, *, name: str, role: str, key_hash: str, created_by: str) -> ApiKey:
        key = ApiKey(key_id, name, role, created_by, database_now(self._connection), None)
        with self._errors("storing an API key"):
            self._connection.execute(api_keys.insert().values(key_hash=key_hash, **vars(key)))
        return key

    def active_by_hash(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key whose hash this is."""
        with self._errors("looking up an API key"):
            row = self._connection.execute(_ACTIVE_BY_HASH, {"key_hash": key_hash}).first()
        return None if row is None else _key(row)

    def get(self, ident: str) -> ApiKey:
        """A key by id or unique id prefix; ApiKeyNotFound otherwise."""
        with self._errors(f"reading API key {ident}"):
            row = by_id_or_prefix(
                self._connection, api_keys, ident, min_prefix=4, what="API key", error=ApiKeyNotFound
            )
        return _key(row)

    def list(self) -> builtins.list[ApiKey]:
        with self._errors("listing API keys"):
            rows = self._connection.execute(sa.select(api_keys).order_by(_k.created_at, _k.id)).all()
        return [_key(r) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (a revoked key stays revoked; revoking again changes nothing)."""
        key = self.get(key_id)
        if key.active:
            with self._errors(f"revoking API key {key.id}"):
                self._connection.execute(
                    api_keys.update()
                    .where(_k.id == key.id, _k.revoked_at.is_(None))
                    .values(revoked_at=database_now(self._connection))
                )
        return self.get(key.id)

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)


def _key(row: sa.Row[Any]) -> ApiKey:
    values = dict(row._mapping)
    values.pop("key_hash", None)
    return ApiKey(**values)
