"""Per-author leases and a shared request slot, so processes sharing a database cooperate.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("author") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("lease_until", UTCDateTime))
    op.create_table(
        "request_slot",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_slot")
    with op.batch_alter_table("author") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
