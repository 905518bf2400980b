"""What brought a membership in: ``membership.drawn_by``.

The claimed or included ids (space-separated) the identity evidence accepted the paper
only through, or the paper's own id when a claim alone keeps it in the profile; null when
it stands on other support. When one of those seeds goes (the feed no longer claims it,
the config no longer includes it), a complete full harvest judges the paper again without
it (:mod:`harvester.identity.evidence`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("membership", sa.Column("drawn_by", sa.Text))


def downgrade() -> None:
    op.drop_column("membership", "drawn_by")
