"""Genesys call timings: every call attempt of a finished job, for per-operation latency reports.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Written by hand to match gcwm/store/tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "genesys_calls",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_genesys_calls_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name="pk_genesys_calls"),
    )
    op.create_index("ix_genesys_calls_at", "genesys_calls", ["at"])


def downgrade() -> None:
    op.drop_index("ix_genesys_calls_at", table_name="genesys_calls")
    op.drop_table("genesys_calls")
