"""Similar authors, computed locally from the database and explained.

For each tracked profile *A* the candidates are its co-authors (the
:data:`COAUTHOR_CANDIDATES` most frequent, *A* themself excluded, names folded as in
matching) and every other tracked profile (a co-author who is tracked counts once, as
that profile). Each candidate *C* scores::

    score = 0.50 * coauthorship + 0.35 * topic + 0.15 * categories

- ``coauthorship = s / (s + 2)``, ``s`` being the number of *A*'s papers *C* is an author
  of (0 papers: 0; 1: 0.33; 2: 0.5; 6: 0.75; 18: 0.9): working together counts most,
  with diminishing returns;
- ``topic``: cosine similarity of the two authors' TF-IDF centroids over titles and
  abstracts. scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
  (English stop words, words of two or more letters, sublinear term frequency) is fitted
  on every paper in the database; an author's centroid is the sum of their paper vectors
  cut to its :data:`CENTROID_TERMS` strongest terms, normalised. An author's papers are
  those the database holds: a profile's papers; for a co-author, their
  :data:`COAUTHOR_PAPERS` most recent stored papers;
- ``categories``: cosine similarity of the two authors' arXiv category counts.

The :data:`TOP_SIMILAR` best candidates scoring at least :data:`MIN_SCORE` are kept
(ties by name), each with its reason: the shared papers and their years, the
:data:`TERMS_SHOWN` terms contributing most to the topic similarity, and the
:data:`CATEGORIES_SHOWN` categories contributing most to the category similarity.
Word pairs would make nicer reasons but cost seven times as long to count on 100,000
papers (see docs/benchmarks.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from ..records import SimilarAuthor
from ..topics import TopicModel, fit_model
from .corpus import Corpus

WEIGHTS = (0.50, 0.35, 0.15)
"""Weights of co-authorship, topic and category similarity (they sum to 1)."""
HALF_SATURATION = 2
"""Shared papers at which the co-authorship part reaches 0.5."""
COAUTHOR_CANDIDATES = 20
COAUTHOR_PAPERS = 25
CENTROID_TERMS = 300
TOP_SIMILAR = 10
MIN_SCORE = 0.05
TERMS_SHOWN = 3
CATEGORIES_SHOWN = 3
TRACKED_ROWS = 1000
"""Tracked profiles whose similarities to all others are held at once (memory, not results)."""

Vector = np.ndarray[Any, np.dtype[np.float64]]


def explain(
    shared_papers: int,
    years: tuple[int, int] | None,
    shared_terms: Sequence[str],
    shared_categories: Sequence[str],
) -> str:
    """``12 shared papers (2023-2026); shared terms: ...; shared categories: ...``."""
    parts = []
    if shared_papers:
        plural = "s" if shared_papers > 1 else ""
        parts.append(f"{shared_papers} shared paper{plural}{_span(years)}")
    if shared_terms:
        parts.append("shared terms: " + ", ".join(shared_terms))
    if shared_categories:
        parts.append("shared categories: " + ", ".join(shared_categories))
    return "; ".join(parts) or "no shared papers, terms or categories"


@dataclass
class Tracked:
    """Every tracked profile that has papers (by key), with its own names and centroids:
    a profile's list is scored against all of them. Row ``i`` of :attr:`topics` and
    :attr:`cats` is the centroid of ``keys[i]``."""

    keys: list[str]
    names: list[str]
    own_names: list[frozenset[str]]
    topics: Any
    cats: Any

    def __post_init__(self) -> None:
        self.row: dict[str, int] = {key: i for i, key in enumerate(self.keys)}


def profile_vectors(space: Space, keys: Sequence[str]) -> tuple[Any, Any]:
    """The topic and category centroids of ``keys`` from their papers in the space's corpus."""
    return space.centroids([space.corpus.profile_papers[key] for key in keys])


def tracked_of(space: Space) -> Tracked:
    """:class:`Tracked` of a corpus that holds every profile's papers."""
    corpus = space.corpus
    keys = [key for key in corpus.profiles if corpus.profile_papers.get(key)]
    topics, cats = profile_vectors(space, keys)
    return Tracked(
        keys=keys,
        names=[corpus.profiles[key] for key in keys],
        own_names=[frozenset(corpus.own_names[key]) for key in keys],
        topics=topics,
        cats=cats,
    )


def compute_similar(
    corpus: Corpus, model: TopicModel | None = None
) -> dict[str, list[SimilarAuthor]]:
    """The similar authors of every tracked profile of a whole corpus, best first (the
    model fitted on the corpus unless given)."""
    if model is None:
        model = fit_model(zip(corpus.texts, corpus.categories, strict=True))
    space = Space(corpus, model)
    tracked = tracked_of(space)
    return similar_lists(space, tracked, tracked.keys)


