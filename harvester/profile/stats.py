"""Read one profile from the public views (``profile_stats``, ``papers_by_year`` ...).

The renderers read exactly what a person querying the database sees: this module only
selects from the documented views, one query per view, all filtered on the author's key
(each view is written so that the filter reaches its base tables: see
``harvester/migrations/versions/0003_profile_views.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Connection, Executable, text

from ..errors import ProfileNotFoundError, SchemaOutdatedError
from ..store import Store, current_revision, head_revision
from ..store.schema import UTCDateTime
from .model import CategoryCount, Coauthor, PaperItem, Profile, SimilarAuthor, Stats, YearCount

TOP_COAUTHORS = 10

_STATS = text(
    "SELECT name, paper_count, withdrawn_count, first_published, latest_published,"
    " last_harvest_at, last_harvest_status, last_complete_at, papers_last_12_months,"
    " coauthor_count, version_count, journal_ref_or_doi_count"
    " FROM profile_stats WHERE author_key = :key"
).columns(
    first_published=UTCDateTime,
    latest_published=UTCDateTime,
    last_harvest_at=UTCDateTime,
    last_complete_at=UTCDateTime,
)
_YEARS = text("SELECT year, papers FROM papers_by_year WHERE author_key = :key ORDER BY year")
_CATEGORIES = text(
    "SELECT category, papers, as_primary FROM papers_by_category"
    " WHERE author_key = :key ORDER BY papers DESC, as_primary DESC, category"
)
_COAUTHORS = text(
    "SELECT coauthor, shared_papers, first_year, last_year FROM coauthors"
    " WHERE author_key = :key ORDER BY shared_papers DESC, coauthor"
    f" LIMIT {TOP_COAUTHORS}"
)
_SIMILAR = text(
    "SELECT similar_name, similar_key, score, shared_papers, coauthor_score, topic_score,"
    " category_score, shared_terms, shared_categories, reason"
    " FROM similar_authors WHERE author_key = :key ORDER BY position"
)
_PAPERS = text(
    "SELECT arxiv_id, version, title, summary, published, updated, primary_category,"
    " categories, doi, journal_ref, comment, withdrawn, matched_name"
    " FROM profile_papers WHERE author_key = :key ORDER BY published DESC, arxiv_id DESC"
).columns(published=UTCDateTime, updated=UTCDateTime, withdrawn=Boolean)


def check_schema(store: Store) -> None:
    """Commands that only read refuse a schema that is not the newest (they never migrate:
    a reader may have a read-only role)."""
    current, head = current_revision(store.engine), head_revision()
    if current != head:
        raise SchemaOutdatedError(
            f"the database schema is at revision {current or 'none'}; this version reads {head}"
        )


def load_profile(store: Store, key: str) -> Profile:
    """Everything a rendering shows; raises :class:`ProfileNotFoundError` for an unknown key."""
    with store.engine.connect() as conn:
        return read_profile(conn, key)


def read_profile(conn: Connection, key: str) -> Profile:
    """:func:`load_profile` on an open connection (the site writer reads many profiles)."""
    row = conn.execute(_STATS, {"key": key}).one_or_none()
    if row is None:
        raise ProfileNotFoundError(key, known_keys(conn))
    return Profile(
        key=key,
        name=row.name,
        stats=Stats(*row[1:]),
        years=tuple(YearCount(*r) for r in _rows(conn, _YEARS, key)),
        categories=tuple(CategoryCount(*r) for r in _rows(conn, _CATEGORIES, key)),
        coauthors=tuple(Coauthor(*r) for r in _rows(conn, _COAUTHORS, key)),
        similar=tuple(_similar(r) for r in _rows(conn, _SIMILAR, key)),
        papers=tuple(read_paper_items(conn, key)),
    )


def known_keys(conn: Connection) -> list[str]:
    return list(
        conn.execute(text("SELECT author_key FROM profile_stats ORDER BY author_key")).scalars()
    )


def _rows(conn: Connection, query: Executable, key: str) -> list[Any]:
    return list(conn.execute(query, {"key": key}).all())


def _similar(r: Any) -> SimilarAuthor:
    return SimilarAuthor(
        name=r.similar_name,
        key=r.similar_key,
        score=float(r.score),
        shared_papers=r.shared_papers,
        coauthor_score=float(r.coauthor_score),
        topic_score=float(r.topic_score),
        category_score=float(r.category_score),
        shared_terms=tuple(t for t in r.shared_terms.split(", ") if t),
        shared_categories=tuple(r.shared_categories.split()),
        reason=r.reason,
    )


def read_paper_items(conn: Connection, key: str) -> list[PaperItem]:
    """The papers of profile ``key``, newest first (``authors`` left empty)."""
    return [_paper(r) for r in _rows(conn, _PAPERS, key)]


def _paper(r: Any) -> PaperItem:
    return PaperItem(
        arxiv_id=r.arxiv_id,
        version=r.version,
        title=r.title,
        summary=r.summary,
        published=r.published,
        updated=r.updated,
        primary_category=r.primary_category,
        categories=tuple(r.categories.split()),
        doi=r.doi,
        journal_ref=r.journal_ref,
        comment=r.comment,
        withdrawn=bool(r.withdrawn),
        matched_name=r.matched_name,
    )
