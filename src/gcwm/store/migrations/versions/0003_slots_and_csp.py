"""Slot reservations (licence and capacity limits under concurrency) and the CSP proposed per channel.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

A job that will create a deployment or configuration reserves the slot in the transaction that queues
it; the reservation is marked made when the create is checkpointed and returned when the job rolls
back. Written by hand to match gcwm/store/tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slot_reservations",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("org_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_slot_reservations_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "kind", name="pk_slot_reservations"),
    )
    op.create_index("ix_slot_reservations_org_id_kind", "slot_reservations", ["org_id", "kind"])
    op.add_column("channels", sa.Column("proposed_csp", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("channels", "proposed_csp")
    op.drop_index("ix_slot_reservations_org_id_kind", table_name="slot_reservations")
    op.drop_table("slot_reservations")