CoauthorCentroids = Callable[[list[str]], tuple[Any, Any, list[str]]]
"""Folded co-author names -> their topic and category centroids (row ``i``: ``names[i]``)
and each name as shown."""


def similar_lists(
    space: Space,
    tracked: Tracked,
    keys: Sequence[str],
    coauthor_centroids: CoauthorCentroids | None = None,
) -> dict[str, list[SimilarAuthor]]:
    """The lists of ``keys`` (tracked profiles whose papers, those papers' authors and
    memberships the space's corpus holds), scored against every profile of ``tracked``.

    The co-authors' centroids come from ``coauthor_centroids``; without it, from the
    space's corpus, which must then hold each co-author's recent papers too."""
    if not keys:
        return {}
    corpus = space.corpus
    excluded = frozenset().union(*tracked.own_names)
    coauthors = {key: coauthor_names(corpus, key, excluded) for key in keys}
    every = [name for key in keys for name in coauthors[key]]
    co_topics, co_cats, shown = (coauthor_centroids or _from_corpus(space))(every)
    n = len(tracked.keys)
    topics = sp.vstack([tracked.topics, co_topics], format="csr")
    cats = sp.vstack([tracked.cats, co_cats], format="csr")
    vectors = _Vectors(space, topics, cats)
    wrote_t = _written(corpus, tracked).T.tocsc()
    result: dict[str, list[SimilarAuthor]] = {}
    offset = n
    for start in range(0, len(keys), TRACKED_ROWS):
        chunk = keys[start : start + TRACKED_ROWS]
        rows = [tracked.row[key] for key in chunk]
        member = _membership([corpus.profile_papers[key] for key in chunk], len(corpus.ids))
        shared = (member @ wrote_t).toarray().astype(np.float64)
        topic = _clip((topics[rows] @ tracked.topics.T).toarray())
        category = _clip((cats[rows] @ tracked.cats.T).toarray())
        owners = [rows[i] for i, key in enumerate(chunk) for _ in coauthors[key]]
        pairs = vectors.pair_similarity(owners, list(range(offset, offset + len(owners))))
        done = 0
        for i, key in enumerate(chunk):
            me, names = rows[i], coauthors[key]
            co_rows = list(range(offset, offset + len(names)))
            co_shown = shown[offset - n : offset - n + len(names)]
            offset += len(names)
            co_topic = pairs[0][done : done + len(names)]
            co_category = pairs[1][done : done + len(names)]
            done += len(names)
            mine = set(corpus.profile_papers[key])
            co_shared = [len(mine.intersection(corpus.papers_by_name[name])) for name in names]
            found = _Candidates(
                corpus=corpus,
                tracked=tracked,
                coauthors=names,
                shown=co_shown,
                shared=np.concatenate([shared[i], np.array(co_shared, dtype=np.float64)]),
                topic=np.concatenate([topic[i], co_topic]),
                category=np.concatenate([category[i], co_category]),
            )
            found.topic[me] = -np.inf  # not a candidate of its own
            result[key] = _best(corpus, vectors, key, me, found, co_rows)
    return result


def _written(corpus: Corpus, tracked: Tracked) -> Any:
    """``wrote[j, p]``: tracked profile ``j`` wrote paper row ``p`` (:func:`written_by`),
    looked up only for the profiles the corpus names: a pass holds a few profiles' papers,
    and every pass scores against every tracked profile."""
    names = corpus.papers_by_name
    present = {tracked.row[key] for key in corpus.profile_papers if key in tracked.row}
    present.update(
        j for j, own in enumerate(tracked.own_names) if any(name in names for name in own)
    )
    groups = [
        sorted(written_by(corpus, tracked, j)) if j in present else []
        for j in range(len(tracked.keys))
    ]
    return _membership(groups, len(corpus.ids))


def _from_corpus(space: Space) -> CoauthorCentroids:
    def centroids(names: list[str]) -> tuple[Any, Any, list[str]]:
        topics, cats = space.centroids([recent_papers(space.corpus, name) for name in names])
        return topics, cats, [space.corpus.display_name(name) for name in names]

    return centroids


@dataclass(slots=True)
class _Vectors:
    """Centroid rows of the tracked profiles, then of the co-authors; the paper space."""

    space: Space
    topics: Any
    cats: Any

    def shared_terms(self, me: int, other: int) -> tuple[str, ...]:
        return _top_shared(self.topics, me, other, self.space.terms, TERMS_SHOWN)

    def shared_categories(self, me: int, other: int) -> tuple[str, ...]:
        return _top_shared(self.cats, me, other, self.space.category_names, CATEGORIES_SHOWN)

    def pair_similarity(self, left: list[int], right: list[int]) -> tuple[Vector, Vector]:
        """Topic and category cosines of the centroid rows ``left[i]`` and ``right[i]``."""
        if not left:
            return np.zeros(0), np.zeros(0)
        topic = pair_cosine(self.topics, left, self.topics, right)
        return topic, pair_cosine(self.cats, left, self.cats, right)


