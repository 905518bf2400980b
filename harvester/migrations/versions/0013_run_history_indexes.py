"""A cycle's reads of the run log that no longer grow with its history.

Two reads of every steady cycle went through every run an author ever had, so a cycle
grew slower with each one before it (at 2,000 authors and a hundred cycles, the run log
is 200,000 rows; a daemon at four cycles a day adds 1,460 an author a year):

* ``ix_run_author_key_finished_at``: the runs of a query's authors that ended after the
  cycle began (a worker beside this one may have harvested them) are a short range per
  author, not all of its runs;
* ``ix_run_running``: the runs still marked ``running`` when a cycle closes those of
  dead processes, a partial index holding only those (a handful), where it was a scan of
  the whole log.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_RUNNING = "status = 'running'"


def upgrade() -> None:
    op.create_index("ix_run_author_key_finished_at", "run", ["author_key", "finished_at"])
    op.create_index(
        "ix_run_running",
        "run",
        ["author_key"],
        postgresql_where=sa.text(_RUNNING),
        sqlite_where=sa.text(_RUNNING),
    )


def downgrade() -> None:
    op.drop_index("ix_run_running", table_name="run")
    op.drop_index("ix_run_author_key_finished_at", table_name="run")
