"""What a seed alone brought in: the provenance of the evidence's acceptances.

A claim (the identifier feed, ORCID, ``include_ids``) is a seed the evidence grows the
profile from; what it draws in through co-authors is the author's only as long as the
claim is. After each judgement with claims, :func:`provenance` judges once more without
them (and without what earlier claims alone drew in): a paper the evidence accepts only
with them is *drawn by* those seeds, and the membership records them
(``membership.drawn_by``); a paper in the profile by its claim alone records its own id.
When one of those seeds goes, a complete full harvest judges the paper again without it
(:func:`lost_seeds`): it stays if other support accepts it, and is held or rejected, with
an ``excluded`` event saying which seed went (:func:`seeds_gone`), if not. A person's
acceptance is evidence for nothing else (:func:`harvester.identity.judge`): it draws
nothing in, and forgetting it takes only the paper it names.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..plans import Seen
from ..vocabulary import Decision, ReviewDecision
from .model import Candidate, Judgement

if TYPE_CHECKING:
    from .evidence import Anchors

__all__ = ["Inputs", "Rule", "Ruled", "lost_seeds", "provenance", "seeds_gone"]

Rule = tuple[bool, str] | None
"""Accepted or not, and why; None: for the evidence to decide."""

SEEDS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Inputs:
    """What one judgement weighs (the arguments of :func:`harvester.identity.judge`), with
    the removable seeds: the ids accepted as claims (``claimed``: ``include_ids``, and
    claimed members the answer did not return) and the members only earlier seeds drew in
    (``drawn``)."""

    candidates: tuple[Candidate, ...]
    anchored: frozenset[str]
    accepted: frozenset[str]
    rejected: frozenset[str]
    named: frozenset[str]
    claimed: frozenset[str]
    drawn: frozenset[str]

    @property
    def roots(self) -> frozenset[str]:
        """The claims the evidence grows from: what a drawn paper records."""
        return self.anchored | self.claimed

    def judge(self, *, without_seeds: bool = False) -> Judgement:
        """The judgement, or (``without_seeds``) the one without the removable seeds."""
        from .judgement import judge  # numpy and scipy only when the evidence is consulted

        anchored, accepted = self.anchored, self.accepted
        if without_seeds:
            anchored, accepted = frozenset(), accepted - self.claimed - self.drawn
        return judge(
            self.candidates,
            anchored=anchored,
            accepted=accepted,
            rejected=self.rejected,
            named=self.named,
        )


@dataclass(frozen=True, slots=True)
class Ruled:
    """What settles each candidate before the evidence (by id), and what each accepted
    paper was drawn by (:func:`provenance`, or the stored provenance when the evidence was
    not consulted)."""

    fixed: Mapping[str, Rule]
    anchors: Anchors
    stored: Mapping[str, Seen]
    drawn: Mapping[str, tuple[str, ...]]


def provenance(inputs: Inputs, judgement: Judgement) -> dict[str, tuple[str, ...]]:
    """The seeds each paper the evidence accepted is in the profile through alone, by id
    (papers with other support, seeds and a person's acceptances are not in it). Without
    removable seeds, nothing is drawn; when no other seed remains without them, every
    paper the evidence accepted is theirs."""
    roots = inputs.roots
    if not roots:
        return {}
    fixed = inputs.anchored | inputs.named | (inputs.accepted - inputs.drawn)
    accepted = _accepted(judgement) - fixed
    if not accepted:
        return {}
    others = inputs.accepted - inputs.claimed - inputs.drawn
    without = _accepted(inputs.judge(without_seeds=True)) if others else set[str]()
    seeds = tuple(sorted(roots))
    return {i: seeds for i in accepted - without}


def _accepted(judgement: Judgement) -> set[str]:
    return {i for i, v in judgement.verdicts.items() if v.decision == Decision.ACCEPTED}


def lost_seeds(seen: Seen | None, anchors: Anchors) -> list[str]:
    """The seeds a membership was drawn by that are gone: no longer claimed, included or
    accepted by a person, or rejected by a person (who wins over the feed)."""
    if seen is None:
        return []
    return [s for s in seen.drawn_by if not _stands(s, anchors)]


def _stands(seed: str, anchors: Anchors) -> bool:
    if seed in anchors.include:
        return True  # the config wins over a person
    ruling = anchors.rulings.get(seed)
    if ruling is not None:
        return ruling.decision == ReviewDecision.ACCEPTED
    return seed in anchors.claimed


def seeds_gone(arxiv_id: str, lost: Collection[str], anchors: Anchors) -> str:
    """``brought in by 2401.00001, no longer claimed`` (the first few ids, then a count; or
    ``rejected by a person``), or ``no longer claimed`` for a paper that was in the profile
    by its own claim."""
    ids = sorted(lost)
    rejected = all(i in anchors.rulings for i in ids)
    why = "rejected by a person" if rejected else "no longer claimed"
    if ids == [arxiv_id]:
        return why
    shown = ", ".join(ids[:SEEDS_SHOWN])
    more = f" and {len(ids) - SEEDS_SHOWN} more" if len(ids) > SEEDS_SHOWN else ""
    return f"brought in by {shown}{more}, {why}"
