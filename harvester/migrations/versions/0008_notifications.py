"""Notifications: an outbox written with the events, messages delivered after the commit.

``outbox_item``: what each ``[[notify]]`` target is to hear (a new paper, a new version, a
withdrawal, a paper held for review, an author failing), written in the same transaction as
the events it tells of. ``notice``: the messages the items were gathered into, with their
delivery (sent, attempts, last error) and the claim of the process delivering one. The view
``notifications`` shows the messages.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

VIEWS = {
    "notifications": """
        SELECT target, created, sent, attempts, last_error, title
        FROM notice
    """,
}
"""A frozen copy of the views this revision creates."""


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("notice_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sent", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", UTCDateTime),
    )
    op.create_index("ix_notice_sent", "notice", ["sent"])
    op.create_table(
        "outbox_item",
        sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("author_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("arxiv_id", sa.String(64)),
        sa.Column("detail", sa.Text),
        sa.Column("ref", sa.String(200)),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("notice.notice_id")),
    )
    op.create_index("ix_outbox_item_target", "outbox_item", ["target", "notice_id"])
    op.create_index("uq_outbox_item_target_ref", "outbox_item", ["target", "ref"], unique=True)
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    op.execute("DROP VIEW notifications")
    op.drop_table("outbox_item")
    op.drop_table("notice")
