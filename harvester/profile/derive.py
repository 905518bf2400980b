"""Which similar-author lists a refresh recomputes, and how: :func:`plan_refresh`.

Each harvest notes the papers and memberships it wrote in ``derived_change``. A refresh
recomputes only the lists those changes can reach:

- the profiles with a membership of a changed paper (their papers, texts or names moved);
- the profiles whose list reads a co-author of a changed paper (or one of its former
  authors), or a name that became or stopped being a tracked profile's own;
- the profiles whose stored list names one of the first kind, or whose list the first
  kind may now enter (its new score reaches the list's lowest, or the minimum score).

The vectors of the others are read back as stored, so the result equals a full
recompute with the same model (``tests/test_derived.py``). A full recompute runs when
asked (``harvest refresh --all``), when the tracked profiles changed (one added, renamed,
or left without papers), and with a new model (see :mod:`harvester.topics`); it goes
:data:`PROFILES_PER_PASS` profiles at a time, so memory follows that number, not the corpus.
The co-authors' centroids are computed once a refresh, the first time a pass needs them,
and kept for the passes after (:mod:`.coauthors`); a refresh by change reads back those
an earlier refresh stored for the names no change touched, and a co-author a change
touched whose centroid comes out as stored moves no list. A list that changes only by
co-authors on it whose centroids moved gets their new entries in place, when where they
go is known from the list alone (:func:`_patch`), else it is recomputed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import DerivedDataError
from ..names import fold_name
from ..records import SimilarAuthor
from ..store import CorpusRows, SimilarUpdate, StoredModel, StoredProfile
from ..topics import VERSION, TopicModel, fit_model, outgrown
from .coauthors import CoauthorVectors
from .corpus import Corpus, load_corpus
from .similar import (
    CATEGORIES_SHOWN,
    MIN_SCORE,
    TERMS_SHOWN,
    TOP_SIMILAR,
    Space,
    Tracked,
    coauthor_counts,
    explain_again,
    pair_cosine,
    profile_vectors,
    score,
    shared_features,
    similar_lists,
    written_by,
)

logger = logging.getLogger(__name__)

PROFILES_PER_PASS = 100
"""Profiles whose papers (and whose lists' candidates) one pass holds: the memory of a full
recompute follows it."""
MANY_CHANGES = 100_000
"""More changes than this since the last refresh: a full recompute, without reading them."""


@dataclass(frozen=True, slots=True)
class Request:
    """What was asked: ``everything`` recomputes every list; ``refit`` fits a new model;
    ``per_pass``: profiles a pass holds (the result does not depend on it)."""

    everything: bool = False
    refit: bool = False
    per_pass: int = PROFILES_PER_PASS


def plan_refresh(rows: CorpusRows, request: Request, now: datetime) -> SimilarUpdate | None:
    """The update a refresh stores, or ``None`` when nothing it derives from changed."""
    seen = rows.change_count()
    if request.refit and request.everything:  # stored over whatever is there: none read
        return _refit(rows, request, seen, None, now)
    header = rows.model_header()
    based_on = header[2] if header else None
    if _outgrown(rows, header, seen):
        return _refit(rows, request, seen, based_on, now)
    profiles = dict(rows.tracked_profiles())
    everything = request.everything or profiles != rows.stored_names()
    if seen == 0 and not everything:
        return None  # a quiet cycle reads no model and no vectors
    stored_model = rows.model()
    assert stored_model is not None  # its header was read in this snapshot
    model = _model(stored_model)
    if everything or seen > MANY_CHANGES:  # a cold import, say: every list anyway
        return _full(rows, model, request.per_pass, seen, based_on)
    stored = rows.stored_profiles()
    changes = rows.changes()
    ids = sorted({c.arxiv_id for c in changes})
    former = {c.former_author for c in changes if c.former_author}
    touched = {folded for _, _, folded in rows.paper_authors(ids)} | former
    changed = sorted(rows.profiles_of(ids) & profiles.keys())
    partial = _Partial(rows, model, profiles, stored, request.per_pass, touched)
    keys = partial.affected(changed, touched)
    patched, left = partial.patched()
    lists, vectors = partial.lists(sorted({*keys, *left}))
    coauthors = partial.coauthors
    logger.debug(
        "by change: %d lists recomputed, %d settled in place; co-author centroids: %d read"
        " back, %d computed",
        len(lists),
        len(patched),
        coauthors.read,
        coauthors.computed,
    )
    lists.update(patched)
    centroids = partial.coauthors.to_store()
    return SimilarUpdate(
        lists, vectors, False, None, based_on, rows.bound, seen, centroids, sorted(touched)
    )


def _refit(
    rows: CorpusRows, request: Request, seen: int, based_on: datetime | None, now: datetime
) -> SimilarUpdate:
    model = fit_model(rows.texts())
    return _full(rows, model, request.per_pass, seen, based_on, new_model=_stored(model, now))


def _outgrown(rows: CorpusRows, header: tuple[str, int, datetime] | None, seen: int) -> bool:
    """No model, another method's, or one the corpus outgrew (the corpus only grows by
    changes a harvest notes, so with none there is no count to take)."""
    if header is None:
        return True
    version, fitted_on, _ = header
    return version != VERSION or (seen > 0 and outgrown(fitted_on, rows.paper_count()))


def _full(
    rows: CorpusRows,
    model: TopicModel,
    per_pass: int,
    seen: int,
    based_on: datetime | None,
    new_model: StoredModel | None = None,
) -> SimilarUpdate:
    """Every profile's vectors, then every list, ``per_pass`` profiles at a time."""
    profiles = dict(rows.tracked_profiles())
    keys = list(profiles)
    own: dict[str, frozenset[str]] = {}
    topics, cats = [], []
    for chunk in _passes(keys, per_pass):
        corpus = load_corpus(rows, chunk, profiles)
        t, c = profile_vectors(Space(corpus, model), chunk)
        topics.append(t)
        cats.append(c)
        own.update((key, frozenset(corpus.own_names[key])) for key in chunk)
    tracked = Tracked(
        keys=keys,
        names=[profiles[key] for key in keys],
        own_names=[own[key] for key in keys],
        topics=_stack(topics, len(model.terms)),
        cats=_stack(cats, len(model.categories)),
    )
    coauthors = CoauthorVectors(rows, model)
    lists, vectors = _lists(rows, tracked, keys, per_pass, coauthors)
    centroids = coauthors.to_store()
    return SimilarUpdate(lists, vectors, True, new_model, based_on, rows.bound, seen, centroids)


