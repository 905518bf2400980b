"""Co-authors' topic and category centroids, computed once a refresh and kept across its
passes: :class:`CoauthorVectors`.

A list reads the centroids of its profile's co-authors, each over that co-author's
:data:`~.similar.COAUTHOR_PAPERS` most recent papers (:mod:`.similar`). Co-authors are
shared: in a corpus where a few hundred people co-author most papers, every pass of a
full recompute would read and vectorise the same recent papers again. A centroid depends
only on the co-author's papers and the model, so it is computed the first time a pass
asks for it and kept, sparse (:data:`~.similar.CENTROID_TERMS` terms at most), with the
name as it is most often written; at most :data:`KEPT_COAUTHORS` names are kept, the
least recently asked for leaving first, so memory stays bounded whatever the corpus.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..store import CorpusRows
from ..topics import TopicModel
from .corpus import load_recent, shown_name
from .similar import COAUTHOR_PAPERS, Space, recent_papers

KEPT_COAUTHORS = 20_000
"""Co-authors whose centroids are kept at once (about 3 KB each)."""
NAMES_PER_READ = 500
"""Co-authors whose recent papers are read and vectorised at once (memory)."""


@dataclass(frozen=True, slots=True)
class _Kept:
    topic: tuple[Any, Any]
    """Columns and values of the topic centroid."""
    cats: tuple[Any, Any]
    shown: str
    papers: int


@dataclass(frozen=True, slots=True)
class CoauthorRows:
    """Row ``i`` of :attr:`topics` and :attr:`cats` is the centroid of ``names[i]``."""

    names: list[str]
    topics: Any
    cats: Any
    shown: list[str]
    """Each name as it is most often written."""
    papers: list[int]
    """How many papers each centroid was computed from (0: none stored)."""


class CoauthorVectors:
    """The centroids of co-authors (folded names) read in one refresh's snapshot."""

    def __init__(self, rows: CorpusRows, model: TopicModel, limit: int = KEPT_COAUTHORS) -> None:
        self.rows, self.model, self.limit = rows, model, limit
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self.computed = 0
        """Centroids computed so far (a name computed again after leaving counts again)."""

    def of(self, names: Sequence[str]) -> CoauthorRows:
        """The centroids of ``names``, in that order (repeats allowed)."""
        wanted = list(dict.fromkeys(names))
        missing = [name for name in wanted if name not in self._kept]
        found = {name: self._kept[name] for name in wanted if name in self._kept}
        for start in range(0, len(missing), NAMES_PER_READ):
            found.update(self._compute(missing[start : start + NAMES_PER_READ]))
        for name in wanted:
            self._kept[name] = found[name]
            self._kept.move_to_end(name)
        while len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        entries = [found[name] for name in names]
        return CoauthorRows(
            names=list(names),
            topics=_stack([e.topic for e in entries], len(self.model.terms)),
            cats=_stack([e.cats for e in entries], len(self.model.categories)),
            shown=[e.shown for e in entries],
            papers=[e.papers for e in entries],
        )

    def centroids(self, names: list[str]) -> tuple[Any, Any, list[str]]:
        """:meth:`of` as :func:`~.similar.similar_lists` takes it."""
        found = self.of(names)
        return found.topics, found.cats, found.shown

    def _compute(self, names: list[str]) -> dict[str, _Kept]:
        corpus = load_recent(self.rows, names, COAUTHOR_PAPERS)
        groups = [recent_papers(corpus, name) for name in names]
        topics, cats = Space(corpus, self.model).centroids(groups)
        spellings: dict[str, dict[str, int]] = {}
        for folded, name, count in self.rows.spellings(names):
            spellings.setdefault(folded, {})[name] = count
        self.computed += len(names)
        return {
            name: _Kept(
                topic=_row(topics, i),
                cats=_row(cats, i),
                shown=shown_name(name, spellings.get(name, {})),
                papers=len(groups[i]),
            )
            for i, name in enumerate(names)
        }


def _row(matrix: Any, i: int) -> tuple[Any, Any]:
    start, stop = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:stop].copy(), matrix.data[start:stop].copy()


def _stack(parts: Sequence[tuple[Any, Any]], width: int) -> Any:
    """A CSR matrix of sparse rows computed here (sorted columns, float32)."""
    indptr = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(columns) for columns, _ in parts], out=indptr[1:])
    if not parts:
        return sp.csr_matrix((0, width), dtype=np.float32)
    indices = np.concatenate([columns for columns, _ in parts])
    data = np.concatenate([values for _, values in parts]).astype(np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(parts), width))
