"""The store room: gcwm's durable state (channels, jobs and their steps) in SQLite or PostgreSQL.

SQLAlchemy Core tables migrated by the Alembic scripts shipped in ``migrations/``; ``connect()``
migrates to head. Every change runs in one ``UnitOfWork`` transaction, and repositories hand out
frozen dataclasses, never rows. Imports only ``gcwm.errors`` from gcwm.
"""

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
