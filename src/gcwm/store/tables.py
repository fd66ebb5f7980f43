"""The store's tables as SQLAlchemy Core metadata; migrations/versions must create exactly this."""

from __future__ import annotations

import sqlalchemy as sa

from gcwm.store.types import UtcDateTime, json_type

# Fixed constraint names, so migrations can name them and autogenerate compares like with like.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
_RUNNING = sa.text("status = 'running'")

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("org_id", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    # gcwm.spec.channel_key(name): the one way names are compared.
    sa.Column("name_key", sa.String(), nullable=False, server_default=""),
    sa.Column("spec", json_type(), nullable=False),
    sa.Column("spec_hash", sa.String(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("configuration_id", sa.String(), nullable=True),
    sa.Column("configuration_version", sa.String(), nullable=True),
    sa.Column("deployment_id", sa.String(), nullable=True),
    sa.Column("deployment_status", sa.String(), nullable=True),
    sa.Column("snippet", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The Content-Security-Policy gcwm proposed for the site that embeds the channel.
    sa.Column("proposed_csp", sa.Text(), nullable=True),
    # What gcwm set on the version `configuration_version` (mapping.content_hash), when it published
    # that version or found it live as specified.
    sa.Column("configuration_hash", sa.String(), nullable=True),
    sa.Column("supported_content_id", sa.String(), nullable=True),
    sa.UniqueConstraint("org_id", "name"),
    sa.Index("uq_channels_org_id_name_key", "org_id", "name_key", unique=True),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("batch_id", sa.String(), nullable=False, index=True),
    sa.Column("org_id", sa.String(), nullable=False),
    sa.Column("channel_name", sa.String(), nullable=False),
    sa.Column("channel_key", sa.String(), nullable=False, server_default=""),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("spec", json_type(), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("correlation_id", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_owner", sa.String(), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    sa.Column("error", json_type(), nullable=True),
    sa.Column("result", json_type(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    # A cancel of a running job is a request: its worker stops at the next step (its create may be in flight).
    sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Who last resumed the job (it keeps `actor`, who asked for it).
    sa.Column("resumed_by", sa.String(), nullable=True),
    # claim_next looks for queued jobs in claim order, and running jobs whose lease has expired.
    sa.Index(None, "status", "lease_expires_at"),
    sa.Index(None, "status", "created_at", "id"),
    sa.Index(None, "org_id", "channel_key"),
    # One running job per channel: a replacement waits until the old job has stopped.
    sa.Index(
        "uq_jobs_running_channel",
        "org_id",
        "channel_key",
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    ),
)

job_steps = sa.Table(
    "job_steps",
    metadata,
    sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("step", sa.String(), primary_key=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("data", json_type(), nullable=False),
    sa.Column("duration_ms", sa.Float(), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=False),
)

# A slot (one deployment or configuration under the org's limits) a queued job will use: held from the
# transaction that queues the job, "made" once the create is checkpointed, deleted on rollback.
slot_reservations = sa.Table(
    "slot_reservations",
    metadata,
    sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("org_id", sa.String(), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("made_at", UtcDateTime(), nullable=True),
    # When the job's last create of this kind must have ended, if it may still be on its way: a parked
    # row counts for reads of the org older than that (migration 0012).
    sa.Column("in_flight_until", UtcDateTime(), nullable=True),
    # "held" (job queued or running), "parked" (job finished; a trigger on jobs.status moves the two,
    # migration 0007) or "made": the admission count reads these three indexes only.
    sa.Index(None, "org_id", "state", "kind"),
    sa.Index(None, "org_id", "made_at"),
    sa.Index(None, "org_id", "in_flight_until"),
)

# Held slots per org and kind, kept by triggers on slot_reservations (migration 0009): admission reads
# two rows, not a count of every queued job's reservations inside SQLite's one write transaction (0.4 ms
# per submission with 6000 queued). SQLite only (info["dialects"]): its writers take turns anyway. On
# PostgreSQL every transaction that moves a slot would lock these rows after its job rows, in orders
# that can deadlock with a submission superseding several jobs, so there the index is counted.
held_slot_counts = sa.Table(
    "held_slot_counts",
    metadata,
    sa.Column("org_id", sa.String(), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("held", sa.Integer(), nullable=False),
    info={"dialects": ("sqlite",)},
)

# The audit log: one row per entry, `body` the canonical JSON (RFC 8785) that was hashed; `hash` chains
# it to the entry before (gcwm.audit). The other columns repeat parts of the body for searching.
audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("org_id", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=True),
    sa.Column("job_id", sa.String(36), nullable=True),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index(None, "at"),
    sa.Index(None, "channel"),
)

# Signed heads of the chain, kept apart from the entries: deleting the newest entries leaves a
# checkpoint whose head no longer matches.
audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("key_id", sa.String(), nullable=False),
    sa.Column("signature", sa.String(), nullable=False),
)

# Notifications to ITSM targets, written in the transaction of the change they report (gcwm.notify);
# `id` is the webhook-id, the same on every retry. `target` holds type, URL and the NAME of the
# variable with the secret, never the secret.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("org_id", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("event_type", sa.String(), nullable=False),
    sa.Column("target", json_type(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("external_ref", sa.String(), nullable=True),
    sa.Column("audit_seq", sa.BigInteger(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Index(None, "status", "next_attempt_at"),
)

# API keys of `gcwm serve`: only a SHA-256 of the key is kept (keys are 256 random bits, so a plain
# digest is as good as a slow hash and lets one indexed lookup find the key).
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_by", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

# The first answer to each POST that carried an Idempotency-Key, per API key: a replay gets it again,
# the same key with another body (request_hash) is refused.
idempotency_records = sa.Table(
    "idempotency_records",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("headers", json_type(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "created_at"),
)

# Dashboard sessions: a hash of the cookie's token, and the key (id, name, role) it was opened with.
dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(32), nullable=False, index=True),
    sa.Column("key_name", sa.String(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

# Every Genesys call attempt a finished job made (its last claim's: a job released for a retry keeps
# none of the attempt it gave up), for `gcwm report latency` and the dashboard's per-operation charts.
genesys_calls = sa.Table(
    "genesys_calls",
    metadata,
    sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("operation", sa.String(), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("duration_ms", sa.Float(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index(None, "at"),
)
