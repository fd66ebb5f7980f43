"""Channel keys and one running job per channel.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Names are compared one way everywhere (case-insensitively, gcwm.spec.channel_key): channels and jobs
carry that key, a channel is unique per org by its key, and at most one job per (org, channel key)
runs at a time. A cancel of a running job is a request its worker honours at its next step.
Written by hand to match gcwm/store/tables.py; existing rows get the key of their name.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.add_column("channels", sa.Column("name_key", sa.String(), nullable=False, server_default=""))
    op.add_column("jobs", sa.Column("channel_key", sa.String(), nullable=False, server_default=""))
    op.add_column(
        "jobs", sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # Names are letters, digits, space . _ - (gcwm.spec): lower() is the key.
    op.execute("UPDATE channels SET name_key = lower(trim(name))")
    op.execute("UPDATE jobs SET channel_key = lower(trim(channel_name))")
    op.create_index("uq_channels_org_id_name_key", "channels", ["org_id", "name_key"], unique=True)
    op.create_index("ix_jobs_org_id_channel_key", "jobs", ["org_id", "channel_key"])
    op.create_index(
        "uq_jobs_running_channel",
        "jobs",
        ["org_id", "channel_key"],
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_running_channel", table_name="jobs")
    op.drop_index("ix_jobs_org_id_channel_key", table_name="jobs")
    op.drop_index("uq_channels_org_id_name_key", table_name="channels")
    op.drop_column("jobs", "cancel_requested")
    op.drop_column("jobs", "channel_key")
    op.drop_column("channels", "name_key")
