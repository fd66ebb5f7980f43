"""The store room: gcwm's durable state (channels, jobs and their steps) in SQLite or PostgreSQL.

SQLAlchemy Core tables migrated by the Alembic scripts shipped in ``migrations/``; ``connect()``
makes an empty database at head in one step and migrates an older one. Every change runs in one
``UnitOfWork`` transaction, and repositories hand out frozen dataclasses, never rows. Imports only
``gcwm.errors`` (and ``gcwm.lazy``) from gcwm.
"""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
    from gcwm.store.api_keys import ApiKey, ApiKeyNotFound, ApiKeyRepository
    from gcwm.store.channels import ChannelRepository
    from gcwm.store.dashboard_sessions import DashboardSession, DashboardSessionRepository
    from gcwm.store.engine import connect, default_sqlite_url, head_revision
    from gcwm.store.idempotency import IdempotencyRecord, IdempotencyRepository
    from gcwm.store.jobs import JobRepository
    from gcwm.store.models import Channel, Job, JobStep
    from gcwm.store.outbox import OutboxError, OutboxMessage, OutboxRepository
    from gcwm.store.slots import SlotRepository
    from gcwm.store.store import Store
    from gcwm.store.unit_of_work import UnitOfWork, background_writes


# Each public name and the module that defines it.
_EXPORTS = {
    "ApiKey": "gcwm.store.api_keys",
    "ApiKeyNotFound": "gcwm.store.api_keys",
    "ApiKeyRepository": "gcwm.store.api_keys",
    "Channel": "gcwm.store.models",
    "ChannelRepository": "gcwm.store.channels",
    "DashboardSession": "gcwm.store.dashboard_sessions",
    "DashboardSessionRepository": "gcwm.store.dashboard_sessions",
    "IdempotencyRecord": "gcwm.store.idempotency",
    "IdempotencyRepository": "gcwm.store.idempotency",
    "Job": "gcwm.store.models",
    "JobRepository": "gcwm.store.jobs",
    "JobStep": "gcwm.store.models",
    "OutboxError": "gcwm.store.outbox",
    "OutboxMessage": "gcwm.store.outbox",
    "OutboxRepository": "gcwm.store.outbox",
    "SlotRepository": "gcwm.store.slots",
    "Store": "gcwm.store.store",
    "UnitOfWork": "gcwm.store.unit_of_work",
    "background_writes": "gcwm.store.unit_of_work",
    "connect": "gcwm.store.engine",
    "default_sqlite_url": "gcwm.store.engine",
    "head_revision": "gcwm.store.engine",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ApiKey",
    "ApiKeyNotFound",
    "ApiKeyRepository",
    "Channel",
    "ChannelRepository",
    "DashboardSession",
    "DashboardSessionRepository",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "Job",
    "JobRepository",
    "JobStep",
    "OutboxError",
    "OutboxMessage",
    "OutboxRepository",
    "SlotRepository",
    "Store",
    "UnitOfWork",
    "background_writes",
    "connect",
    "default_sqlite_url",
    "head_revision",
]
