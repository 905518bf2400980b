"""Papers and their author rows looked up by a hash of their id, on PostgreSQL.

A profile's read fetches each of its papers, and each paper's author rows, by
``arxiv_id``, one id at a time: at a million papers, a hundred descents of the primary
key's three-level B-tree for the papers and a hundred for the author rows, comparing
strings at every level, were most of PostgreSQL's time in a profile (about 1 ms each of
the two statements; ``docs/benchmarks.md``). A hash index finds an id in one bucket
page. The primary keys stay (uniqueness, ranges, ``ON CONFLICT``); SQLite has no hash
index and is left as it is.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_HASHED = {"paper": "ix_paper_arxiv_id_hash", "paper_author": "ix_paper_author_arxiv_id_hash"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name in _HASHED.items():
        op.create_index(name, table, ["arxiv_id"], postgresql_using="hash")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name in _HASHED.items():
        op.drop_index(name, table_name=table)
