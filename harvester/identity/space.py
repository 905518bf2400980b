"""The candidates as matrices (co-authors, TF-IDF text, categories, years), and every
candidate measured against the accepted papers (:class:`Evidence`): the evidence space
:func:`harvester.identity.judge` decides in (:mod:`.judgement`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..names import fold_name
from .model import (
    CATEGORY_FOREIGN,
    CATEGORY_SAME,
    HALF_SATURATION,
    MIN_PULL,
    TEXT_FOREIGN,
    TEXT_FULL,
    TEXT_SAME,
    WEIGHTS,
    YEAR_SLACK,
    Candidate,
)

__all__ = ["Evidence", "Field", "Space", "leave_one_out_cosine"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Every candidate measured against the accepted papers (leave-one-out for those)."""

    shared: Any
    """Co-authors shared with accepted papers."""
    weight: Any
    """Accepted papers those co-authors are on, summed."""
    elsewhere: Any
    """Candidates of another body the paper's unshared co-authors are on, summed."""
    pull: Any
    name_accepted: Any
    """Per co-author name (columns of ``Space.coauthors``): accepted papers they are on."""
    text: Any
    category: Any
    """NaN when the paper or the accepted papers have no categories."""
    year: Any
    score: Any

    @property
    def vouched(self) -> Any:
        """Shares a co-author, and its co-authors point mostly at accepted papers."""
        return (self.shared > 0) & (self.pull >= MIN_PULL)

    @property
    def unlike(self) -> Any:
        """Categories unlike the accepted ones, and text too."""
        known = ~np.isnan(self.category)
        return (
            known & (np.nan_to_num(self.category) < CATEGORY_FOREIGN) & (self.text < TEXT_FOREIGN)
        )

    @property
    def foreign(self) -> Any:
        """Clearly someone else's: no co-author shared, unlike in field and text."""
        return (self.shared == 0) & self.unlike

    @property
    def same_field(self) -> Any:
        """Categories (when known) and text like the accepted papers'."""
        like = np.isnan(self.category) | (np.nan_to_num(self.category) >= CATEGORY_SAME)
        return like & (self.text >= TEXT_SAME)


class Space:
    """The candidates, ordered by id, as matrices: co-authors, TF-IDF text, categories."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        ordered = sorted(candidates, key=lambda c: c.arxiv_id)
        self.ids = [c.arxiv_id for c in ordered]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("a candidate is given twice")
        self.index = {arxiv_id: i for i, arxiv_id in enumerate(self.ids)}
        self.spellings = [_spellings(c.coauthors) for c in ordered]
        self.names = sorted({name for names in self.spellings for name in names})
        self.column = {name: j for j, name in enumerate(self.names)}
        self.coauthors = _incidence(self.spellings, self.names)
        self.category_names = sorted({k for c in ordered for k in c.categories})
        self.categories = [tuple(dict.fromkeys(c.categories)) for c in ordered]
        self.cats = _incidence(self.categories, self.category_names)
        self.topics = _text_vectors([c.text for c in ordered])
        self.years = np.array([c.year for c in ordered], dtype=np.int64)
        self.entries = np.repeat(np.arange(len(ordered)), np.diff(self.coauthors.indptr))

    def mask(self, ids: Collection[str]) -> Any:
        found = np.zeros(len(self.ids), dtype=bool)
        found[[self.index[i] for i in set(ids) if i in self.index]] = True
        return found

    def evidence(self, accepted: Any, elsewhere: Any = None) -> Evidence:
        """``elsewhere``: the unaccepted candidates whose co-authors pull away from the
        accepted papers (by default all of them)."""
        away = ~accepted if elsewhere is None else elsewhere & ~accepted
        shared, weight, others, pull, per_name = self._coauthor_counts(accepted, away)
        text = np.clip(leave_one_out_cosine(self.topics, accepted), 0.0, 1.0)
        category = leave_one_out_cosine(self.cats, accepted, unknown=np.nan)
        year = self._year_fit(accepted)
        parts = (
            _saturated(weight) * pull,
            np.minimum(text / TEXT_FULL, 1.0),
            np.where(np.isnan(category), 0.5, category),
            year,
        )
        score = sum(w * part for w, part in zip(WEIGHTS, parts, strict=True))
        return Evidence(shared, weight, others, pull, per_name, text, category, year, score)

    def _coauthor_counts(self, accepted: Any, away: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Per candidate: co-authors shared with accepted papers, the accepted papers they
        are on, the ``away`` candidates the unshared ones are on, and the pull; per name,
        its accepted papers. A paper is no evidence for itself."""
        mine = accepted.astype(np.float64)
        theirs = away.astype(np.float64)
        on_accepted = self.coauthors.T @ mine
        on_others = self.coauthors.T @ theirs
        rows, cols = self.entries, self.coauthors.indices
        vouching = on_accepted[cols] - mine[rows]
        others = np.where(vouching == 0, on_others[cols] - theirs[rows], 0.0)
        n = len(self.ids)
        shared = np.bincount(rows, weights=vouching > 0, minlength=n)
        weight = np.bincount(rows, weights=vouching, minlength=n)
        elsewhere = np.bincount(rows, weights=others, minlength=n)
        towards = np.bincount(rows, weights=_saturated(vouching), minlength=n)
        away = np.bincount(rows, weights=_saturated(others), minlength=n)
        pull = np.divide(towards, towards + away, out=np.zeros(n), where=towards > 0)
        return shared, weight, elsewhere, pull, on_accepted

    def _year_fit(self, accepted: Any) -> Any:
        """1 inside the accepted span widened by :data:`YEAR_SLACK`, less further out."""
        if not accepted.any():
            return np.zeros(len(self.ids))
        low, high = self.span(accepted)
        distance = np.maximum(low - YEAR_SLACK - self.years, self.years - high - YEAR_SLACK)
        return np.clip(1.0 - np.maximum(distance, 0) / 5.0, 0.0, 1.0)

    def span(self, rows: Any) -> tuple[int, int]:
        years = self.years[rows]
        return int(years.min()), int(years.max())

    def pairs_unlike(self, left: Any, right: Any) -> Any:
        """For each pair of papers: both have categories, unlike, and texts not alike
        (two abstracts share fewer words than a paper and a centroid: :data:`TEXT_SAME`)."""
        text = np.asarray(self.topics[left].multiply(self.topics[right]).sum(axis=1)).ravel()
        return _unlike(self.cats[left], self.cats[right], text, TEXT_SAME)

    def field(self, rows: Any) -> Field:
        return Field(_summed(self.cats, rows), _summed(self.topics, rows))


