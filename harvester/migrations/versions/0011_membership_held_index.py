"""The papers held for review, indexed by profile: ``ix_membership_held``.

``harvest status`` counts each profile's held papers (``status = 'held'``); without an
index that is a scan of every membership, a million of them at 10,000 profiles of 100
papers (86 ms on PostgreSQL with 200,000 memberships, growing with them). A partial index
holds the held rows alone, so it costs nothing to the writes of the other rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_HELD = "status = 'held'"


def upgrade() -> None:
    op.create_index(
        "ix_membership_held",
        "membership",
        ["author_key"],
        postgresql_where=sa.text(_HELD),
        sqlite_where=sa.text(_HELD),
    )


def downgrade() -> None:
    op.drop_index("ix_membership_held", table_name="membership")