class _Partial:
    """The stored vectors, with fresh ones for the profiles a change reached."""

    def __init__(
        self,
        rows: CorpusRows,
        model: TopicModel,
        profiles: Mapping[str, str],
        stored: Mapping[str, StoredProfile],
        per_pass: int,
        touched: set[str],
    ) -> None:
        self.rows, self.model, self.profiles, self.stored = rows, model, profiles, stored
        self.per_pass = per_pass
        self.coauthors = CoauthorVectors(rows, model, reuse=True, touched=touched)
        self.patch: dict[str, set[str]] = {}
        """Profiles whose stored list changes only by the entries of these co-authors
        (folded), whose centroids changed: :meth:`patched`."""
        keys = list(profiles)
        self.tracked = Tracked(
            keys=keys,
            names=[profiles[key] for key in keys],
            own_names=[stored[key].own_names for key in keys],
            topics=_rows([stored[key].topic for key in keys], len(model.terms)),
            cats=_rows([stored[key].categories for key in keys], len(model.categories)),
        )

    def affected(self, changed: list[str], touched: set[str]) -> list[str]:
        """The profiles whose lists a change can reach (see the module's docstring)."""
        if not changed and not touched:
            return []
        corpus = self._refresh_vectors(changed)
        moved: set[str] = set()
        gone: set[str] = set()
        for key in changed:
            before, now = self.stored[key].own_names, frozenset(corpus.own_names[key])
            moved |= before ^ now
            gone |= before - now
        keys = set(changed)
        keys |= {k for k, p in self.stored.items() if moved.intersection(p.coauthors)}
        if gone:
            keys |= self.rows.profiles_of(sorted(self.rows.papers_by(sorted(gone))))
        keys |= self.rows.listing(changed)
        ends = self.rows.list_ends()
        keys |= self._may_now_list(corpus, changed, ends)
        keys |= self._coauthors_may_move(touched - moved, keys, ends)
        self.patch = {k: v for k, v in self.patch.items() if k not in keys and k in self.profiles}
        return sorted(keys & self.profiles.keys())

    def _coauthors_may_move(
        self, names: set[str], already: set[str], ends: Mapping[str, tuple[int, float]]
    ) -> set[str]:
        """Profiles (not ``already`` counted) whose list reads one of ``names``, a co-author
        whose papers changed, and may now change: the co-author is on it, or their score
        with the new papers reaches it. Their shared papers did not change (a paper of the
        profile's own would have put it among ``already``). A profile whose list changes
        only by such co-authors on it is left to :meth:`patched` (in :attr:`patch`)."""
        readers = {
            key: profile
            for key, profile in self.stored.items()
            if key not in already and names.intersection(profile.coauthors)
        }
        if readers:  # a co-author whose centroid came out as stored moves no list
            names = names - self.coauthors.unchanged(names)
            readers = {k: p for k, p in readers.items() if names.intersection(p.coauthors)}
        if not readers:
            return set()
        centroids = self.coauthors.of(sorted(names))
        topics, cats = centroids.topics, centroids.cats
        column = {name: j for j, name in enumerate(centroids.names) if centroids.papers[j]}
        listed = {(key, fold_name(name)) for key, name in self.rows.listed_coauthors(list(readers))}
        pairs = [
            (key, self.tracked.row[key], column[name], count)
            for key, profile in readers.items()
            for name, count in zip(profile.coauthors, profile.coauthor_papers, strict=True)
            if name in column and (key, name) not in listed
        ]
        for key, profile in readers.items():  # a co-author on the list: it changes with them
            on_it = {n for n in profile.coauthors if n in names and (key, n) in listed}
            if on_it:
                self.patch[key] = on_it
        reached: set[str] = set()
        if pairs:
            left, right = [p[1] for p in pairs], [p[2] for p in pairs]
            topic = pair_cosine(self.tracked.topics, left, topics, right)
            category = pair_cosine(self.tracked.cats, left, cats, right)
            shared = np.array([p[3] for p in pairs], dtype=np.float64)
            lowest = np.array([_lowest(ends.get(p[0])) for p in pairs], dtype=np.float64)
            reach = _reaches(score(shared, topic, category), lowest)
            reached |= {pairs[i][0] for i in np.flatnonzero(reach)}
        return reached

    def patched(self) -> tuple[dict[str, list[SimilarAuthor]], set[str]]:
        """The lists of :attr:`patch` whose new entries of changed co-authors settle where
        they go among the stored others (see :func:`_patch`), and the profiles whose lists
        must be recomputed instead."""
        if not self.patch:
            return {}, set()
        stored = self.rows.stored_lists(sorted(self.patch))
        found = self.coauthors.of(sorted(set().union(*self.patch.values())))
        column = {name: j for j, name in enumerate(found.names)}
        tracked = self.tracked
        pairs = [(key, name) for key in sorted(self.patch) for name in sorted(self.patch[key])]
        left = [tracked.row[key] for key, _ in pairs]
        right = [column[name] for _, name in pairs]
        topic = pair_cosine(tracked.topics, left, found.topics, right)
        category = pair_cosine(tracked.cats, left, found.cats, right)
        fresh: dict[str, dict[str, SimilarAuthor]] = {}
        for i, (key, name) in enumerate(pairs):
            entry = _entry_of(stored.get(key, []), name)
            if entry is None:
                continue
            me, j = tracked.row[key], right[i]
            terms = shared_features(
                _row_of(tracked.topics, me), _row_of(found.topics, j), self.model.terms, TERMS_SHOWN
            )
            cats = shared_features(
                _row_of(tracked.cats, me),
                _row_of(found.cats, j),
                self.model.categories,
                CATEGORIES_SHOWN,
            )
            shared = np.array([entry.shared_papers], dtype=np.float64)
            value = float(score(shared, topic[i : i + 1], category[i : i + 1])[0])
            fresh.setdefault(key, {})[name] = replace(
                entry,
                name=found.shown[j],
                score=value,  # rounded once placed
                topic_score=round(float(topic[i]), 4),
                category_score=round(float(category[i]), 4),
                shared_terms=terms,
                shared_categories=cats,
                reason=explain_again(entry.reason, entry.shared_papers, terms, cats),
            )
        lists: dict[str, list[SimilarAuthor]] = {}
        left_over: set[str] = set()
        for key, names in self.patch.items():
            new = fresh.get(key, {})
            placed = _patch(stored.get(key, []), new) if len(new) == len(names) else None
            if placed is None:
                left_over.add(key)
            else:
                lists[key] = placed
        return lists, left_over

    def lists(self, keys: list[str]) -> tuple[dict[str, Any], list[StoredProfile]]:
        return _lists(self.rows, self.tracked, keys, self.per_pass, self.coauthors)

    def _refresh_vectors(self, changed: list[str]) -> Corpus:
        """Recompute the vectors and own names of ``changed`` in :attr:`tracked`; returns
        their corpus, which also holds every paper under one of their names."""
        corpus = load_corpus(self.rows, changed, self.profiles)
        names = set().union(*(corpus.own_names[key] for key in changed))
        corpus = load_corpus(self.rows, changed, self.profiles, names=names)
        topics, cats = profile_vectors(Space(corpus, self.model), changed)
        tracked = self.tracked
        rows = [tracked.row[key] for key in changed]
        tracked.topics = _replace_rows(tracked.topics, rows, topics)
        tracked.cats = _replace_rows(tracked.cats, rows, cats)
        for key, row in zip(changed, rows, strict=True):
            tracked.own_names[row] = frozenset(corpus.own_names[key])
        return corpus

    def _may_now_list(
        self, corpus: Corpus, changed: list[str], ends: Mapping[str, tuple[int, float]]
    ) -> set[str]:
        """Profiles whose lists a changed profile's new score may enter."""
        if not changed:
            return set()
        tracked = self.tracked
        columns = [tracked.row[key] for key in changed]
        shared = self._shared_with(corpus, changed)
        topic = np.clip((tracked.topics @ tracked.topics[columns].T).toarray(), 0.0, 1.0)
        category = np.clip((tracked.cats @ tracked.cats[columns].T).toarray(), 0.0, 1.0)
        lowest = np.array(
            [_lowest(ends.get(key)) for key in tracked.keys], dtype=np.float64
        ).reshape(-1, 1)
        reach = _reaches(score(shared, topic, category), lowest)
        return {tracked.keys[i] for i in np.flatnonzero(reach.any(axis=1))}

    def _shared_with(self, corpus: Corpus, changed: list[str]) -> Any:
        """``shared[i, j]``: papers of tracked profile ``i`` written by ``changed[j]``."""
        tracked = self.tracked
        shared = np.zeros((len(tracked.keys), len(changed)), dtype=np.float64)
        for j, key in enumerate(changed):
            ids = [corpus.ids[row] for row in written_by(corpus, tracked, tracked.row[key])]
            counts = Counter(k for k, _, _ in self.rows.memberships(ids=ids))
            for other, count in counts.items():
                if other in tracked.row:
                    shared[tracked.row[other], j] = count
        return shared


