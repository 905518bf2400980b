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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from ..records import SimilarAuthor
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


@dataclass(slots=True)
class _Candidates:
    """One profile's candidates as parallel sequences (tracked profiles first)."""

    names: list[str]
    keys: list[str | None]
    rows: list[int]
    """Each candidate's row in the centroid matrices."""
    written: list[set[int]]
    """Each candidate's papers: shared when the profile has them too."""
    shared: Vector
    topic: Vector
    category: Vector

    def extend(self, other: _Candidates) -> None:
        self.names += other.names
        self.keys += other.keys
        self.rows += other.rows
        self.written += other.written
        self.shared = np.concatenate([self.shared, other.shared])
        self.topic = np.concatenate([self.topic, other.topic])
        self.category = np.concatenate([self.category, other.category])


def coauthorship(shared_papers: Any) -> Any:
    """``s / (s + 2)``, of a number or an array."""
    return shared_papers / (shared_papers + HALF_SATURATION)


def compute_similar(corpus: Corpus) -> dict[str, list[SimilarAuthor]]:
    """The similar authors of every tracked profile that has papers, best first."""
    keys = [key for key in corpus.profiles if corpus.profile_papers.get(key)]
    if not keys:
        return {}
    space = _Space(corpus)
    coauthors = {key: _frequent_coauthors(corpus, key, keys) for key in keys}
    groups = [corpus.profile_papers[key] for key in keys]
    owners: list[int] = []
    for me, key in enumerate(keys):
        groups += [_recent(corpus, name) for name in coauthors[key]]
        owners += [me] * len(coauthors[key])
    space.fit_centroids(groups)
    tracked = _Tracked(corpus, space, keys)
    pairs = (np.array(owners, dtype=np.int64), np.arange(len(keys), len(groups)))
    topic, category = space.pair_similarity(*pairs)
    result: dict[str, list[SimilarAuthor]] = {}
    offset = len(keys)
    for me, key in enumerate(keys):
        found = tracked.candidates(me)
        rows = list(range(offset, offset + len(coauthors[key])))
        part = slice(offset - len(keys), offset - len(keys) + len(rows))
        offset += len(rows)
        found.extend(
            _coauthor_candidates(corpus, key, coauthors[key], rows, (topic[part], category[part]))
        )
        result[key] = _best(corpus, space, key, me, found)
    return result


class _Tracked:
    """Shared papers and similarities between all tracked profiles (sparse products),
    :data:`TRACKED_ROWS` profiles' rows at a time: 10,000 profiles would need three dense
    10,000 x 10,000 matrices (2.4 GB) at once."""

    def __init__(self, corpus: Corpus, space: _Space, keys: list[str]) -> None:
        n = len(keys)
        self.keys = keys
        self.names = [corpus.profiles[key] for key in keys]
        self.written = [_written_by(corpus, key) for key in keys]
        self.papers = _membership([corpus.profile_papers[key] for key in keys], len(corpus.ids))
        self.wrote_t = _membership([sorted(w) for w in self.written], len(corpus.ids)).T.tocsc()
        self.topics, self.cats = space.topics[:n], space.cats[:n]
        self.rows = range(0)
        self.shared = self.topic = self.category = np.zeros((0, n))

    def candidates(self, me: int) -> _Candidates:
        if me not in self.rows:
            self._compute(range(me, min(me + TRACKED_ROWS, len(self.keys))))
        row = me - self.rows.start
        others = [j for j in range(len(self.keys)) if j != me]
        return _Candidates(
            names=[self.names[j] for j in others],
            keys=[self.keys[j] for j in others],
            rows=others,
            written=[self.written[j] for j in others],
            shared=self.shared[row, others],
            topic=self.topic[row, others],
            category=self.category[row, others],
        )

    def _compute(self, rows: range) -> None:
        chunk = slice(rows.start, rows.stop)
        self.rows = rows
        self.shared = (self.papers[chunk] @ self.wrote_t).toarray().astype(np.float64)
        self.topic = _clip((self.topics[chunk] @ self.topics.T).toarray())
        self.category = _clip((self.cats[chunk] @ self.cats.T).toarray())


def _written_by(corpus: Corpus, key: str) -> set[int]:
    """A tracked author's papers: their profile plus any paper under one of their names."""
    written = set(corpus.profile_papers[key])
    for folded in corpus.own_names[key]:
        written.update(corpus.papers_by_name.get(folded, ()))
    return written


def _frequent_coauthors(corpus: Corpus, key: str, tracked: list[str]) -> list[str]:
    """The most frequent co-authors (folded) who are neither the author nor tracked."""
    excluded = set(corpus.own_names[key])
    for other in tracked:
        excluded |= corpus.own_names[other]
    counts: Counter[str] = Counter()
    for row in corpus.profile_papers[key]:
        counts.update(corpus.authors[row] - excluded)
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return ranked[:COAUTHOR_CANDIDATES]


def _recent(corpus: Corpus, folded: str) -> list[int]:
    """A co-author's :data:`COAUTHOR_PAPERS` most recent papers: their topic."""
    rows = corpus.papers_by_name[folded]
    if len(rows) <= COAUTHOR_PAPERS:
        return rows
    return sorted(rows, key=lambda row: (corpus.years[row], row))[-COAUTHOR_PAPERS:]


