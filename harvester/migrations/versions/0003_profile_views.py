"""Profile statistics and similar authors: four views, a wider ``profile_stats``, helper tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

The views are portable: the same SQL text runs on SQLite and PostgreSQL. Two helper
tables make that possible without dialect functions:

- ``calendar_month``: one row per UTC month (1990-01 to 2199-12) with its start and end
  as stored datetimes. Years and "the last 12 months" come from comparing timestamps with
  these rows, never from formatting a timestamp as text: on PostgreSQL
  ``CAST(published AS TEXT)`` follows the session's ``TimeZone`` (a paper of
  2024-01-01 00:30 UTC reads as 2023 in New York), and date arithmetic is spelled
  differently in each dialect. ``calendar_month`` works the same in both.
- ``ordinal``: the numbers 1..100, to split ``paper.categories`` (space separated) into
  rows. Each space is widened to 100 (or 1,000) spaces by nested ``REPLACE``s, so the n-th
  category is ``TRIM(SUBSTR(widened, (n - 1) * 100 + 1, 100))`` as long as a paper's
  categories take at most 100 (or 1,000) characters; a dozen categories take about 100.

``similar_author`` holds the similar authors, computed in Python
(:mod:`harvester.profile.similar`: TF-IDF is no SQL) after each harvest cycle that changed
anything; ``derived_state`` remembers what data that computation saw.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from harvester.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FIRST_YEAR, LAST_YEAR = 1990, 2199
ORDINALS = 100

_TEN_SPACES = "'" + " " * 10 + "'"
_WIDE_100 = f"REPLACE(REPLACE(p.categories, ' ', {_TEN_SPACES}), ' ', {_TEN_SPACES})"
_WIDE_1000 = f"REPLACE({_WIDE_100}, ' ', {_TEN_SPACES})"
_CATEGORY_N = f"""CASE WHEN LENGTH(p.categories) <= 100
                          THEN TRIM(SUBSTR({_WIDE_100}, (o.n - 1) * 100 + 1, 100))
                          ELSE TRIM(SUBSTR({_WIDE_1000}, (o.n - 1) * 1000 + 1, 1000)) END"""
"""The n-th space-separated category (most papers take the cheaper first branch)."""
_NOT_SELF = "pa.name <> COALESCE(m.matched_name, '')"
"""``pa`` is not the profile's author, who is the author matched on that paper."""


def _year_of(timestamp: str) -> str:
    return (
        f"(SELECT c.year FROM calendar_month c WHERE c.starts_at <= {timestamp}"
        " ORDER BY c.starts_at DESC LIMIT 1)"
    )


PROFILE_STATS_0002 = """
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
                                          AND r2.status NOT IN ('running', 'skipped'))
"""
"""``profile_stats`` as revision 0002 left it (restored by the downgrade)."""

