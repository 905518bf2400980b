"""Every version of a paper with its date and size; OAI-PMH windows.

``paper_version`` keeps each version arXiv's OAI-PMH service lists (``arXivRaw``: date and
size); the view ``paper_versions(arxiv_id, version, submitted, size)`` shows them, and for
a paper known only through the search API (which gives the first and the latest version's
dates) those two. ``oai_window`` keeps, per harvested set (``''``: all of arXiv), the newest
datestamp the last complete harvest saw: the next one starts a day before it.
``import_progress`` keeps how far ``harvest import`` has read each snapshot file, so a
killed import resumes there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VIEWS = {
    "paper_versions": """
        SELECT v.arxiv_id, v.version, v.submitted, v.size_kb AS size
        FROM paper_version v
        UNION ALL
        SELECT p.arxiv_id, 1 AS version, p.published AS submitted, NULL AS size
        FROM paper p
        WHERE NOT EXISTS (SELECT 1 FROM paper_version v
                          WHERE v.arxiv_id = p.arxiv_id AND v.version = 1)
        UNION ALL
        SELECT p.arxiv_id, p.version, p.updated AS submitted, NULL AS size
        FROM paper p
        WHERE p.version > 1 AND NOT EXISTS (SELECT 1 FROM paper_version v
                                            WHERE v.arxiv_id = p.arxiv_id
                                            AND v.version = p.version)
    """,
}
"""A frozen copy of the views this revision creates."""


def upgrade() -> None:
    op.create_table(
        "paper_version",
        sa.Column(
            "arxiv_id",
            sa.String(64),
            sa.ForeignKey("paper.arxiv_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("submitted", UTCDateTime, nullable=False),
        sa.Column("size_kb", sa.Integer),
    )
    op.create_table(
        "oai_window",
        sa.Column("set_spec", sa.String(128), primary_key=True),
        sa.Column("newest_datestamp", sa.Date),
        sa.Column("harvested_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "import_progress",
        sa.Column("source", sa.String(512), primary_key=True),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("newest_update", sa.Date),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
    )
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    op.execute("DROP VIEW paper_versions")
    op.drop_table("import_progress")
    op.drop_table("oai_window")
    op.drop_table("paper_version")
