"""Derived data: what the similar authors are computed from, and where they are kept.

:func:`corpus_snapshot` opens one snapshot (harvests may commit meanwhile) in which
:class:`CorpusRows` reads the change log (``derived_change``), the stored model and profile
vectors, and the papers, authors and memberships of the profiles a refresh recomputes;
:func:`store_similar` writes the result unless another process refreshed from a later
state first. All of it belongs to :func:`harvester.profile.refresh_similar_authors`.
Every derived row read is decoded and checked by :mod:`.derived_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, exists, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..records import SimilarAuthor
from ..vocabulary import Membership
from . import schema as t
from .derived_rows import (
    Change,
    StoredCentroid,
    StoredModel,
    StoredProfile,
    change_of,
    header_of,
    model_of,
    score_of,
    similar_author_of,
    stored_centroid,
    stored_profile,
    text_of,
)
from .engine import among, read_session
from .papers import chunks
from .problems import UNDECODABLE, database_error, derivable

SIMILAR_AUTHORS = "similar_authors"
"""The ``derived_state`` and ``similar_model`` row of the similar authors."""


@dataclass(slots=True)
class SimilarUpdate:
    """What one refresh stores: the lists and profiles it recomputed, the model it fitted
    (if it did), and what it was based on."""

    lists: Mapping[str, Sequence[SimilarAuthor]]
    profiles: Sequence[StoredProfile]
    full: bool
    """Replace every list and profile, not only those given."""
    model: StoredModel | None
    """A newly fitted model to store, else ``None``."""
    based_on: datetime | None
    """``fitted_at`` of the stored model the refresh started from."""
    bound: int
    """It took into account the ``derived_change`` rows numbered up to this..."""
    seen: int
    """...which were this many."""
    centroids: Sequence[StoredCentroid] = ()
    """Co-authors' centroids computed from this state, to keep for the next refresh."""
    stale: Sequence[str] = ()
    """Folded names whose stored centroids no longer hold (a change touched their papers);
    ``full`` replaces every stored centroid."""


@contextmanager
def corpus_snapshot(engine: Engine) -> Iterator[CorpusRows]:
    """A connection whose statements all read one snapshot.

    SQLite's transactions already are snapshots; PostgreSQL's default, READ COMMITTED,
    gives each statement its own, so the corpus could be read half before and half after
    another process's harvest.
    """
    doing = "cannot read the corpus for similar authors"
    bound = _change_bound(engine, doing)
    with read_session(engine, doing=doing, rows="row of the corpus") as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield CorpusRows(conn, bound)


def _change_bound(engine: Engine, doing: str) -> int:
    """The highest ``derived_change`` number below which every row has committed.

    On SQLite numbers are handed out in commit order (one writer at a time). On
    PostgreSQL a harvest may commit a lower number after a higher one: a moment's SHARE
    lock waits for every transaction that is writing the table, then the highest number
    is read; the snapshot, taken after, sees every row up to it."""
    c = t.derived_change.c
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE derived_change IN SHARE MODE"))
            return int(conn.execute(select(func.coalesce(func.max(c.change_id), 0))).scalar_one())
    except SQLAlchemyError as exc:
        raise database_error(exc, doing) from exc


