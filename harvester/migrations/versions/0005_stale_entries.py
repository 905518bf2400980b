"""Stale entries and stopped runs.

``run.stale_entries`` counts the entries a harvest received with a lower version than
the one stored (a lagging mirror or cache): they are kept as stored, record no event, and
are counted here. ``harvest_runs`` gains the column. A run that a shutdown ended is
``stopped``; like a skipped one it is not a harvest, so ``profile_stats`` leaves it out
of "the last harvest".

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_0003 = importlib.import_module("harvester.migrations.versions.0003_profile_views")
_0004 = importlib.import_module("harvester.migrations.versions.0004_coverage")

_HIDDEN_0003 = "NOT IN ('running', 'skipped')"
_HIDDEN = "NOT IN ('running', 'skipped', 'stopped')"

VIEWS = {
    "harvest_runs": _0004._HARVEST_RUNS.format(mode=", mode, stale_entries"),
    "profile_stats": _0003.VIEWS["profile_stats"].replace(_HIDDEN_0003, _HIDDEN),
}
"""A frozen copy of the views this revision replaces."""


def upgrade() -> None:
    op.add_column("run", sa.Column("stale_entries", sa.Integer, nullable=False, server_default="0"))
    for name, sql in VIEWS.items():
        op.execute(f"DROP VIEW {name}")
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    previous = {
        "harvest_runs": _0004.VIEWS["harvest_runs"],
        "profile_stats": _0003.VIEWS["profile_stats"],
    }
    for name, sql in previous.items():
        op.execute(f"DROP VIEW {name}")
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")
    op.execute("ALTER TABLE run DROP COLUMN stale_entries")
