"""What the store holds of papers and of a profile's memberships, read back as records.

Read into the decisions' snapshot (:mod:`.snapshot`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from math import isfinite
from typing import Any

from sqlalchemy import Connection, select

from ..plans import Seen
from ..records import Author, Paper
from . import schema as t
from .engine import among
from .papers import chunks
from .problems import readable


def load_papers(conn: Connection, ids: Sequence[str]) -> dict[str, Paper]:
    """Stored papers by id, with their authors (used to re-check membership)."""
    if not ids:
        return {}
    with readable("paper"):
        return _load_papers(conn, ids)


def _load_papers(conn: Connection, ids: Sequence[str]) -> dict[str, Paper]:
    """A chunk of ids a statement: a match after ``harvest import`` asks for every paper
    naming a tracked author (a million at 10,000 authors), past the bound parameters one
    statement may hold (65,535 on PostgreSQL, 32,766 on SQLite)."""
    papers: dict[str, Paper] = {}
    pa = t.paper_author.c
    for chunk in chunks(ids):
        authors: dict[str, list[Author]] = {}
        stmt = select(t.paper_author).where(among(conn, pa.arxiv_id, chunk))
        for row in conn.execute(stmt.order_by(pa.arxiv_id, pa.position)):
            affiliations = tuple(a for a in row.affiliations.split("; ") if a)
            authors.setdefault(row.arxiv_id, []).append(Author(row.name, affiliations))
        rows = conn.execute(select(t.paper).where(among(conn, t.paper.c.arxiv_id, chunk)))
        papers.update((r.arxiv_id, _paper(r, authors.get(r.arxiv_id, []))) for r in rows)
    return papers


def seen_of(rows: Iterable[Any]) -> dict[str, Seen]:
    return {
        r.arxiv_id: Seen(
            r.arxiv_id,
            r.status,
            r.matched_name,
            r.reason,
            r.seen_version,
            bool(r.seen_withdrawn),
            json.loads(r.seen_meta),
            score_of(r.score),
            tuple(str(r.drawn_by).split()) if r.drawn_by else (),
        )
        for r in rows
    }


def score_of(value: Any) -> float | None:
    """A stored identity score: none yet, or a finite number (else ``ValueError``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
        raise ValueError(f"score {str(value)[:40]!r} is not a number")
    return float(value)


def _paper(r: Any, authors: list[Author]) -> Paper:
    return Paper(
        arxiv_id=r.arxiv_id,
        version=r.version,
        title=r.title,
        summary=r.summary,
        published=r.published,
        updated=r.updated,
        authors=tuple(authors),
        primary_category=r.primary_category,
        categories=tuple(r.categories.split()),
        comment=r.comment,
        journal_ref=r.journal_ref,
        doi=r.doi,
        withdrawn=bool(r.withdrawn),
    )
