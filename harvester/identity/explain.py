"""The reasons a person can check on each verdict: names with counts, categories, text,
namesakes, years."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..vocabulary import Decision
from .bodies import Leftovers
from .model import ACCEPT_SCORE, BODY_MIN, CATEGORIES_SHOWN, MIN_PULL, NAMES_SHOWN, TIE, Verdict
from .space import Evidence, Space

__all__ = ["Explainer", "candidates_text"]


class Explainer:
    """Reasons a person can check: names with counts, categories, text, years."""

    def __init__(
        self, space: Space, accepted: Any, evidence: Evidence, leftovers: Leftovers | None
    ) -> None:
        self.space, self.accepted, self.ev, self.leftovers = space, accepted, evidence, leftovers
        mine = accepted.astype(np.float64)
        self.on_accepted = self.space.coauthors.T @ mine
        self.accepted_cats = self.space.cats.T @ mine
        self.any_accepted = bool(accepted.any())
        self.usual = self._usual_categories()
        self.span = self.space.span(accepted) if self.any_accepted else (0, 0)

    def verdict(self, i: int, decision: Decision, why: str) -> Verdict:
        parts = [why] if why else []
        parts += [self.coauthors(i), self.categories(i), self.text(i), *self.namesakes(i)]
        parts.append(self.year(i))
        reason = "; ".join(p for p in parts if p)
        return Verdict(self.space.ids[i], decision, round(float(self.ev.score[i]), 4), reason)

    def coauthors(self, i: int) -> str:
        shared = self.shared_names(i)
        if not shared:
            return "no co-author shared with accepted papers"
        plural = "s" if len(shared) > 1 else ""
        text = f"{len(shared)} co-author{plural} shared with accepted papers ({_listed(shared)})"
        if self.ev.pull[i] < MIN_PULL:
            others = int(self.ev.elsewhere[i])
            text += f", but its other co-authors are on {candidates_text(others)} of another body"
        return text

    def shared_names(self, i: int) -> list[tuple[str, int]]:
        """``(name as written on the paper, accepted papers)``, most frequent first."""
        mine = int(self.accepted[i])
        spelled = self.space.spellings[i]
        counts = [(spelled[n], int(self.on_accepted[self.space.column[n]]) - mine)
                  for n in spelled]  # fmt: skip
        shared = [(name, count) for name, count in counts if count > 0]
        return sorted(shared, key=lambda nc: (-nc[1], nc[0]))

    def namesakes(self, i: int) -> list[str]:
        """For an unaccepted paper: its own group, another body its text is nearer, a
        namesake in sight, or evidence too weak."""
        left, ev = self.leftovers, self.ev
        if left is None or self.accepted[i]:
            return []
        parts = []
        size = left.size(i)
        if size >= BODY_MIN:
            parts.append(f"one of {size} unaccepted candidates linked by their own co-authors")
        if left.bodies and ev.shared[i] == 0 and ev.same_field[i]:
            largest = candidates_text(max(len(b) for b in left.bodies))
            nearest = f"text similarity {left.nearest[i]:.2f} to another body"
            parts.append(f"a namesake in sight: {largest} in the same field ({nearest})")
        elif left.nearest[i] > ev.text[i] + TIE:
            parts.append(f"text nearer another body ({left.nearest[i]:.2f})")
        if ev.vouched[i] and ev.score[i] < ACCEPT_SCORE:
            parts.append(f"score below {ACCEPT_SCORE}")
        return parts

    def categories(self, i: int) -> str:
        own = self.space.categories[i]
        if not own:
            return "no categories"
        listed = ", ".join(own)
        if not self.usual:
            return f"categories {listed}"
        if any(self.accepted_cats[self.space.category_names.index(k)] > 0 for k in own):
            return f"categories {listed}"
        return f"categories {listed} unlike accepted {', '.join(self.usual)}"

    def _usual_categories(self) -> list[str]:
        counts = self.accepted_cats
        order = sorted(np.flatnonzero(counts).tolist(), key=lambda j: (-counts[j], j))
        return [self.space.category_names[j] for j in order[:CATEGORIES_SHOWN]]

    def text(self, i: int) -> str:
        if not self.any_accepted:
            return ""
        return f"text similarity {self.ev.text[i]:.2f}"

    def year(self, i: int) -> str:
        if not self.any_accepted:
            return ""
        low, high = self.span
        span = str(low) if low == high else f"{low}-{high}"
        year = int(self.space.years[i])
        if low <= year <= high:
            return f"{year} within accepted {span}"
        return f"{year} outside accepted {span}"


def candidates_text(count: int) -> str:
    return f"{count} candidate" if count == 1 else f"{count} candidates"


def _listed(shared: Sequence[tuple[str, int]]) -> str:
    shown = [f"{name} \N{MULTIPLICATION SIGN}{count}" for name, count in shared[:NAMES_SHOWN]]
    return ", ".join(shown) + (", …" if len(shared) > NAMES_SHOWN else "")
