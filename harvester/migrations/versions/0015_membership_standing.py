"""A query's standings and member ids read from an index, not from the membership rows.

Every cycle reads, for each query's authors, how many active papers each has (and how
many of them are withdrawn) and the ids of those papers. Both read the membership rows
themselves, the widest rows of the database (the compared metadata of each paper): at a
million papers, 15,000 rows and 2,400 pages a query, every page of ``membership`` in a
cycle, most of it from outside PostgreSQL's buffers (15 ms a query). An index of
``(author_key, status, seen_withdrawn, arxiv_id)`` holds all that both statements read:
590 pages a query, 3 ms (``docs/benchmarks.md``). The same on SQLite, where it covers
the two statements as well.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_COLUMNS = ["author_key", "status", "seen_withdrawn", "arxiv_id"]


def upgrade() -> None:
    op.create_index("ix_membership_standing", "membership", _COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_membership_standing", table_name="membership")