def _coauthor_candidates(
    corpus: Corpus, key: str, names: list[str], rows: list[int], scores: tuple[Vector, Vector]
) -> _Candidates:
    mine = set(corpus.profile_papers[key])
    written = [set(corpus.papers_by_name[name]) for name in names]
    return _Candidates(
        names=[corpus.display_name(name) for name in names],
        keys=[None] * len(names),
        rows=rows,
        written=written,
        shared=np.array([len(w & mine) for w in written], dtype=np.float64),
        topic=scores[0],
        category=scores[1],
    )


def _best(
    corpus: Corpus, space: _Space, key: str, me: int, found: _Candidates
) -> list[SimilarAuthor]:
    coauthor = coauthorship(found.shared)
    score = WEIGHTS[0] * coauthor + WEIGHTS[1] * found.topic + WEIGHTS[2] * found.category
    mine = set(corpus.profile_papers[key])
    result = []
    for j in _top(score, found.names):
        shared = sorted(found.written[j] & mine)
        terms = space.shared_terms(me, found.rows[j])
        categories = space.shared_categories(me, found.rows[j])
        result.append(
            SimilarAuthor(
                name=found.names[j],
                key=found.keys[j],
                score=round(float(score[j]), 4),
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


def _top(score: Vector, names: list[str]) -> list[int]:
    """Indexes of the best :data:`TOP_SIMILAR` scores >= :data:`MIN_SCORE`, ties by name."""
    rounded = np.round(score, 6)
    eligible = np.flatnonzero(rounded >= MIN_SCORE)
    if len(eligible) > TOP_SIMILAR:  # keep every candidate tied with the last one kept
        cutoff = np.partition(rounded[eligible], -TOP_SIMILAR)[-TOP_SIMILAR]
        eligible = eligible[rounded[eligible] >= cutoff]
    ranked = sorted(eligible.tolist(), key=lambda j: (-rounded[j], names[j]))
    return ranked[:TOP_SIMILAR]


def _years(corpus: Corpus, rows: Sequence[int]) -> tuple[int, int] | None:
    years = [corpus.years[row] for row in rows]
    return (min(years), max(years)) if years else None


def _span(years: tuple[int, int] | None) -> str:
    if years is None:
        return ""
    return f" ({years[0]})" if years[0] == years[1] else f" ({years[0]}-{years[1]})"


def _clip(values: Any) -> Vector:
    return np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)


class _Space:
    """TF-IDF and category vectors of every paper, then centroids of groups of papers."""

    topics: Any
    cats: Any

    def __init__(self, corpus: Corpus) -> None:
        self.paper_topics, self.terms = _tfidf(corpus.texts)
        vectorizer = CountVectorizer(token_pattern=r"\S+", lowercase=False)
        self.paper_cats = vectorizer.fit_transform(corpus.categories).astype(np.float32)
        self.category_names = vectorizer.get_feature_names_out()

    def fit_centroids(self, groups: Sequence[Sequence[int]]) -> None:
        """Row ``i`` of ``topics`` and ``cats`` becomes the centroid of ``groups[i]``."""
        membership = _membership(groups, self.paper_topics.shape[0])
        self.topics = _prune(_unit_rows(membership @ self.paper_topics), CENTROID_TERMS)
        self.cats = _unit_rows(membership @ self.paper_cats)

    def pair_similarity(self, left: Any, right: Any) -> tuple[Vector, Vector]:
        """Topic and category cosines of the centroid rows ``left[i]`` and ``right[i]``."""
        if len(left) == 0:
            return np.zeros(0), np.zeros(0)
        topic = self.topics[left].multiply(self.topics[right]).sum(axis=1)
        category = self.cats[left].multiply(self.cats[right]).sum(axis=1)
        return _clip(topic).ravel(), _clip(category).ravel()

    def shared_terms(self, me: int, other: int) -> tuple[str, ...]:
        return _top_shared(self.topics, me, other, self.terms, TERMS_SHOWN)

    def shared_categories(self, me: int, other: int) -> tuple[str, ...]:
        return _top_shared(self.cats, me, other, self.category_names, CATEGORIES_SHOWN)


def _top_shared(matrix: Any, me: int, other: int, names: Any, count: int) -> tuple[str, ...]:
    """The features contributing most to the dot product of two rows (largest first)."""
    a, b = _row(matrix, me), _row(matrix, other)
    common, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    if len(common) == 0:
        return ()
    product = a[1][ia] * b[1][ib]
    best = np.lexsort((common, -product))[:count]
    return tuple(str(names[common[i]]) for i in best)


def _row(matrix: Any, i: int) -> tuple[Any, Any]:
    start, stop = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]


def _tfidf(texts: Sequence[str]) -> tuple[Any, Any]:
    """Paper vectors; few papers keep every term (the usual pruning would drop them all)."""
    small = len(texts) < 20
    vectorizer = TfidfVectorizer(
        stop_words="english",
        min_df=1 if small else 2,
        max_df=1.0 if small else 0.5,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[^\W\d_][\w-]*[^\W_]\b",
        dtype=np.float32,
    )
    try:
        return vectorizer.fit_transform(texts), vectorizer.get_feature_names_out()
    except ValueError:  # no term left (only stop words, say): no topic similarity
        return sp.csr_matrix((len(texts), 0), dtype=np.float32), np.array([], dtype=object)


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