def _lists(
    rows: CorpusRows,
    tracked: Tracked,
    keys: Sequence[str],
    per_pass: int,
    coauthors: CoauthorVectors,
) -> tuple[dict[str, Any], list[StoredProfile]]:
    """The lists of ``keys`` and what they were computed from, ``per_pass`` at a time; the
    co-authors' centroids from ``coauthors``, which keeps them for the next pass."""
    excluded = frozenset().union(*tracked.own_names)
    profiles = dict(zip(tracked.keys, tracked.names, strict=True))
    lists: dict[str, Any] = {}
    vectors: list[StoredProfile] = []
    for chunk in _passes(list(keys), per_pass):
        corpus = load_corpus(rows, chunk, profiles, authors=True)
        space = Space(corpus, coauthors.model)
        lists.update(similar_lists(space, tracked, chunk, coauthors.centroids))
        vectors += [
            _stored_profile(tracked, key, coauthor_counts(corpus, key, excluded)) for key in chunk
        ]
    return lists, vectors


SETTLED = 2e-4
"""How far a new score must be from a stored one (rounded to 4 places) for their order
to be known."""


def _entry_of(stored: Sequence[SimilarAuthor], folded: str) -> SimilarAuthor | None:
    found = [e for e in stored if e.key is None and fold_name(e.name) == folded]
    return found[0] if len(found) == 1 else None


