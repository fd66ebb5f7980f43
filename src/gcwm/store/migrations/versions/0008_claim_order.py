"""Queued jobs indexed in claim order: a claim reads the first claimable one, not a sort of them all.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Written by hand to match gcwm/store/tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_status_created_at_id", "jobs", ["status", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_created_at_id", table_name="jobs")
