"""A slot whose create may still land after its job ended counts until that create must have ended.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

A job that ends (cancelled, superseded, failed) while a create it sent is still on its way parks or
gives back its slot, yet the object may land afterwards: an admission against a read of the org taken
before it landed then let another channel take that room, and Genesys refused the channel with
`limit.exceeded` (found by bench/explore.py, issue 22). `in_flight_until` is when the job's last create
of that kind must have ended (its intent's stamp plus the sender's timeout); a parked row counts for
reads of the org older than that. Written by hand to match gcwm/store/tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE: a batch copy of `slot_reservations` would drop its triggers (migration 0009).
    op.add_column(
        "slot_reservations", sa.Column("in_flight_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_slot_reservations_org_id_in_flight_until", "slot_reservations", ["org_id", "in_flight_until"]
    )


def downgrade() -> None:
    op.drop_index("ix_slot_reservations_org_id_in_flight_until", table_name="slot_reservations")
    op.drop_column("slot_reservations", "in_flight_until")
