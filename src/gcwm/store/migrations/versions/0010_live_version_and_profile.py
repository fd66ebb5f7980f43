"""What a channel's record keeps of the version it published, and its supported content profile.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

`configuration_hash` is the hash of what gcwm set on the configuration version it published or found
live (gcwm.provisioning.mapping.content_hash): a channel whose draft and deployment are as recorded
needs no read of its versions. `supported_content_id` is the profile gcwm made for the channel's
attachments. Written by hand to match gcwm/store/tables.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops columns too): a batch copy of the table would lose what
    # later migrations hang on it.
    op.add_column("channels", sa.Column("configuration_hash", sa.String(), nullable=True))
    op.add_column("channels", sa.Column("supported_content_id", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("channels", "supported_content_id")
    op.drop_column("channels", "configuration_hash")
