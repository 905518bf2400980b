"""Initial schema: authors, papers, memberships, runs, events, count changes, views.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

VIEWS = {
    "profile_papers": """
        SELECT m.author_key, p.arxiv_id, p.version, p.title, p.summary, p.published,
               p.updated, p.primary_category, p.categories, p.doi, p.journal_ref,
               p.comment, p.withdrawn, m.matched_name, m.since AS member_since
        FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
        WHERE m.status = 'active'
    """,
    "profile_stats": """
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
                                          AND r2.status <> 'running')
    """,
    "count_history": """
        SELECT author_key, recorded_at, paper_count, previous_count, run_id, withdrawn_count
        FROM count_change
    """,
    "paper_events": """
        SELECT author_key, arxiv_id, kind, detail, recorded_at, run_id, event_id
        FROM event
    """,
    "harvest_runs": """
        SELECT run_id, author_key, started_at, finished_at, status, requests, entries_seen,
               error, new_papers, new_versions, events
        FROM run
    """,
    "rejected_papers": """
        SELECT m.author_key, p.arxiv_id, p.title, m.reason, m.since AS rejected_since
        FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
        WHERE m.status = 'rejected'
    """,
}
"""A frozen copy of the views as of this revision (tests compare it with store.views)."""


def upgrade() -> None:
    op.create_table(
        "author",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("baseline_identity", sa.String(64)),
    )
    op.create_table(
        "paper",
        sa.Column("arxiv_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
        sa.Column("primary_category", sa.String(64), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("doi", sa.Text),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "paper_author",
        sa.Column(
            "arxiv_id",
            sa.String(64),
            sa.ForeignKey("paper.arxiv_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("folded_name", sa.Text, nullable=False),
        sa.Column("affiliations", sa.Text, nullable=False),
    )
    op.create_index("ix_paper_author_folded_name", "paper_author", ["folded_name"])
    op.create_table(
        "membership",
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), primary_key=True),
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("paper.arxiv_id"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("matched_name", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("seen_version", sa.Integer, nullable=False),
        sa.Column("seen_withdrawn", sa.Boolean, nullable=False),
        sa.Column("seen_meta", sa.Text, nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
    )
    op.create_index("ix_membership_arxiv_id", "membership", ["arxiv_id"])
    op.create_table(
        "run",
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("entries_seen", sa.Integer, nullable=False),
        sa.Column("new_papers", sa.Integer, nullable=False),
        sa.Column("new_versions", sa.Integer, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_run_author_key_started_at", "run", ["author_key", "started_at"])
    op.create_table(
        "event",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), nullable=False),
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("paper.arxiv_id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("run.run_id"), nullable=False),
    )
    op.create_index("ix_event_author_key_recorded_at", "event", ["author_key", "recorded_at"])
    op.create_table(
        "count_change",
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("paper_count", sa.Integer, nullable=False),
        sa.Column("withdrawn_count", sa.Integer, nullable=False),
        sa.Column("previous_count", sa.Integer),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("run.run_id"), nullable=False),
    )
    op.create_index(
        "ix_count_change_author_key_recorded_at", "count_change", ["author_key", "recorded_at"]
    )
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in ("count_change", "event", "run", "membership", "paper_author", "paper", "author"):
        op.drop_table(table)