def _patch(
    stored: Sequence[SimilarAuthor], fresh: Mapping[str, SimilarAuthor]
) -> list[SimilarAuthor] | None:
    """A stored list (best first) with the entries of some co-authors replaced by
    ``fresh`` ones (folded name -> entry, its score not yet rounded), as
    :func:`~.similar.similar_lists` would rank them; ``None`` when that cannot be told from
    the list alone.

    Every other candidate's score is as it was, so the others keep their order. A full
    list (:data:`TOP_SIMILAR`) was the first of every candidate; a new entry that ranks
    above its last other one is among the first still, one below might leave a place to
    a candidate the list does not hold: unknown. A shorter list held every candidate
    reaching :data:`MIN_SCORE`. A new score within :data:`SETTLED` of a stored one
    (rounded) is not placed."""
    others = [e for e in stored if not (e.key is None and fold_name(e.name) in fresh)]
    if len(others) + len(fresh) != len(stored):
        return None
    new = {name: round(e.score, 6) for name, e in fresh.items()}
    if any(abs(value - o.score) <= SETTLED for value in new.values() for o in others):
        return None
    if len(stored) >= TOP_SIMILAR:
        if not others or any(value < others[-1].score for value in new.values()):
            return None
        kept = list(fresh)
    else:
        kept = [name for name in fresh if new[name] >= MIN_SCORE]
    ranked = [((-o.score, 0, f"{i:06d}"), o) for i, o in enumerate(others)]
    ranked += [
        ((-new[n], 1, fresh[n].name), replace(fresh[n], score=round(fresh[n].score, 4)))
        for n in kept
    ]
    ranked.sort(key=lambda pair: pair[0])
    return [entry for _, entry in ranked][:TOP_SIMILAR]


