"""The rows of the derived data as records, each decoded and checked as it is read.

A stored row of the similar authors (the model, a profile's vectors and names, a change,
a list's score) that does not decode, or whose parts disagree, raises ``ValueError`` or
``TypeError``; :func:`~.problems.derivable` makes that a
:class:`~harvester.errors.DerivedDataError`, which a refresh answers by recomputing from
the papers (:mod:`harvester.profile.refresh`). The vectors' values are checked against
the model where both are known (:mod:`harvester.profile.derive`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from ..records import SimilarAuthor

MAX_PAPERS = 2**31 - 1
"""More papers than a model can have been fitted on: a tampered count."""


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A fitted model as stored (see :mod:`harvester.topics`)."""

    version: str
    papers: int
    terms: tuple[str, ...]
    idf: bytes
    categories: tuple[str, ...]
    fitted_at: datetime


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """What a profile's similar authors were computed from (a ``similar_profile`` row)."""

    key: str
    name: str
    own_names: frozenset[str]
    coauthors: tuple[str, ...]
    """The co-authors (folded) its list reads..."""
    coauthor_papers: tuple[int, ...]
    """...and how many of its papers each wrote."""
    topic: tuple[bytes, bytes]
    """Term numbers (int32) and weights (float32) of the topic centroid."""
    categories: tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class StoredCentroid:
    """A co-author's centroids as a refresh stored them (a ``coauthor_centroid`` row)."""

    name: str
    """The folded name."""
    shown: str
    papers: int
    """How many of their recent papers the centroids were computed from (0: none)."""
    topic: tuple[bytes, bytes]
    """Term numbers (int32) and weights (float32), as in :class:`StoredProfile`."""
    categories: tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class Change:
    change_id: int
    arxiv_id: str
    former_author: str | None


def lines_of(value: str) -> list[str]:
    return value.split("\n") if value else []


def stored_profile(row: Any) -> StoredProfile:
    """A ``similar_profile`` row, its text and the shape of its vectors checked (their
    values are checked against the model: :func:`harvester.profile.derive`)."""
    coauthors = [_coauthor(line) for line in lines_of(text_of(row.coauthors))]
    return StoredProfile(
        key=text_of(row.author_key),
        name=text_of(row.name),
        own_names=frozenset(lines_of(text_of(row.own_names))),
        coauthors=tuple(name for name, _ in coauthors),
        coauthor_papers=tuple(count for _, count in coauthors),
        topic=_vector(row.topic_terms, row.topic_weights),
        categories=_vector(row.category_terms, row.category_weights),
    )


def stored_centroid(row: Any) -> StoredCentroid:
    """A ``coauthor_centroid`` row, its text, count and the shape of its vectors checked
    (their values are checked against the model: :mod:`harvester.profile.coauthors`)."""
    papers = row.papers
    if isinstance(papers, bool) or not isinstance(papers, int) or not 0 <= papers <= MAX_PAPERS:
        raise ValueError(f"papers {str(papers)[:40]!r}")
    return StoredCentroid(
        name=text_of(row.folded_name),
        shown=text_of(row.shown),
        papers=papers,
        topic=_vector(row.topic_terms, row.topic_weights),
        categories=_vector(row.category_terms, row.category_weights),
    )


def similar_author_of(r: Any) -> SimilarAuthor:
    """A ``similar_author`` row (its key, name, scores and reason), checked."""
    if not isinstance(r.shared_papers, int) or r.shared_papers < 0:
        raise ValueError(f"shared papers {str(r.shared_papers)[:40]!r}")
    return SimilarAuthor(
        name=text_of(r.similar_name),
        key=None if r.similar_key is None else text_of(r.similar_key),
        score=score_of(r.score),
        shared_papers=r.shared_papers,
        coauthor_score=score_of(r.coauthor_score),
        topic_score=score_of(r.topic_score),
        category_score=score_of(r.category_score),
        shared_terms=tuple(t for t in text_of(r.shared_terms).split(", ") if t),
        shared_categories=tuple(text_of(r.shared_categories).split()),
        reason=text_of(r.reason),
    )


def change_of(change_id: Any, arxiv_id: Any, folded_name: Any) -> Change:
    former = None if folded_name is None else text_of(folded_name)
    return Change(int(change_id), text_of(arxiv_id), former)


def model_of(
    version: Any, papers: Any, terms: Any, idf: Any, categories: Any, fitted_at: Any
) -> StoredModel:
    """The stored model, checked: terms and categories sorted (as written), one idf
    weight (float32) per term."""
    version, papers, fitted_at = header_of(version, papers, fitted_at)
    words, weights = tuple(lines_of(text_of(terms))), _bytes(idf)
    names = tuple(text_of(categories).split())
    if len(weights) != 4 * len(words):
        raise ValueError(f"{len(words)} terms but {len(weights)} bytes of weights")
    if not (_ascending(words) and _ascending(names)):
        raise ValueError("its terms or categories are not in the order they were written in")
    return StoredModel(version, papers, words, weights, names, fitted_at)


def _ascending(values: Sequence[str]) -> bool:
    return all(a < b for a, b in pairwise(values))


def header_of(version: Any, papers: Any, fitted_at: Any) -> tuple[str, int, datetime]:
    if not isinstance(papers, int) or not 0 <= papers <= MAX_PAPERS:
        raise ValueError(f"papers {papers!r}")
    if not isinstance(fitted_at, datetime):
        raise TypeError(f"fitted_at {fitted_at!r}")
    return text_of(version), papers, fitted_at


def _coauthor(line: str) -> tuple[str, int]:
    name, tab, count = line.partition("\t")
    if not tab or not count.isdigit():
        raise ValueError(f"co-author line {line[:40]!r} is not a name, a tab and a count")
    return name, int(count)


def _vector(terms: Any, weights: Any) -> tuple[bytes, bytes]:
    """Term numbers (int32) and weights (float32), as many of one as of the other."""
    numbers, values = _bytes(terms), _bytes(weights)
    if len(numbers) % 4 or len(numbers) != len(values):
        raise ValueError(f"{len(numbers)} bytes of terms and {len(values)} of weights")
    return numbers, values


def score_of(value: Any) -> float:
    """A stored score of the similar authors: a number from 0 to 1 (NaN, an infinity, text
    or a boolean is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"score {str(value)[:40]!r} is not a number from 0 to 1")
    return float(value)


def text_of(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{type(value).__name__} where text was stored")
    return value


def _bytes(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{type(value).__name__} where bytes were stored")
    return bytes(value)
