"""Idempotency records of the HTTP API: the first answer to a POST sent with an `Idempotency-Key`.

A record is claimed (status 0) before the request is carried out, so a concurrent duplicate finds it
in progress instead of doing the work twice; it is completed with the answer, or dropped if the
request failed in a way worth retrying (a 5xx). A claim older than `stale_after_s` was left by a
process that died: the next request with that key takes it over.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.store.sql import database_errors, insert_for
from gcwm.store.tables import idempotency_records
from gcwm.store.types import database_now

_r = idempotency_records.c

IN_PROGRESS = 0


@dataclass(frozen=True)
class IdempotencyRecord:
    """A stored request (its hash) and, once done, its answer."""

    key_id: str
    idempotency_key: str
    method: str
    path: str
    request_hash: str
    status: int
    headers: dict[str, str]
    body: str
    created_at: datetime

    @property
    def in_progress(self) -> bool:
        return self.status == IN_PROGRESS


class IdempotencyRepository:
    """Idempotency rows on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(
        self,
        key_id: str,
        idempotency_key: str,
        *,
        method: str,
        path: str,
        request_hash: str,
        stale_after_s: float = 300.0,
    ) -> IdempotencyRecord | None:
        """Claim the key for this request: None if it is ours now, else the record already there."""
        now = database_now(self._connection)
        where = (_r.key_id == key_id) & (_r.idempotency_key == idempotency_key)
        with self._errors("claiming an idempotency key"):
            # A claim whose process died never completes: let it go.
            self._connection.execute(
                idempotency_records.delete().where(
                    where,
                    _r.status == IN_PROGRESS,
                    _r.created_at < now - timedelta(seconds=stale_after_s),
                )
            )
            inserted = self._connection.execute(
                insert_for(self._connection, idempotency_records)
                .values(
                    key_id=key_id,
                    idempotency_key=idempotency_key,
                    method=method,
                    path=path,
                    request_hash=request_hash,
                    status=IN_PROGRESS,
                    headers={},
                    body="",
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
            if inserted.rowcount:
                return None
            row = self._connection.execute(sa.select(idempotency_records).where(where)).one()
        return IdempotencyRecord(**row._mapping)

    def complete(
        self, key_id: str, idempotency_key: str, *, status: int, headers: dict[str, str], body: str
    ) -> None:
        """Store the answer given to the claimed request."""
        with self._errors("storing an idempotent answer"):
            self._connection.execute(
                idempotency_records.update()
                .where(_r.key_id == key_id, _r.idempotency_key == idempotency_key)
                .values(status=status, headers=headers, body=body)
            )

    def release(self, key_id: str, idempotency_key: str) -> None:
        """Drop an unfinished claim, so the request may be sent again."""
        with self._errors("releasing an idempotency key"):
            self._connection.execute(
                idempotency_records.delete().where(
                    _r.key_id == key_id, _r.idempotency_key == idempotency_key, _r.status == IN_PROGRESS
                )
            )

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)