def _row_of(matrix: Any, i: int) -> tuple[Any, Any]:
    start, stop = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]


def _passes(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _reaches(scores: Any, lowest: Any) -> Any:
    """Where a score may enter a list whose stored scores (rounded to 4 places) end at
    ``lowest``: ties count, as :func:`~.similar.similar_lists` keeps them."""
    return np.round(scores, 6) >= lowest - 1e-4


def _lowest(end: tuple[int, float] | None) -> float:
    """The score a new candidate must reach to enter a stored list."""
    if end is None or end[0] < TOP_SIMILAR:
        return MIN_SCORE
    return max(end[1], MIN_SCORE)


def _model(stored: StoredModel) -> TopicModel:
    idf = np.frombuffer(stored.idf, dtype=np.float32).copy()
    if not np.all(np.isfinite(idf) & (idf > 0)):  # smooth idf is at least 1
        raise DerivedDataError("the stored model of the similar authors has unusable weights")
    return TopicModel(stored.terms, idf, stored.categories, stored.papers, stored.version)


def _stored(model: TopicModel, now: datetime) -> StoredModel:
    idf = np.asarray(model.idf, dtype=np.float32).tobytes()
    return StoredModel(model.version, model.papers, model.terms, idf, model.categories, now)


def _stored_profile(tracked: Tracked, key: str, coauthors: list[tuple[str, int]]) -> StoredProfile:
    row = tracked.row[key]
    return StoredProfile(
        key=key,
        name=tracked.names[row],
        own_names=tracked.own_names[row],
        coauthors=tuple(name for name, _ in coauthors),
        coauthor_papers=tuple(count for _, count in coauthors),
        topic=_row_bytes(tracked.topics, row),
        categories=_row_bytes(tracked.cats, row),
    )


def _row_bytes(matrix: Any, i: int) -> tuple[bytes, bytes]:
    start, stop = matrix.indptr[i], matrix.indptr[i + 1]
    columns = matrix.indices[start:stop].astype(np.int32)
    return columns.tobytes(), matrix.data[start:stop].astype(np.float32).tobytes()


def _rows(stored: Sequence[tuple[bytes, bytes]], width: int) -> Any:
    """A CSR matrix of stored sparse rows, in the stored order, each checked first
    (:func:`_usable`): scipy trusts the indices it is given, and one out of range
    crashes the process."""
    columns = [np.frombuffer(c, dtype=np.int32) for c, _ in stored]
    values = [np.frombuffer(v, dtype=np.float32) for _, v in stored]
    if any(len(c) != len(v) for c, v in zip(columns, values, strict=True)):
        raise DerivedDataError("a stored vector of the similar authors is cut short")
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in columns])]).astype(np.int64)
    indices = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
    data = np.concatenate(values) if values else np.zeros(0, dtype=np.float32)
    if not _usable(indptr, indices, data, width):
        raise DerivedDataError("a stored vector of the similar authors does not fit its model")
    return sp.csr_matrix((data, indices, indptr), shape=(len(stored), width))