VIEWS = {
    "profile_stats": f"""
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
                 WHERE r3.author_key = a.key AND r3.status = 'ok') AS last_complete_at,
               (SELECT COUNT(*) FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
                 WHERE m.author_key = a.key AND m.status = 'active'
                   AND p.published >= (SELECT c.starts_at FROM calendar_month c
                                        WHERE c.starts_at <= CURRENT_TIMESTAMP
                                        ORDER BY c.starts_at DESC LIMIT 1 OFFSET 11)
               ) AS papers_last_12_months,
               (SELECT COUNT(DISTINCT pa.folded_name)
                  FROM membership m JOIN paper_author pa ON pa.arxiv_id = m.arxiv_id
                 WHERE m.author_key = a.key AND m.status = 'active'
                   AND {_NOT_SELF}
               ) AS coauthor_count,
               (SELECT COALESCE(SUM(p.version), 0)
                  FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
                 WHERE m.author_key = a.key AND m.status = 'active') AS version_count,
               (SELECT COUNT(*) FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
                 WHERE m.author_key = a.key AND m.status = 'active'
                   AND (COALESCE(p.journal_ref, '') <> '' OR COALESCE(p.doi, '') <> '')
               ) AS journal_ref_or_doi_count
        FROM author a
        LEFT JOIN run r ON r.run_id = (SELECT MAX(r2.run_id) FROM run r2
                                        WHERE r2.author_key = a.key
                                          AND r2.status NOT IN ('running', 'skipped'))
    """,
    "papers_by_year": """
        SELECT a.key AS author_key, y.year,
               (SELECT COUNT(*) FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
                 WHERE m.author_key = a.key AND m.status = 'active'
                   AND p.published >= y.starts_at AND p.published < d.ends_at) AS papers
        FROM author a
        JOIN (SELECT m.author_key, MIN(p.published) AS first_published,
                     MAX(p.published) AS last_published
                FROM membership m JOIN paper p ON p.arxiv_id = m.arxiv_id
               WHERE m.status = 'active'
               GROUP BY m.author_key) span ON span.author_key = a.key
        JOIN calendar_month y ON y.month = 1 AND y.starts_at <= span.last_published
        JOIN calendar_month d
          ON d.year = y.year AND d.month = 12 AND d.ends_at > span.first_published
    """,
    "papers_by_category": f"""
        SELECT pc.author_key, pc.category, COUNT(*) AS papers,
               SUM(CASE WHEN pc.n = 1 THEN 1 ELSE 0 END) AS as_primary
        FROM (SELECT m.author_key, o.n,
                     {_CATEGORY_N} AS category
                FROM membership m
                JOIN paper p ON p.arxiv_id = m.arxiv_id
                JOIN ordinal o
                  ON o.n <= LENGTH(p.categories) - LENGTH(REPLACE(p.categories, ' ', '')) + 1
               WHERE m.status = 'active') pc
        WHERE pc.category <> ''
        GROUP BY pc.author_key, pc.category
    """,
    "coauthors": f"""
        SELECT t.author_key, t.coauthor, t.shared_papers,
               {_year_of("t.first_published")} AS first_year,
               {_year_of("t.last_published")} AS last_year,
               t.folded_name
        FROM (SELECT s.author_key, s.folded_name, s.name AS coauthor,
                     ROW_NUMBER() OVER (PARTITION BY s.author_key, s.folded_name
                                        ORDER BY s.papers DESC, s.name) AS spelling_rank,
                     CAST(SUM(s.papers) OVER same AS INTEGER) AS shared_papers,
                     MIN(s.first_published) OVER same AS first_published,
                     MAX(s.last_published) OVER same AS last_published
                FROM (SELECT m.author_key, pa.folded_name, pa.name, COUNT(*) AS papers,
                             MIN(p.published) AS first_published,
                             MAX(p.published) AS last_published
                        FROM membership m
                        JOIN paper p ON p.arxiv_id = m.arxiv_id
                        JOIN paper_author pa ON pa.arxiv_id = m.arxiv_id
                       WHERE m.status = 'active' AND {_NOT_SELF}
                       GROUP BY m.author_key, pa.folded_name, pa.name) s
              WINDOW same AS (PARTITION BY s.author_key, s.folded_name)) t
        WHERE t.spelling_rank = 1
    """,
    "similar_authors": """
        SELECT author_key, similar_name, score, shared_papers, reason, position, similar_key,
               coauthor_score, topic_score, category_score, shared_terms, shared_categories,
               computed_at
        FROM similar_author
    """,
}
"""A frozen copy of the views as of this revision."""


def upgrade() -> None:
    _create_calendar()
    _create_ordinal()
    op.create_table(
        "similar_author",
        sa.Column("author_key", sa.String(64), sa.ForeignKey("author.key"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("similar_name", sa.Text, nullable=False),
        sa.Column("similar_key", sa.String(64)),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("shared_papers", sa.Integer, nullable=False),
        sa.Column("coauthor_score", sa.Float, nullable=False),
        sa.Column("topic_score", sa.Float, nullable=False),
        sa.Column("category_score", sa.Float, nullable=False),
        sa.Column("shared_terms", sa.Text, nullable=False),
        sa.Column("shared_categories", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "derived_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("refreshed_at", UTCDateTime, nullable=False),
    )
    op.execute("DROP VIEW IF EXISTS profile_stats")
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute(f"CREATE VIEW profile_stats AS {PROFILE_STATS_0002.strip()}")
    for table in ("derived_state", "similar_author", "ordinal", "calendar_month"):
        op.drop_table(table)


def _create_calendar() -> None:
    calendar = op.create_table(
        "calendar_month",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("month", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_calendar_month_starts_at", "calendar_month", ["starts_at"])
    op.create_index("ix_calendar_month_month", "calendar_month", ["month", "starts_at"])
    rows = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            following = (year + month // 12, month % 12 + 1)
            rows.append(
                {
                    "year": year,
                    "month": month,
                    "starts_at": datetime(year, month, 1, tzinfo=UTC),
                    "ends_at": datetime(*following, 1, tzinfo=UTC),
                }
            )
    op.bulk_insert(calendar, rows)


def _create_ordinal() -> None:
    ordinal = op.create_table(
        "ordinal", sa.Column("n", sa.Integer, primary_key=True, autoincrement=False)
    )
    op.bulk_insert(ordinal, [{"n": n} for n in range(1, ORDINALS + 1)])
