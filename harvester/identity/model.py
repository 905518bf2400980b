"""What the identity evidence takes and gives (:func:`harvester.identity.judge`), and
the numbers it decides by (see :mod:`.judgement` for how).

No numpy here: the records cost nothing to import, only judging does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary import Decision

__all__ = ["Candidate", "Judgement", "Verdict"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper whose author list names the profile, reduced to what identity needs."""

    arxiv_id: str
    coauthors: tuple[str, ...]
    """Display names of the other authors (not the tracked person), as written."""
    categories: tuple[str, ...]
    """arXiv categories, primary first; empty when unknown."""
    text: str
    """Title + ". " + abstract."""
    year: int


@dataclass(frozen=True, slots=True)
class Verdict:
    arxiv_id: str
    decision: Decision
    score: float
    """0..1, rounded to 4 places: how strongly the evidence ties the paper to the
    accepted ones, whatever decided it (a feed paper with a low score is worth a look)."""
    reason: str
    """One line a person can check: names with counts, categories, similarity, years."""


@dataclass(frozen=True, slots=True)
class Judgement:
    verdicts: dict[str, Verdict]
    """By arxiv_id, one per candidate."""
    ambiguous: bool
    """The candidates split into clearly separate bodies and no seed settled which."""


WEIGHTS = (0.55, 0.2, 0.2, 0.05)
"""Co-authors, text, categories, year (they sum to 1)."""
HALF_SATURATION = 2
"""Accepted papers of shared co-authors at which the co-author part is 0.5 (as similar)."""
ACCEPT_SCORE = 0.4
MIN_PULL = 0.5
"""Share of a paper's co-author weight that must point at accepted papers."""
TEXT_FULL = 0.3
"""Text cosine at which the text part is full (one author's abstracts rarely exceed it)."""
TEXT_FOREIGN = 0.06
CATEGORY_FOREIGN = 0.2
CATEGORY_SAME = 0.3
TEXT_SAME = 0.1
TEXT_MARGIN = 0.05
BODY_MIN = 3
"""Unaccepted candidates linked by their own co-authors that can be another body."""
BRIDGE_SHARE = 1 / 3
"""Share of a body's papers a co-author must be on to bind it to their other papers
(:mod:`.communities`): a collaborator of the whole line of work, not a visitor."""
RIVAL_SHARE = 0.25
"""A body cut off by a bridge this large, relative to the other, is a namesake's: text
never merges them (:mod:`.communities`)."""
STRAY_SHARE = 0.2
"""A body of work whose papers are claimed less often than this is not the author's: its
claims are mistakes, held (:func:`.bodies.stray_claims`)."""
BRIDGE_NAMES = 2
"""Co-authors in common with the accepted papers, at most, of another body."""
YEAR_SLACK = 2
TIE = 1e-9
"""Cosines this close are equal (summation order differs between centroids)."""
NAMES_SHOWN = 3
CATEGORIES_SHOWN = 3