UNIT_TOLERANCE = 1e-3
"""How far from length 1 a stored centroid (float32) may be."""


def _usable(indptr: Any, indices: Any, data: Any, width: int) -> bool:
    """Stored centroids (CSR parts): in each row distinct increasing columns below
    ``width`` and finite values of length 1 (or no entry at all: no terms). Checked on
    all rows at once: a refresh reads every profile's."""
    if len(indices) == 0:
        return True
    if indices.min() < 0 or indices.max() >= width or not np.all(np.isfinite(data)):
        return False
    starts = indptr[:-1][np.diff(indptr) > 0]
    rising = np.diff(indices) > 0
    rising[starts[1:] - 1] = True  # where a row begins, its first column may be any
    squares = np.add.reduceat(data.astype(np.float64) ** 2, starts)
    return bool(np.all(rising)) and bool(np.all(np.abs(np.sqrt(squares) - 1.0) <= UNIT_TOLERANCE))


def _stack(parts: list[Any], width: int) -> Any:
    if not parts:
        return sp.csr_matrix((0, width), dtype=np.float32)
    return sp.vstack(parts, format="csr")


def _replace_rows(matrix: Any, rows: list[int], new: Any) -> Any:
    """``matrix`` with its ``rows`` replaced by those of ``new``, in order."""
    parts = [_row_bytes(matrix, i) for i in range(matrix.shape[0])]
    for position, row in enumerate(rows):
        parts[row] = _row_bytes(new, position)
    return _rows(parts, matrix.shape[1])