class CorpusRows:
    """The rows the similar authors derive from, read in one snapshot. ``ids``, ``keys``
    and ``names`` arguments select; ``None`` means all."""

    def __init__(self, conn: Connection, bound: int) -> None:
        self.conn = conn
        self.bound = bound
        """The last change (``derived_change``) this snapshot answers for."""

    def change_count(self) -> int:
        c = t.derived_change.c
        query = select(func.count()).where(c.change_id <= self.bound)
        return int(self.conn.execute(query.select_from(t.derived_change)).scalar_one())

    def changes(self) -> list[Change]:
        c = t.derived_change.c
        query = select(c.change_id, c.arxiv_id, c.folded_name).where(c.change_id <= self.bound)
        with derivable("change of the derived data"):
            return [change_of(*row) for row in self.conn.execute(query.order_by(c.change_id))]

    def model(self) -> StoredModel | None:
        m = t.similar_model.c
        query = select(m.version, m.papers, m.terms, m.idf, m.categories, m.fitted_at)
        with derivable("model of the similar authors"):
            row = self.conn.execute(query.where(m.name == SIMILAR_AUTHORS)).one_or_none()
            return None if row is None else model_of(*row)

    def model_header(self) -> tuple[str, int, datetime] | None:
        """The stored model's version, corpus size and time of fitting, not its terms."""
        m = t.similar_model.c
        query = select(m.version, m.papers, m.fitted_at).where(m.name == SIMILAR_AUTHORS)
        with derivable("model of the similar authors"):
            row = self.conn.execute(query).one_or_none()
            return None if row is None else header_of(row.version, row.papers, row.fitted_at)

    def stored_names(self) -> dict[str, str]:
        """Key -> name of the profiles whose vectors are stored (no vectors read)."""
        s = t.similar_profile.c
        with derivable("profile of the similar authors"):
            rows = self.conn.execute(select(s.author_key, s.name)).all()
            return {text_of(key): text_of(name) for key, name in rows}

    def stored_profiles(self) -> dict[str, StoredProfile]:
        with derivable("profile of the similar authors"):
            rows = self.conn.execute(select(t.similar_profile))
            return {row.author_key: stored_profile(row) for row in rows}

    def stored_centroids(self, names: Sequence[str]) -> dict[str, StoredCentroid]:
        """The stored centroids of ``names`` (folded) that decode; a row that does not is
        left out, to be computed again (it is replaced when the refresh is stored)."""
        c = t.coauthor_centroid.c
        found: dict[str, StoredCentroid] = {}
        for row in self._chunked(select(t.coauthor_centroid), c.folded_name, names):
            try:
                centroid = stored_centroid(row)
            except UNDECODABLE:
                continue
            found[centroid.name] = centroid
        return found

    def paper_count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.paper)).scalar_one())

    def texts(self) -> Iterable[tuple[str, str]]:
        """``(title. summary, categories)`` of every paper, streamed."""
        p = t.paper.c
        query = select(p.title, p.summary, p.categories)
        rows = self.conn.execution_options(yield_per=2000).execute(query)
        return ((f"{title}. {summary}", categories) for title, summary, categories in rows)

    def tracked_profiles(self) -> list[tuple[str, str]]:
        """``(key, name)`` of every author with an active membership, by key."""
        a, m = t.author.c, t.membership.c
        active = exists().where(m.author_key == a.key, m.status == Membership.ACTIVE)
        return list(self.conn.execute(select(a.key, a.name).where(active).order_by(a.key)))

    def memberships(
        self, *, keys: Sequence[str] | None = None, ids: Sequence[str] | None = None
    ) -> list[tuple[str, str, str | None]]:
        """``(author_key, arxiv_id, matched_name)`` of active memberships."""
        m = t.membership.c
        query = select(m.author_key, m.arxiv_id, m.matched_name).where(
            m.status == Membership.ACTIVE
        )
        if keys is not None:
            return self._chunked(query, m.author_key, keys)
        assert ids is not None
        return self._chunked(query, m.arxiv_id, ids)

    def profiles_of(self, ids: Sequence[str]) -> set[str]:
        """Authors with a membership (of any status) of any of ``ids``."""
        m = t.membership.c
        rows = self._chunked(select(m.author_key).distinct(), m.arxiv_id, ids)
        return {key for (key,) in rows}

    def papers(self, ids: Sequence[str]) -> list[tuple[str, str, str, str, datetime]]:
        """``(arxiv_id, title, summary, categories, published)`` of ``ids``."""
        p = t.paper.c
        query = select(p.arxiv_id, p.title, p.summary, p.categories, p.published)
        return self._chunked(query, p.arxiv_id, ids)

    def paper_authors(self, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """``(arxiv_id, name, folded_name)`` of the authors of ``ids``."""
        pa = t.paper_author.c
        return self._chunked(select(pa.arxiv_id, pa.name, pa.folded_name), pa.arxiv_id, ids)

    def papers_by(self, names: Sequence[str]) -> set[str]:
        """Ids of the papers with an author whose folded name is one of ``names``."""
        pa = t.paper_author.c
        rows = self._chunked(select(pa.arxiv_id).distinct(), pa.folded_name, names)
        return {arxiv_id for (arxiv_id,) in rows}

    def recent_papers_by(self, names: Sequence[str], count: int) -> set[str]:
        """Ids of each of ``names``' ``count`` most recent papers (published, then id)."""
        pa, p = t.paper_author.c, t.paper.c
        found: set[str] = set()
        for chunk in chunks(sorted(set(names))):
            pairs = select(pa.folded_name, pa.arxiv_id).where(
                among(self.conn, pa.folded_name, chunk)
            )
            pairs_q = pairs.distinct().subquery()
            rank = func.row_number().over(
                partition_by=pairs_q.c.folded_name, order_by=(p.published.desc(), p.arxiv_id.desc())
            )
            ranked = (
                select(pairs_q.c.arxiv_id, rank.label("rank"))
                .join(t.paper, p.arxiv_id == pairs_q.c.arxiv_id)
                .subquery()
            )
            query = select(ranked.c.arxiv_id).where(ranked.c.rank <= count)
            found.update(arxiv_id for (arxiv_id,) in self.conn.execute(query))
        return found

    def spellings(self, names: Sequence[str]) -> list[tuple[str, str, int]]:
        """``(folded_name, name, papers)``: how often each spelling of ``names`` is written."""
        pa = t.paper_author.c
        query = select(pa.folded_name, pa.name, func.count()).group_by(pa.folded_name, pa.name)
        return self._chunked(query, pa.folded_name, names)

    def listing(self, keys: Sequence[str]) -> set[str]:
        """Profiles whose stored list names one of the tracked ``keys``."""
        s = t.similar_author.c
        rows = self._chunked(select(s.author_key).distinct(), s.similar_key, keys)
        return {key for (key,) in rows}

    def listed_coauthors(self, keys: Sequence[str]) -> set[tuple[str, str]]:
        """``(author_key, similar_name)`` of the untracked authors in the stored lists of
        ``keys``."""
        s = t.similar_author.c
        query = select(s.author_key, s.similar_name).where(s.similar_key.is_(None))
        return {(key, name) for key, name in self._chunked(query, s.author_key, keys)}

    def stored_lists(self, keys: Sequence[str]) -> dict[str, list[SimilarAuthor]]:
        """The stored lists of ``keys``, best first (a key without one: absent)."""
        s = t.similar_author.c
        query = select(t.similar_author).order_by(s.author_key, s.position)
        found: dict[str, list[SimilarAuthor]] = {}
        with derivable("similar author"):
            for row in self._chunked(query, s.author_key, keys):
                found.setdefault(text_of(row.author_key), []).append(similar_author_of(row))
        return found

    def list_ends(self) -> dict[str, tuple[int, float]]:
        """Each stored list's length and lowest score; a score that is not a number from 0
        to 1 (NaN, text on SQLite) is counted as it is aggregated, and is an error."""
        s = t.similar_author.c
        odd = func.sum(case((s.score.between(0, 1), 0), else_=1))
        query = select(s.author_key, func.count(), func.min(s.score), odd).group_by(s.author_key)
        ends: dict[str, tuple[int, float]] = {}
        with derivable("similar author"):
            for key, count, low, unusable in self.conn.execute(query):
                if unusable:
                    raise ValueError(f"{unusable} scores of {key} are not numbers from 0 to 1")
                ends[key] = (count, score_of(low))
        return ends

    def _chunked(self, query: Any, column: Any, values: Sequence[str]) -> list[Any]:
        values = sorted(set(values))
        rows: list[Any] = []
        for chunk in chunks(values):
            rows += self.conn.execute(query.where(among(self.conn, column, chunk))).all()
        return rows


def store_similar(
    engine: Engine, update: SimilarUpdate, now: datetime, *, force: bool = False
) -> bool:
    """Store a refresh's result; False when another process refreshed from a later state
    first (its model is newer, or it took some of the same changes), unless ``force``."""
    try:
        with engine.begin() as conn:
            _lock(conn)
            if not force and not _still_current(conn, update):
                return False
            _write_lists(conn, update, now)
            _write_profiles(conn, update)
            _write_centroids(conn, update)
            if update.model is not None:
                _write_model(conn, update.model)
            c = t.derived_change.c
            conn.execute(delete(t.derived_change).where(c.change_id <= update.bound))
            _write_state(conn, now)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot store the similar authors") from exc
    return True


def _still_current(conn: Connection, update: SimilarUpdate) -> bool:
    m, c = t.similar_model.c, t.derived_change.c
    with derivable("model of the similar authors"):
        query = select(m.fitted_at).where(m.name == SIMILAR_AUTHORS)
        fitted = conn.execute(query).scalar_one_or_none()
    if fitted != update.based_on:
        return False
    left = select(func.count()).where(c.change_id <= update.bound)
    return conn.execute(left.select_from(t.derived_change)).scalar_one() == update.seen


def _write_lists(conn: Connection, update: SimilarUpdate, now: datetime) -> None:
    s = t.similar_author.c
    if update.full:
        conn.execute(delete(t.similar_author))
    else:
        for chunk in chunks(list(update.lists)):
            conn.execute(delete(t.similar_author).where(among(conn, s.author_key, chunk)))
    rows = [
        _row(key, i, a, now) for key, found in update.lists.items() for i, a in enumerate(found)
    ]
    if rows:
        conn.execute(insert(t.similar_author), rows)


def _write_profiles(conn: Connection, update: SimilarUpdate) -> None:
    s = t.similar_profile.c
    if update.full:
        conn.execute(delete(t.similar_profile))
    else:
        keys = [p.key for p in update.profiles]
        for chunk in chunks(keys):
            conn.execute(delete(t.similar_profile).where(among(conn, s.author_key, chunk)))
    rows = [_profile_row(p) for p in update.profiles]
    if rows:
        conn.execute(insert(t.similar_profile), rows)


def _write_centroids(conn: Connection, update: SimilarUpdate) -> None:
    """Every stored centroid a change made stale goes, and those computed come in (the
    same name may be both)."""
    c = t.coauthor_centroid.c
    if update.full:
        conn.execute(delete(t.coauthor_centroid))
    else:
        names = {*update.stale, *(found.name for found in update.centroids)}
        for chunk in chunks(sorted(names)):
            conn.execute(delete(t.coauthor_centroid).where(among(conn, c.folded_name, chunk)))
    rows = [
        {
            "folded_name": found.name,
            "shown": found.shown,
            "papers": found.papers,
            "topic_terms": found.topic[0],
            "topic_weights": found.topic[1],
            "category_terms": found.categories[0],
            "category_weights": found.categories[1],
        }
        for found in update.centroids
    ]
    if rows:
        conn.execute(insert(t.coauthor_centroid), rows)


def _write_model(conn: Connection, model: StoredModel) -> None:
    m = t.similar_model
    conn.execute(delete(m).where(m.c.name == SIMILAR_AUTHORS))
    values = {
        "name": SIMILAR_AUTHORS,
        "version": model.version,
        "papers": model.papers,
        "terms": "\n".join(model.terms),
        "idf": model.idf,
        "categories": " ".join(model.categories),
        "fitted_at": model.fitted_at,
    }
    conn.execute(insert(m).values(values))


def _write_state(conn: Connection, now: datetime) -> None:
    state = t.derived_state
    conn.execute(delete(state).where(state.c.name == SIMILAR_AUTHORS))
    values = {"name": SIMILAR_AUTHORS, "signature": "by change", "refreshed_at": now}
    conn.execute(insert(state).values(values))


def _lock(conn: Connection) -> None:
    """One refresh writes at a time (processes may share the database): on SQLite the
    transaction began ``BEGIN IMMEDIATE`` (:mod:`.engine`); PostgreSQL needs a table lock,
    or two refreshes could each delete what they see and insert the same positions."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE similar_author IN SHARE ROW EXCLUSIVE MODE"))


def _profile_row(p: StoredProfile) -> dict[str, object]:
    return {
        "author_key": p.key,
        "name": p.name,
        "own_names": "\n".join(sorted(p.own_names)),
        "coauthors": "\n".join(
            f"{name}\t{count}" for name, count in zip(p.coauthors, p.coauthor_papers, strict=True)
        ),
        "topic_terms": p.topic[0],
        "topic_weights": p.topic[1],
        "category_terms": p.categories[0],
        "category_weights": p.categories[1],
    }


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