@dataclass(slots=True)
class Field:
    """What a group of papers is about: its summed category and TF-IDF vectors."""

    cats: Any
    topics: Any

    def add(self, other: Field) -> None:
        self.cats = self.cats + other.cats
        self.topics = self.topics + other.topics

    def text_cosine(self, other: Field) -> float:
        return _cosine(self.topics, other.topics)

    def unlike(self, other: Field) -> bool:
        """Clearly another field: texts unlike, categories known and not alike (a group's
        categories mix, so a few cross-lists do not make the same field)."""
        text = np.array([self.text_cosine(other)])
        return bool(_unlike(self.cats, other.cats, text, category_below=CATEGORY_SAME)[0])

    def same_categories(self, other: Field) -> bool:
        """Categories alike, or unknown on either side."""
        known = bool(np.any(self.cats)) and bool(np.any(other.cats))
        return not known or _cosine(self.cats, other.cats) >= CATEGORY_SAME

    def alike(self, other: Field) -> bool:
        """The same field: categories (or texts) alike."""
        cats = _cosine(self.cats, other.cats)
        return cats >= CATEGORY_SAME or self.text_cosine(other) >= TEXT_SAME


def _saturated(count: Any) -> Any:
    """``s / (s + 2)``: the first shared papers count most (as in similar authors)."""
    return count / (count + HALF_SATURATION)


def _spellings(coauthors: Sequence[str]) -> dict[str, str]:
    """Folded name -> the first spelling of it on the paper (names folding to nothing
    are no evidence)."""
    found: dict[str, str] = {}
    for name in coauthors:
        found.setdefault(fold_name(name), name)
    found.pop("", None)
    return found


def _incidence(rows: Sequence[Collection[str]], columns: Sequence[str]) -> Any:
    """A CSR 0/1 matrix: row ``i`` has a 1 in the column of each of ``rows[i]``."""
    position = {name: j for j, name in enumerate(columns)}
    cols = [sorted(position[name] for name in row) for row in rows]
    indptr = np.cumsum([0] + [len(c) for c in cols])
    indices = np.array([j for c in cols for j in c], dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), len(columns)))


def _text_vectors(texts: Sequence[str]) -> Any:
    """TF-IDF rows (unit length, or zero) with the settings of similar authors
    (:func:`harvester.topics.tfidf_rows`), imported when called: scikit-learn is slow to
    import, and a command that never consults the evidence should not pay for it."""
    from ..topics import tfidf_rows

    return sp.csr_matrix(tfidf_rows(texts), dtype=np.float64)


def leave_one_out_cosine(rows: Any, accepted: Any, unknown: float = 0.0) -> Any:
    """Cosine of each row with the sum of the accepted rows, its own row left out."""
    mine = accepted.astype(np.float64)
    total = np.asarray(rows.T @ mine).ravel()
    dots = np.asarray(rows @ total).ravel()
    own = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
    dot = dots - mine * own
    norm = np.sqrt(np.maximum(total @ total - 2 * mine * dots + mine * own, 0.0) * own)
    return np.divide(dot, norm, out=np.full(len(own), unknown), where=norm > 1e-12)


def _summed(rows: Any, members: Any) -> Any:
    return np.asarray(rows[members].sum(axis=0)).ravel()


def _cosine(a: Any, b: Any) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0


def _unlike(
    left_cats: Any,
    right_cats: Any,
    text: Any,
    text_below: float = TEXT_FOREIGN,
    category_below: float = CATEGORY_FOREIGN,
) -> Any:
    """Row by row: both sides have categories, their cosine is below ``category_below``,
    and ``text`` is below ``text_below``."""
    a, b = sp.csr_matrix(left_cats), sp.csr_matrix(right_cats)
    dots = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    norms = np.sqrt(_row_squares(a) * _row_squares(b))
    cos = np.divide(dots, norms, out=np.zeros(len(norms)), where=norms > 0)
    return (norms > 0) & (cos < category_below) & (text < text_below)


def _row_squares(matrix: Any) -> Any:
    return np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