@dataclass(slots=True)
class _Candidates:
    """One profile's candidates: the tracked profiles (index ``j < n``, the profile itself
    scored out), then its co-authors; names and papers are only looked up for those kept."""

    corpus: Corpus
    tracked: Tracked
    coauthors: list[str]
    """Folded names."""
    shown: list[str]
    """The same as shown."""
    shared: Vector
    topic: Vector
    category: Vector

    def name(self, j: int) -> str:
        n = len(self.tracked.keys)
        return self.tracked.names[j] if j < n else self.shown[j - n]

    def key(self, j: int) -> str | None:
        return self.tracked.keys[j] if j < len(self.tracked.keys) else None

    def written(self, j: int) -> set[int]:
        n = len(self.tracked.keys)
        if j < n:
            return written_by(self.corpus, self.tracked, j)
        return set(self.corpus.papers_by_name[self.coauthors[j - n]])


def coauthorship(shared_papers: Any) -> Any:
    """``s / (s + 2)``, of a number or an array."""
    return shared_papers / (shared_papers + HALF_SATURATION)


def score(shared_papers: Any, topic: Any, category: Any) -> Any:
    """A candidate's score from its parts (numbers or arrays); see the module's docstring."""
    return WEIGHTS[0] * coauthorship(shared_papers) + WEIGHTS[1] * topic + WEIGHTS[2] * category


def pair_cosine(left: Any, rows: Sequence[int], right: Any, others: Sequence[int]) -> Vector:
    """Cosines (clipped to 0..1) of the unit rows ``left[rows[i]]`` and ``right[others[i]]``."""
    return _clip(left[rows].multiply(right[others]).sum(axis=1)).ravel()


def written_by(corpus: Corpus, tracked: Tracked, j: int) -> set[int]:
    """A tracked author's papers in ``corpus``: their profile's plus any paper under one of
    their names."""
    written = set(corpus.profile_papers.get(tracked.keys[j], ()))
    for folded in tracked.own_names[j]:
        written.update(corpus.papers_by_name.get(folded, ()))
    return written


def coauthor_names(corpus: Corpus, key: str, excluded: frozenset[str]) -> list[str]:
    """The most frequent co-authors (folded) who are neither the author nor tracked."""
    return [name for name, _ in coauthor_counts(corpus, key, excluded)]


def coauthor_counts(corpus: Corpus, key: str, excluded: frozenset[str]) -> list[tuple[str, int]]:
    """:func:`coauthor_names`, each with the number of the profile's papers they wrote."""
    counts: Counter[str] = Counter()
    for row in corpus.profile_papers[key]:
        counts.update(corpus.authors[row] - excluded)
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return [(name, counts[name]) for name in ranked[:COAUTHOR_CANDIDATES]]


def recent_papers(corpus: Corpus, folded: str) -> list[int]:
    """A co-author's :data:`COAUTHOR_PAPERS` most recent papers (published, then id): their
    topic."""
    rows = corpus.papers_by_name[folded]
    if len(rows) <= COAUTHOR_PAPERS:
        return rows
    return sorted(rows, key=lambda row: (corpus.published[row], row))[-COAUTHOR_PAPERS:]


def _best(
    corpus: Corpus, vectors: _Vectors, key: str, me: int, found: _Candidates, co_rows: list[int]
) -> list[SimilarAuthor]:
    coauthor = coauthorship(found.shared)
    scores = score(found.shared, found.topic, found.category)
    mine = set(corpus.profile_papers[key])
    result = []
    n = len(found.tracked.keys)
    for j in _top(scores, found.name):
        shared = sorted(found.written(j) & mine)
        row = j if j < n else co_rows[j - n]
        terms = vectors.shared_terms(me, row)
        categories = vectors.shared_categories(me, row)
        result.append(
            SimilarAuthor(
                name=found.name(j),
                key=found.key(j),
                score=round(float(scores[j]), 4),
                shared_papers=len(shared),
                coauthor_score=round(float(coauthor[j]), 4),
                topic_score=round(float(found.topic[j]), 4),
                category_score=round(float(found.category[j]), 4),
                shared_terms=terms,
                shared_categories=categories,
                reason=explain(len(shared), _years(corpus, shared), terms, categories),
            )
        )
    return result


