"""Texts as TF-IDF vectors: the fitted part of the similar-authors method (a vocabulary,
its idf weights, the category vocabulary), also used to weigh who is who.

The model is fitted on every paper the database holds, streamed (:func:`fit_model` keeps
document frequencies, never the texts), and stored with the similar authors. Between two
fits, the vectors of a changed paper or profile are computed with the stored model, so
updating the profiles a cycle touched gives exactly what a full recompute with that model
gives (``tests/test_derived.py``). The model is fitted again when the corpus has grown by
:data:`REFIT_GROWTH` since, when the method's :data:`VERSION` changes, and on
``harvest refresh --all``.

TF-IDF as scikit-learn computes it: English stop words, words of two or more letters,
sublinear term frequency, smooth idf ``ln((1 + n) / (1 + df)) + 1``, rows of unit length.
Terms in more than half the papers or in a single one are dropped, except in corpora of
fewer than :data:`SMALL_CORPUS` papers (the usual pruning would drop every term).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

VERSION = "2"
"""Part of what is stored with the model: a change to the method must bump it (refit)."""
REFIT_GROWTH = 0.10
"""The model is refitted once the corpus has this many more papers (as a share) than it
was fitted on."""
SMALL_CORPUS = 20
TOKENS = r"(?u)\b[^\W\d_][\w-]*[^\W_]\b"


def _vectorizer(**options: Any) -> Any:
    """scikit-learn's TF-IDF with the method's settings. scikit-learn, scipy and numpy are
    imported here, by the first text weighed, never by importing this module: a quiet
    cycle decides it has nothing to weigh without paying a second for them."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    settings = {"stop_words": "english", "sublinear_tf": True, "token_pattern": TOKENS}
    return TfidfVectorizer(**settings, dtype=np.float32, **options)


@dataclass(frozen=True, slots=True)
class TopicModel:
    """Terms (sorted), their idf weights, the categories (sorted) and the corpus size."""

    terms: tuple[str, ...]
    idf: Any
    categories: tuple[str, ...]
    papers: int
    version: str = VERSION

    def topics(self, texts: Sequence[str]) -> Any:
        """Unit TF-IDF rows of ``texts`` (CSR, float32); no terms: zero columns."""
        import numpy as np
        import scipy.sparse as sp

        if not self.terms:
            return sp.csr_matrix((len(texts), 0), dtype=np.float32)
        vectorizer = _vectorizer(vocabulary=list(self.terms))
        vectorizer.idf_ = self.idf
        return vectorizer.transform(texts).tocsr()

    def category_counts(self, categories: Sequence[str]) -> Any:
        """Rows of category counts (space separated lists) over :attr:`categories`."""
        import numpy as np
        import scipy.sparse as sp

        column = {name: i for i, name in enumerate(self.categories)}
        rows, cols = [], []
        for row, listed in enumerate(categories):
            for name in set(listed.split()):
                if name in column:
                    rows.append(row)
                    cols.append(column[name])
        data = np.ones(len(rows), dtype=np.float32)
        shape = (len(categories), len(self.categories))
        return sp.csr_matrix((data, (rows, cols)), shape=shape)


def outgrown(fitted_on: int, papers: int) -> bool:
    """Has a corpus of ``papers`` outgrown a model fitted on ``fitted_on`` papers?"""
    grown = papers - fitted_on > REFIT_GROWTH * fitted_on
    return grown or fitted_on < SMALL_CORPUS <= papers


def fit_model(papers: Iterable[tuple[str, str]]) -> TopicModel:
    """The model of ``(text, categories)`` pairs, read once as they come."""
    import numpy as np

    analyze = _vectorizer().build_analyzer()
    frequency: Counter[str] = Counter()
    categories: set[str] = set()
    n = 0
    for text, listed in papers:
        frequency.update(set(analyze(text)))
        categories.update(listed.split())
        n += 1
    low, high = (1, n) if n < SMALL_CORPUS else (2, 0.5 * n)
    terms = sorted(term for term, df in frequency.items() if low <= df <= high)
    df = np.array([frequency[term] for term in terms], dtype=np.float64)
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    return TopicModel(tuple(terms), idf, tuple(sorted(categories)), n)


def tfidf_rows(texts: Sequence[str]) -> Any:
    """Unit TF-IDF rows of ``texts`` with a model fitted on them alone."""
    return fit_model((text, "") for text in texts).topics(texts)
