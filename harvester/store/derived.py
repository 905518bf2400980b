"""Derived data: what the similar authors are computed from, and where they are kept.

:func:`corpus_snapshot` reads the papers, their authors and the profiles in one snapshot
(harvests may commit meanwhile), with a cheap :meth:`CorpusRows.signature` of all of it;
:func:`replace_similar_authors` stores a result unless another process stored the one for
the same data first. Both belong to :func:`harvester.profile.refresh_similar_authors`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..records import SimilarAuthor
from ..vocabulary import Membership
from . import schema as t
from .engine import read_session
from .problems import database_error

SIMILAR_AUTHORS = "similar_authors"
"""The ``derived_state`` row of the similar authors."""


@contextmanager
def corpus_snapshot(engine: Engine) -> Iterator[CorpusRows]:
    """A connection whose statements all read one snapshot.

    SQLite's transactions already are snapshots; PostgreSQL's default, READ COMMITTED,
    gives each statement its own, so the corpus could be read half before and half after
    another process's harvest.
    """
    doing = "cannot read the corpus for similar authors"
    with read_session(engine, doing=doing, rows="row of the corpus") as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield CorpusRows(conn)


class CorpusRows:
    """The rows the similar authors derive from, read in one snapshot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def signature(self, version: str) -> str:
        """A digest of everything the similar authors derive from (a few aggregates) and of
        the method's ``version``: a change to either means they must be recomputed."""
        m, p, a = t.membership.c, t.paper.c, t.author.c
        active = func.sum(case((m.status == Membership.ACTIVE, 1), else_=0))
        queries = (
            select(a.key, a.name).order_by(a.key),
            select(func.count(), func.max(p.changed_at)),
            select(func.count(), func.max(m.since), active),
        )
        digest = hashlib.sha256(version.encode())
        for query in queries:
            for row in self.conn.execute(query):
                digest.update(repr(tuple(_plain(value) for value in row)).encode())
        return digest.hexdigest()

    def stored_signature(self) -> str | None:
        return _stored_signature(self.conn)

    def papers(self) -> Iterable[tuple[str, str, str, str, datetime]]:
        """``(arxiv_id, title, summary, categories, published)`` by id."""
        p = t.paper.c
        query = select(p.arxiv_id, p.title, p.summary, p.categories, p.published)
        return self.conn.execute(query.order_by(p.arxiv_id))

    def paper_authors(self) -> Iterable[tuple[str, str, str]]:
        """``(arxiv_id, name, folded_name)`` of every paper's authors."""
        pa = t.paper_author.c
        return self.conn.execute(select(pa.arxiv_id, pa.name, pa.folded_name))

    def profiles(self) -> Iterable[tuple[str, str]]:
        """``(key, name)`` of every tracked author, by key."""
        a = t.author.c
        return self.conn.execute(select(a.key, a.name).order_by(a.key))

    def memberships(self) -> Iterable[tuple[str, str, str | None]]:
        """``(author_key, arxiv_id, matched_name)`` of every active membership."""
        m = t.membership.c
        query = select(m.author_key, m.arxiv_id, m.matched_name).where(
            m.status == Membership.ACTIVE
        )
        return self.conn.execute(query.order_by(m.author_key, m.arxiv_id))


def replace_similar_authors(
    engine: Engine,
    similar: Mapping[str, Sequence[SimilarAuthor]],
    signature: str,
    now: datetime,
    *,
    force: bool = False,
) -> bool:
    """Store ``similar`` for the data of ``signature``; False when another process stored
    the result for that data first (unless ``force``)."""
    rows = [_row(key, i, s, now) for key, found in similar.items() for i, s in enumerate(found)]
    try:
        with engine.begin() as conn:
            _lock(conn)
            if not force and _stored_signature(conn) == signature:
                return False
            conn.execute(delete(t.similar_author))
            if rows:
                conn.execute(insert(t.similar_author), rows)
            state = t.derived_state
            conn.execute(delete(state).where(state.c.name == SIMILAR_AUTHORS))
            values = {"name": SIMILAR_AUTHORS, "signature": signature, "refreshed_at": now}
            conn.execute(insert(state).values(values))
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot store the similar authors") from exc
    return True


def _lock(conn: Connection) -> None:
    """One refresh writes at a time (processes may share the database): on SQLite the
    transaction began ``BEGIN IMMEDIATE`` (:mod:`.engine`); PostgreSQL needs a table lock,
    or two refreshes could each delete what they see and insert the same positions."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE similar_author IN SHARE ROW EXCLUSIVE MODE"))


def _stored_signature(conn: Connection) -> str | None:
    state = t.derived_state.c
    query = select(state.signature).where(state.name == SIMILAR_AUTHORS)
    return conn.execute(query).scalar_one_or_none()


def _plain(value: Any) -> str:
    """A value as the signature reads it: the same on SQLite and PostgreSQL for a datetime."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _row(key: str, index: int, s: SimilarAuthor, now: datetime) -> dict[str, object]:
    return {
        "author_key": key,
        "position": index + 1,
        "similar_name": s.name,
        "similar_key": s.key,
        "score": s.score,
        "shared_papers": s.shared_papers,
        "coauthor_score": s.coauthor_score,
        "topic_score": s.topic_score,
        "category_score": s.category_score,
        "shared_terms": ", ".join(s.shared_terms),
        "shared_categories": " ".join(s.shared_categories),
        "reason": s.reason,
        "computed_at": now,
    }