def _top(score: Vector, name: Callable[[int], str]) -> list[int]:
    """Indexes of the best :data:`TOP_SIMILAR` scores >= :data:`MIN_SCORE`, ties by name."""
    rounded = np.round(score, 6)
    eligible = np.flatnonzero(rounded >= MIN_SCORE)
    if len(eligible) > TOP_SIMILAR:  # keep every candidate tied with the last one kept
        cutoff = np.partition(rounded[eligible], -TOP_SIMILAR)[-TOP_SIMILAR]
        eligible = eligible[rounded[eligible] >= cutoff]
    ranked = sorted(eligible.tolist(), key=lambda j: (-rounded[j], name(j)))
    return ranked[:TOP_SIMILAR]


def _years(corpus: Corpus, rows: Sequence[int]) -> tuple[int, int] | None:
    years = [corpus.years[row] for row in rows]
    return (min(years), max(years)) if years else None


def explain_again(
    reason: str, shared_papers: int, terms: Sequence[str], cats: Sequence[str]
) -> str:
    """:func:`explain` with new shared terms and categories, the shared papers (and their
    years) as ``reason``, an earlier explanation of the same pair, gave them."""
    rest = explain(0, None, terms, cats)
    if not shared_papers:
        return rest
    first = reason.split("; ")[0]  # "2 shared papers (2023-2026)"
    return f"{first}; {rest}" if terms or cats else first


def _span(years: tuple[int, int] | None) -> str:
    if years is None:
        return ""
    return f" ({years[0]})" if years[0] == years[1] else f" ({years[0]}-{years[1]})"


def _clip(values: Any) -> Vector:
    return np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)


class Space:
    """TF-IDF and category vectors of every paper of a corpus (with a fitted model), then
    centroids of groups of papers."""

    def __init__(self, corpus: Corpus, model: TopicModel) -> None:
        self.corpus = corpus
        self.model = model
        self.terms = model.terms
        self.category_names = model.categories

    def centroids(self, groups: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        """Row ``i`` of each is the topic (cut to :data:`CENTROID_TERMS` terms) and the
        category centroid of ``groups[i]``, unit length. Only the papers of ``groups`` are
        vectorised, in row order, so a centroid is the same sum from any corpus."""
        needed = sorted({row for group in groups for row in group})
        position = {row: i for i, row in enumerate(needed)}
        texts = [self.corpus.texts[row] for row in needed]
        categories = [self.corpus.categories[row] for row in needed]
        membership = _membership([[position[r] for r in g] for g in groups], len(needed))
        topics = _unit_rows(membership @ self.model.topics(texts))
        topics = _prune(topics, CENTROID_TERMS)
        cats = _unit_rows(membership @ self.model.category_counts(categories))
        topics.sort_indices()  # one order of terms: the same sums wherever a row is used
        cats.sort_indices()
        return topics, cats


def _top_shared(matrix: Any, me: int, other: int, names: Any, count: int) -> tuple[str, ...]:
    """The features contributing most to the dot product of two rows (largest first)."""
    return shared_features(_row(matrix, me), _row(matrix, other), names, count)


def shared_features(a: Any, b: Any, names: Any, count: int) -> tuple[str, ...]:
    """:func:`_top_shared` of two sparse rows given as (columns, values)."""
    common, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    if len(common) == 0:
        return ()
    product = a[1][ia] * b[1][ib]
    best = np.lexsort((common, -product))[:count]
    return tuple(str(names[common[i]]) for i in best)


def _row(matrix: Any, i: int) -> tuple[Any, Any]:
    start, stop = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]


def _prune(matrix: Any, keep: int) -> Any:
    """Keep the ``keep`` largest entries of each row, then renormalise the rows."""
    matrix = sp.csr_matrix(matrix)
    for i in range(matrix.shape[0]):
        start, stop = matrix.indptr[i], matrix.indptr[i + 1]
        drop = stop - start - keep
        if drop > 0:
            row = matrix.data[start:stop]
            row[np.argpartition(row, drop)[:drop]] = 0.0
    matrix.eliminate_zeros()
    return _unit_rows(matrix)


def _unit_rows(matrix: Any) -> Any:
    """Rows scaled to length 1 (CSR); a matrix without a single feature stays as it is
    (text that leaves no term at all has no topic similarity, not an error)."""
    if matrix.shape[1] == 0:
        return sp.csr_matrix(matrix)
    return normalize(matrix).tocsr()


def _membership(groups: Sequence[Sequence[int]], papers: int) -> Any:
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    cols = np.fromiter((row for group in groups for row in group), dtype=np.int64)
    data = np.ones(len(cols), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(groups), papers))
