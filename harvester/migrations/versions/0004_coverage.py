"""Incremental harvests: each author's watermark and last full harvest; each run's mode.

``author.watermark`` is the newest submission date seen by the last complete harvest
that covered the author (its own query or its group's); an incremental harvest pages back
to it minus ``[harvest] overlap_days``. ``author.last_full_at`` is when the last complete
full harvest finished. ``run.mode`` says which kind a run was (``full`` or
``incremental``; empty for runs older than this revision and for ``skipped`` runs).

``harvest_runs`` gains ``mode``; the new view ``author_coverage`` shows the watermarks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_HARVEST_RUNS = """
    SELECT run_id, author_key, started_at, finished_at, status, requests, entries_seen,
           error, new_papers, new_versions, events{mode}
    FROM run
"""

VIEWS = {
    "harvest_runs": _HARVEST_RUNS.format(mode=", mode"),
    "author_coverage": """
        SELECT key AS author_key, name, watermark, last_full_at
        FROM author
    """,
}
"""A frozen copy of the views this revision creates or replaces."""


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): both dialects add a nullable column in place,
    # and a rebuild would trip the views and foreign keys that read these tables.
    op.add_column("author", sa.Column("watermark", UTCDateTime))
    op.add_column("author", sa.Column("last_full_at", UTCDateTime))
    op.add_column("run", sa.Column("mode", sa.String(16)))
    op.execute("DROP VIEW harvest_runs")
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    op.execute("DROP VIEW author_coverage")
    op.execute("DROP VIEW harvest_runs")
    op.execute("ALTER TABLE run DROP COLUMN mode")
    op.execute("ALTER TABLE author DROP COLUMN last_full_at")
    op.execute("ALTER TABLE author DROP COLUMN watermark")
    op.execute(f"CREATE VIEW harvest_runs AS {_HARVEST_RUNS.format(mode='').strip()}")
