"""Channels: the desired spec per org and name, and the Genesys Cloud ids provisioning produced."""

from __future__ import annotations

import builtins
import enum
from contextlib import AbstractContextManager
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gcwm.errors import StoreError
from gcwm.store.models import Channel, ChannelStatus
from gcwm.store.sql import database_errors, insert_for
from gcwm.store.tables import channels
from gcwm.store.types import utcnow


class _Unset(enum.Enum):
    """Marks a record_ids field as not given, since None is a value a field may be set to."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


class ChannelRepository:
    """Channel rows, read and written on one connection inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, org_id: str, key: str) -> Channel | None:
        """The channel with this key (gcwm.spec.channel_key of its name) in this org, or None."""
        query = sa.select(channels).where(channels.c.org_id == org_id, channels.c.name_key == key)
        with self._errors(f"reading channel {key!r} in org {org_id}"):
            row = self._connection.execute(query).first()
        return None if row is None else _channel(row)

    def upsert_desired(
        self,
        org_id: str,
        name: str,
        key: str,
        spec: dict[str, Any],
        spec_hash: str,
        *,
        proposed_csp: str | None = None,
    ) -> Channel:
        """Store the desired spec under the channel's key: a new channel starts pending; a known one
        keeps its ids and status and takes the name as now spelled (and `proposed_csp`, if given).

        A removed channel that is desired again goes back to pending, its last ids forgotten: they
        name objects destroyed, not objects gone from the org behind gcwm's back.
        """
        now = utcnow()
        row = {
            "id": str(uuid4()),
            "org_id": org_id,
            "name": name,
            "name_key": key,
            "spec": spec,
            "spec_hash": spec_hash,
            "proposed_csp": proposed_csp,
            "status": "pending",
            "created_at": now,
            "updated_at": now,
        }
        with self._errors(f"storing the desired spec of channel {name!r} in org {org_id}"):
            return _channel(self._connection.execute(_upsert(self._connection), row).one())

    def record_ids(
        self,
        org_id: str,
        key: str,
        *,
        configuration_id: str | _Unset | None = _UNSET,
        configuration_version: str | _Unset | None = _UNSET,
        configuration_hash: str | _Unset | None = _UNSET,
        supported_content_id: str | _Unset | None = _UNSET,
        deployment_id: str | _Unset | None = _UNSET,
        deployment_status: str | _Unset | None = _UNSET,
        snippet: str | _Unset | None = _UNSET,
        status: ChannelStatus | _Unset = _UNSET,
    ) -> Channel:
        """Set the given fields of a known channel; fields not passed keep their values.

        Raises StoreError if the channel is not in the store (upsert_desired comes first).
        """
        given = {
            "configuration_id": configuration_id,
            "configuration_version": configuration_version,
            "configuration_hash": configuration_hash,
            "supported_content_id": supported_content_id,
            "deployment_id": deployment_id,
            "deployment_status": deployment_status,
            "snippet": snippet,
            "status": status,
        }
        changes = {field: value for field, value in given.items() if value is not _UNSET}
        update = (
            channels.update()
            .where(channels.c.org_id == org_id, channels.c.name_key == key)
            .values(**changes, updated_at=utcnow())
            .returning(*channels.c)
        )
        with self._errors(f"recording the ids of channel {key!r} in org {org_id}"):
            row = self._connection.execute(update).first()
        if row is None:
            msg = (
                f"cannot record ids for channel {key!r} in org {org_id}: the store has no such channel "
                "(store its desired spec first)"
            )
            raise StoreError(msg)
        return _channel(row)

    def mark_removed(self, org_id: str, key: str) -> None:
        """Mark a channel removed, keeping its last ids for the record; an unknown channel is ignored."""
        update = (
            channels.update()
            .where(channels.c.org_id == org_id, channels.c.name_key == key)
            .values(status="removed", updated_at=utcnow())
        )
        with self._errors(f"marking channel {key!r} in org {org_id} removed"):
            self._connection.execute(update)

    def of_keys(self, org_id: str, keys: builtins.list[str]) -> builtins.list[Channel]:
        """The org's channels with these keys (gcwm.spec.channel_key of their names) that exist."""
        with self._errors(f"reading {len(keys)} channels in org {org_id}"):
            return [
                _channel(row) for row in self._connection.execute(_OF_KEYS, {"org_id": org_id, "keys": keys})
            ]

    def sessions_recorded(self, org_id: str) -> int:
        """maxConcurrentSessions summed over the org's channels that are not removed (in the database:
        one number, not every spec)."""
        with self._errors(f"summing the concurrent sessions of org {org_id}"):
            return int(self._connection.execute(_SESSIONS, {"org_id": org_id}).scalar_one())

    def list(self, org_id: str | None = None) -> builtins.list[Channel]:
        """Channels ordered by org and name, optionally for one org."""
        query = sa.select(channels).order_by(channels.c.org_id, channels.c.name)
        if org_id is not None:
            query = query.where(channels.c.org_id == org_id)
        with self._errors("listing channels"):
            return [_channel(row) for row in self._connection.execute(query)]

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return database_errors(action, self._connection)


_OF_KEYS = sa.select(channels).where(
    channels.c.org_id == sa.bindparam("org_id"), channels.c.name_key.in_(sa.bindparam("keys", expanding=True))
)
_SESSIONS = sa.select(
    sa.func.coalesce(sa.func.sum(channels.c.spec["maxConcurrentSessions"].as_integer()), 0)
).where(channels.c.org_id == sa.bindparam("org_id"), channels.c.status != "removed")

# What a channel's record knows of its objects in the org.
_IDS = (
    "configuration_id",
    "configuration_version",
    "configuration_hash",
    "supported_content_id",
    "deployment_id",
    "deployment_status",
    "snippet",
)
# The upsert per backend, built on first use and reused (it runs once per channel submitted).
_UPSERTS: dict[str, sa.Insert] = {}


def _upsert(connection: Connection) -> sa.Insert:
    dialect = connection.dialect.name
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert = insert_for(connection, channels)
        # One statement, so two processes upserting the same channel cannot both insert.
        statement = _UPSERTS[dialect] = insert.on_conflict_do_update(
            index_elements=[channels.c.org_id, channels.c.name_key],
            set_={
                "name": insert.excluded.name,
                "spec": insert.excluded.spec,
                "spec_hash": insert.excluded.spec_hash,
                "proposed_csp": sa.func.coalesce(insert.excluded.proposed_csp, channels.c.proposed_csp),
                "status": sa.case((channels.c.status == "removed", "pending"), else_=channels.c.status),
                **{
                    column: sa.case((channels.c.status == "removed", None), else_=channels.c[column])
                    for column in _IDS
                },
                "updated_at": insert.excluded.updated_at,
            },
        ).returning(*channels.c)
    return statement


def _channel(row: sa.Row[Any]) -> Channel:
    return Channel(**row._mapping)
