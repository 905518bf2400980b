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

A refresh by change also reads back the centroids an earlier refresh stored
(``coauthor_centroid``), except those of the names its changes touched (an author of a
changed paper, or a former one): a centroid changes only with the name's papers, whose
every change is noted. A stored row that does not decode or does not fit the model is
computed again, never used. What a refresh computed it stores (:meth:`CoauthorVectors.to_store`,
those still kept), and a full recompute replaces them all, so the lists come out as a
full recompute with the same model computes them (``tests/test_derived_centroids.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..store import CorpusRows, StoredCentroid
from ..topics import TopicModel
from .corpus import load_recent, shown_name
from .similar import COAUTHOR_PAPERS, Space, recent_papers

KEPT_COAUTHORS = 20_000
"""Co-authors whose centroids are kept at once (about 3 KB each)."""
NAMES_PER_READ = 500
"""Co-authors whose recent papers are read and vectorised at once (memory)."""
UNIT_TOLERANCE = 1e-3
"""How far from length 1 a stored centroid (float32) may be."""


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

    def __init__(
        self,
        rows: CorpusRows,
        model: TopicModel,
        limit: int = KEPT_COAUTHORS,
        *,
        reuse: bool = False,
        touched: Collection[str] = (),
    ) -> None:
        """``reuse``: read back the stored centroids of the names not ``touched`` (a
        refresh by change with the stored model); else compute every one."""
        self.rows, self.model, self.limit = rows, model, limit
        self.reuse, self.touched = reuse, frozenset(touched)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._fresh: set[str] = set()
        """Names computed in this refresh (to store)."""
        self.computed = 0
        """Centroids computed so far (a name computed again after leaving counts again)."""
        self.read = 0
        """Stored centroids read back and used."""

    def of(self, names: Sequence[str]) -> CoauthorRows:
        """The centroids of ``names``, in that order (repeats allowed)."""
        found = self._get(names)
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

    def unchanged(self, names: Collection[str]) -> set[str]:
        """Those of ``names`` (touched by a change) whose stored centroid, name as shown and
        count of papers are exactly what they are now: the lists that read them were
        computed from what they still are."""
        before = self._read(sorted(names))
        now = self._get(sorted(before))
        return {name for name, old in before.items() if _same(old, now[name])}

    def to_store(self) -> list[StoredCentroid]:
        """The centroids computed in this refresh and still kept, as stored."""
        return [
            StoredCentroid(
                name=name,
                shown=kept.shown,
                papers=kept.papers,
                topic=_bytes(kept.topic),
                categories=_bytes(kept.cats),
            )
            for name, kept in self._kept.items()
            if name in self._fresh
        ]

    def _get(self, names: Sequence[str]) -> dict[str, _Kept]:
        """Each of ``names`` kept, read back or computed; kept for the next call."""
        wanted = list(dict.fromkeys(names))
        found = {name: self._kept[name] for name in wanted if name in self._kept}
        missing = [name for name in wanted if name not in found]
        if self.reuse:
            stored = self._read([name for name in missing if name not in self.touched])
            self.read += len(stored)
            found.update(stored)
            missing = [name for name in missing if name not in stored]
        for start in range(0, len(missing), NAMES_PER_READ):
            found.update(self._compute(missing[start : start + NAMES_PER_READ]))
        for name in wanted:
            self._kept[name] = found[name]
            self._kept.move_to_end(name)
        while len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return found

    def _read(self, names: list[str]) -> dict[str, _Kept]:
        """The stored centroids of ``names`` that fit the model (see :func:`_fits`)."""
        found: dict[str, _Kept] = {}
        if not names:
            return found
        terms, categories = len(self.model.terms), len(self.model.categories)
        for name, row in self.rows.stored_centroids(names).items():
            topic, cats = _arrays(row.topic), _arrays(row.categories)
            if not (0 <= row.papers <= COAUTHOR_PAPERS):
                continue
            if row.papers == 0 and (len(topic[0]) or len(cats[0])):
                continue
            if _fits(*topic, terms) and _fits(*cats, categories):
                found[name] = _Kept(topic=topic, cats=cats, shown=row.shown, papers=row.papers)
        return found

    def _compute(self, names: list[str]) -> dict[str, _Kept]:
        corpus = load_recent(self.rows, names, COAUTHOR_PAPERS)
        groups = [recent_papers(corpus, name) for name in names]
        topics, cats = Space(corpus, self.model).centroids(groups)
        spellings: dict[str, dict[str, int]] = {}
        for folded, name, count in self.rows.spellings(names):
            spellings.setdefault(folded, {})[name] = count
        self.computed += len(names)
        self._fresh.update(names)
        return {
            name: _Kept(
                topic=_row(topics, i),
                cats=_row(cats, i),
                shown=shown_name(name, spellings.get(name, {})),
                papers=len(groups[i]),
            )
            for i, name in enumerate(names)
        }


def _arrays(stored: tuple[bytes, bytes]) -> tuple[Any, Any]:
    return np.frombuffer(stored[0], dtype=np.int32), np.frombuffer(stored[1], dtype=np.float32)


def _bytes(part: tuple[Any, Any]) -> tuple[bytes, bytes]:
    columns, values = part
    return columns.astype(np.int32).tobytes(), values.astype(np.float32).tobytes()


def _fits(columns: Any, values: Any, width: int) -> bool:
    """A stored sparse row: as many values as columns, distinct increasing columns below
    ``width``, finite values of length 1 (or no entry at all: no terms)."""
    if len(columns) != len(values):
        return False
    if len(columns) == 0:
        return True
    if columns[0] < 0 or columns[-1] >= width or not np.all(np.diff(columns) > 0):
        return False
    if not np.all(np.isfinite(values)):
        return False
    length = float(np.sqrt(np.sum(values.astype(np.float64) ** 2)))
    return abs(length - 1.0) <= UNIT_TOLERANCE


def _same(old: _Kept, now: _Kept) -> bool:
    """The same centroids as stored (float32), name as shown and count of papers."""
    if (old.shown, old.papers) != (now.shown, now.papers):
        return False
    return all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], np.asarray(b[1], dtype=np.float32))
        for a, b in ((old.topic, now.topic), (old.cats, now.cats))
    )


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
