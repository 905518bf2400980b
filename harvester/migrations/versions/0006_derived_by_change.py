"""Derived data by change: a change log, the similar authors' model and profile vectors.

``derived_change`` gets a row for every paper and membership a harvest writes (and for
each former author of a paper whose authors changed); the refresh after the cycle
recomputes only the similar authors those rows can touch, then deletes the rows it read.
``similar_model`` keeps the fitted TF-IDF vocabulary and idf weights, ``similar_profile``
each profile's centroids and the names its list reads, so that a profile left alone by a
cycle is not recomputed. The first refresh after this revision is a full one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derived_change",
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("arxiv_id", sa.String(64), nullable=False),
        sa.Column("folded_name", sa.Text),
    )
    op.create_table(
        "similar_model",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("papers", sa.Integer, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("idf", sa.LargeBinary, nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("fitted_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "similar_profile",
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("own_names", sa.Text, nullable=False),
        sa.Column("coauthors", sa.Text, nullable=False),
        sa.Column("topic_terms", sa.LargeBinary, nullable=False),
        sa.Column("topic_weights", sa.LargeBinary, nullable=False),
        sa.Column("category_terms", sa.LargeBinary, nullable=False),
        sa.Column("category_weights", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("similar_profile")
    op.drop_table("similar_model")
    op.drop_table("derived_change")
