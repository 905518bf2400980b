"""The co-authors' centroids kept between refreshes of the similar authors:
``coauthor_centroid``.

A refresh by change recomputes the lists a change reaches, and each list reads the topic
and category centroids of its co-authors (their 25 most recent papers). In a corpus where
a few hundred people co-author most papers a handful of new papers reaches a thousand
lists, whose co-authors' papers were all read again: every paper of each, ranked by date,
to find the 25 most recent. A centroid depends only on the model and the co-author's
papers, so a refresh stores those it computed, and the next one reads them back unless a
change touched a paper of that name (then it computes it again, and a row that does not
decode or fit the model is computed again too).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coauthor_centroid",
        sa.Column("folded_name", sa.Text, primary_key=True),
        sa.Column("shown", sa.Text, nullable=False),
        sa.Column("papers", sa.Integer, nullable=False),
        sa.Column("topic_terms", sa.LargeBinary, nullable=False),
        sa.Column("topic_weights", sa.LargeBinary, nullable=False),
        sa.Column("category_terms", sa.LargeBinary, nullable=False),
        sa.Column("category_weights", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("coauthor_centroid")
