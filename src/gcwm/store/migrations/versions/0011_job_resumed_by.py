"""Who last resumed a job (an API key's id or a CLI user): the job shows it, the audit log says it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

A job keeps the actor who asked for it (its Genesys calls speak as that actor); resuming needs the role
that may submit its kind, and the one who resumed it is recorded here. Written by hand to match
gcwm/store/tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE: a batch copy of `jobs` would drop its trigger (migration 0007).
    op.add_column("jobs", sa.Column("resumed_by", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "resumed_by")
