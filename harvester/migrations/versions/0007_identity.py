"""Identity beyond names: evidence per membership, people's decisions, the review queue.

A paper whose author list names a profile is a *candidate*; the evidence
(:mod:`harvester.identity`) accepts it (``active``), holds it for review (``held``: not a
member, counted nowhere) or rejects it. ``membership.score`` keeps the evidence's score
(``reason`` says why, in words a person can check). ``review_decision`` keeps what a person
decided with ``harvest review KEY --accept/--reject``, and when: it lasts across harvests,
full ones included. ``author.ambiguous`` is set when the candidates split into separate
bodies of work and no anchor says which one is the author's (``harvest status`` flags it).

``profile_papers`` gains ``score`` and ``reason`` (why the paper is the author's),
``rejected_papers`` gains ``score``; the new view ``review_queue`` lists the held papers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_REJECTED = """
    SELECT m.author_key, p.arxiv_id, p.title, m.reason, m.since AS rejected_since{score}
    FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
    WHERE m.status = 'rejected'
"""

_PROFILE_PAPERS = """
    SELECT m.author_key, p.arxiv_id, p.version, p.title, p.summary, p.published,
           p.updated, p.primary_category, p.categories, p.doi, p.journal_ref,
           p.comment, p.withdrawn, m.matched_name, m.since AS member_since{identity}
    FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
    WHERE m.status = 'active'
"""

VIEWS = {
    "profile_papers": _PROFILE_PAPERS.format(identity=", m.score, m.reason"),
    "rejected_papers": _REJECTED.format(score=", m.score"),
    "review_queue": """
        SELECT m.author_key, p.arxiv_id, p.title, m.score, m.reason, m.since AS held_since
        FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
        WHERE m.status = 'held'
    """,
}
"""A frozen copy of the views this revision creates or replaces."""


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild), as in 0004: the views and foreign keys that
    # read these tables stay as they are.
    op.add_column("membership", sa.Column("score", sa.Float))
    op.add_column(
        "author", sa.Column("ambiguous", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_table(
        "review_decision",
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), primary_key=True),
        sa.Column("arxiv_id", sa.String(64), sa.ForeignKey("paper.arxiv_id"), primary_key=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_at", UTCDateTime, nullable=False),
    )
    op.execute("DROP VIEW profile_papers")
    op.execute("DROP VIEW rejected_papers")
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    for name in ("review_queue", "rejected_papers", "profile_papers"):
        op.execute(f"DROP VIEW {name}")
    op.drop_table("review_decision")
    op.execute("ALTER TABLE author DROP COLUMN ambiguous")
    op.execute("ALTER TABLE membership DROP COLUMN score")
    op.execute(f"CREATE VIEW rejected_papers AS {_REJECTED.format(score='').strip()}")
    op.execute(f"CREATE VIEW profile_papers AS {_PROFILE_PAPERS.format(identity='').strip()}")
