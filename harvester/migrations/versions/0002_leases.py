"""Per-author leases and a shared request slot, so processes sharing a database cooperate.

Runs that found their author leased are logged with status ``skipped``; a skip is not a
harvest, so ``profile_stats`` now ignores skipped runs as it ignores running ones.

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

_PROFILE_STATS = """
    SELECT a.key AS author_key, a.name,
           (SELECT COUNT(*) FROM membership m
             WHERE m.author_key = a.key AND m.status = 'active') AS paper_count,
           (SELECT COUNT(*) FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
             WHERE m.author_key = a.key AND m.status = 'active'
               AND p.withdrawn) AS withdrawn_count,
           (SELECT MIN(p.published) FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
             WHERE m.author_key = a.key AND m.status = 'active') AS first_published,
           (SELECT MAX(p.published) FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
             WHERE m.author_key = a.key AND m.status = 'active') AS latest_published,
           r.finished_at AS last_harvest_at, r.status AS last_harvest_status,
           (SELECT MAX(r3.finished_at) FROM run r3
             WHERE r3.author_key = a.key AND r3.status = 'ok') AS last_complete_at
    FROM author a
    LEFT JOIN run r ON r.run_id = (SELECT MAX(r2.run_id) FROM run r2
                                    WHERE r2.author_key = a.key
                                      AND r2.status NOT IN ({hidden}))
"""
"""``profile_stats`` of this revision; ``{hidden}``: the run statuses that are not harvests."""


def upgrade() -> None:
    with op.batch_alter_table("author") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("lease_until", UTCDateTime))
    op.create_table(
        "request_slot",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_at", UTCDateTime, nullable=False),
    )
    op.execute("DROP VIEW profile_stats")
    op.execute(
        "CREATE VIEW profile_stats AS " + _PROFILE_STATS.format(hidden="'running', 'skipped'")
    )


def downgrade() -> None:
    op.execute("DROP VIEW profile_stats")  # it reads the columns dropped below
    op.drop_table("request_slot")
    # Not a batch rebuild: SQLite (>= 3.35) and PostgreSQL both drop a plain column in
    # place, and a rebuild of ``author`` would trip the foreign keys that point to it.
    op.execute("ALTER TABLE author DROP COLUMN lease_until")
    op.execute("ALTER TABLE author DROP COLUMN lease_owner")
    op.execute("CREATE VIEW profile_stats AS " + _PROFILE_STATS.format(hidden="'running'"))
