"""Whose paper is it? The name matcher's candidates, settled by anchors, people and evidence.

Pure: no I/O, no clock. For one author's harvest, :func:`settle` turns the name matcher's
verdicts into the verdicts :func:`harvester.changes.plan_changes` records:

- a paper whose author list does not name the profile (and that nobody claimed or
  included) stays rejected by name, as it always was;
- every other paper is a *candidate*, decided by the first rule that applies: the config
  (``exclude_ids``, then ``include_ids``), then a person (``harvest review``), then the
  author identifier feed (every paper in it is the author's), then, unless the profile's
  identity is new or changed, the profile itself (a member stays a member: decisions
  stand, and a full harvest does not reshuffle them; but on a complete full harvest, a
  member that claims no longer made alone brought in is judged again without them,
  :mod:`.provenance`); the rest are judged on evidence
  (:func:`harvester.identity.judge`: co-authors, categories, text, years), against the
  members and every settled candidate whose author list names the profile (a paper only
  ``include_ids`` or the feed brings in is kept, but not weighed: one odd paper must not
  become the seed all others are measured against).

The evidence is consulted only when some candidate is unsettled, so a steady harvest of a
settled profile costs nothing more than before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..changes import Observation
from ..names import fold_name
from ..plans import Ruling, Seen
from ..records import Paper
from ..vocabulary import Decision, Membership, ReviewDecision
from .matching import MatchDecision, Matcher
from .model import Candidate, Verdict
from .provenance import Inputs, Rule, Ruled, lost_seeds, provenance, seeds_gone

__all__ = [
    "Anchors",
    "Ruling",
    "Settled",
    "candidate_of",
    "needs_evidence",
    "person_reason",
    "settle",
]

STANDING = (Membership.ACTIVE, Membership.MISSING)
"""Memberships that are decisions already taken: the paper is (or was) the author's."""


def person_reason(ruling: Ruling) -> str:
    """The stored reason of a paper a person decided: the decision and its time."""
    return f"{ruling.decision} by a person {ruling.decided_at:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True, slots=True)
class Anchors:
    """What settles identity before any evidence, for one author.

    ``claimed``: the ids of the author identifier feed; ``include``/``exclude``: the
    config's ids; ``rulings``: people's decisions, by id.
    """

    matcher: Matcher
    claimed: frozenset[str] = frozenset()
    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    rulings: Mapping[str, Ruling] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settled:
    """The verdicts to record, and whether the evidence found separate bodies of work
    (None: the evidence was not consulted, the stored flag stands)."""

    observations: list[Observation]
    ambiguous: bool | None


def candidate_of(paper: Paper, matcher: Matcher) -> Candidate:
    """The evidence's view of a paper: the other authors, categories, text and year."""
    others = tuple(a.name for a in paper.authors if fold_name(a.name) not in matcher.folded_names)
    return Candidate(
        arxiv_id=paper.arxiv_id,
        coauthors=others,
        categories=paper.categories,
        text=f"{paper.title}. {paper.summary}",
        year=paper.published.year,
    )


def settle(
    observations: Sequence[Observation],
    anchors: Anchors,
    stored: Mapping[str, Seen],
    *,
    fresh: bool,
    members: Sequence[Paper],
    full: bool = True,
) -> Settled:
    """The verdict on each returned paper (see the module docstring).

    ``stored``: the profile's memberships of (at least) the returned papers; ``fresh``: the
    profile has no complete harvest yet, or its identity changed (then no membership
    stands on its own); ``members``: the profile's member papers (the evidence's strongest
    part), needed only when :func:`needs_evidence` says so (the caller may pass none
    otherwise).

    The evidence grows the profile from its seeds: the feed's papers and the accepted ones.
    A fresh profile without a feed has no members to grow from, and one or two papers a
    person or ``include_ids`` accepted are too few to measure a whole profile against (one
    seed held 74 of the seed profile's 76 papers): they are kept by their rule, and the
    evidence looks for bodies of work among all candidates, as without any decision.
    """
    fixed = _rules(observations, anchors, stored, fresh, full)
    if not _unsettled(fixed, anchors, stored):
        ruled = Ruled(fixed, anchors, stored, {})
        return Settled([_settled(o, ruled, None) for o in observations], None)
    inputs = _inputs(observations, fixed, anchors, stored, fresh=fresh, full=full, members=members)
    judgement = inputs.judge()
    ruled = Ruled(fixed, anchors, stored, provenance(inputs, judgement))
    verdicts = judgement.verdicts
    settled = [_settled(o, ruled, verdicts.get(o.paper.arxiv_id)) for o in observations]
    return Settled(settled, judgement.ambiguous)


def _inputs(
    observations: Sequence[Observation],
    fixed: Mapping[str, Rule],
    anchors: Anchors,
    stored: Mapping[str, Seen],
    *,
    fresh: bool,
    full: bool,
    members: Sequence[Paper],
) -> Inputs:
    """What the evidence weighs: the candidates whose author list names the profile, with
    the members the answer did not return as accepted evidence (see :func:`settle`), but
    those a person accepted: evidence for nothing else, returned or not."""
    candidates = [o for o in observations if o.paper.arxiv_id in fixed]
    returned = {o.paper.arxiv_id for o in observations}
    extra = _Extra([p for p in members if p.arxiv_id not in returned], anchors, full)
    judged = [o.paper for o in candidates if _is_evidence(o, anchors)]
    ids = {p.arxiv_id for p in judged}
    anchored = anchors.claimed & ids
    accepted = {i for i in ids - anchored if (rule := fixed[i]) is not None and rule[0]}
    named = {i for i in accepted if i in anchors.rulings and i not in anchors.include}
    accepted -= named  # a person's decision applies to the paper it names, and no further
    if fresh and not anchored:
        accepted = set()  # kept by their rule, but weighed as plain candidates (see settle)
    drawn = {i for i in accepted if (seen := stored.get(i)) is not None and seen.drawn_by}
    return Inputs(
        candidates=tuple(candidate_of(p, anchors.matcher) for p in judged + extra.papers),
        anchored=frozenset(anchored),
        accepted=frozenset(accepted | extra.accepted),
        rejected=frozenset(i for i in ids if (rule := fixed[i]) is not None and not rule[0]),
        named=frozenset(named | extra.named),
        claimed=frozenset(accepted & anchors.include) | extra.claimed,
        drawn=frozenset(drawn) | extra.drawn,
    )


class _Extra:
    """The members the answer did not return: evidence, but for what a person accepted;
    the claimed ones are seeds that can go; on an incremental harvest, whose memberships
    were not read, any other one may have been drawn in by a claim (so a paper it vouches
    for is, as far as provenance goes, drawn by the claims)."""

    def __init__(self, papers: list[Paper], anchors: Anchors, full: bool) -> None:
        ids = {p.arxiv_id for p in papers}
        self.papers = papers
        self.named = frozenset(i for i in ids - anchors.include if _person_accepted(i, anchors))
        self.accepted = frozenset(ids - self.named)
        self.claimed = self.accepted & (anchors.claimed | anchors.include)
        self.drawn = frozenset() if full else self.accepted - self.claimed


def _person_accepted(arxiv_id: str, anchors: Anchors) -> bool:
    ruling = anchors.rulings.get(arxiv_id)
    return ruling is not None and ruling.decision == ReviewDecision.ACCEPTED


def needs_evidence(
    observations: Sequence[Observation],
    anchors: Anchors,
    stored: Mapping[str, Seen],
    *,
    fresh: bool,
    full: bool = True,
) -> bool:
    """Will :func:`settle` consult the evidence (and so weigh the profile's members)? Only
    when some candidate is settled by no rule, or a claim is new to the profile: a steady
    harvest of a settled profile is not (same arguments as :func:`settle`)."""
    return _unsettled(_rules(observations, anchors, stored, fresh, full), anchors, stored)


def _unsettled(fixed: Mapping[str, Rule], anchors: Anchors, stored: Mapping[str, Seen]) -> bool:
    """Some candidate no rule settles, or a claim new to the profile (it may be a claim of
    another body: the evidence checks it)."""
    if any(rule is None for rule in fixed.values()):
        return True
    return any(
        i in anchors.claimed and (seen := stored.get(i)) is not None and seen.status not in STANDING
        for i in fixed
    ) or any(i in anchors.claimed and i not in stored for i in fixed)


def _rules(
    observations: Sequence[Observation],
    anchors: Anchors,
    stored: Mapping[str, Seen],
    fresh: bool,
    full: bool,
) -> dict[str, Rule]:
    """Each candidate's rule, by id (non-candidates are not in it). On a complete full
    harvest, a member whose seed went (:func:`lost_seeds`) stands on no rule: the evidence
    judges it again without that seed."""
    candidates = [o for o in observations if _is_candidate(o, anchors)]
    rules = {o.paper.arxiv_id: _fixed(o, anchors, stored, fresh) for o in candidates}
    if full:
        for arxiv_id, rule in rules.items():
            seen = stored.get(arxiv_id)
            if rule is not None and _standing(rule, seen) and lost_seeds(seen, anchors):
                rules[arxiv_id] = None
    return rules


def _standing(rule: tuple[bool, str], seen: Seen | None) -> bool:
    """Is the rule that the paper is a member already (no claim, person or config)?"""
    return seen is not None and rule == (True, seen.reason or STANDS)


STANDS = "a member already"


def _is_candidate(obs: Observation, anchors: Anchors) -> bool:
    """The paper names the profile, or the config or the author's feed claims it."""
    arxiv_id = obs.paper.arxiv_id
    return _is_evidence(obs, anchors) or arxiv_id in anchors.include or arxiv_id in anchors.claimed


def _is_evidence(obs: Observation, anchors: Anchors) -> bool:
    """Is the candidate the evidence's to weigh? Only papers whose author list names the
    profile. Papers that only ``include_ids`` or the feed bring in (the name does not
    match) are kept but not weighed: one odd paper must not become the seed every other
    paper is measured against."""
    return anchors.matcher.matching_author(obs.paper) is not None


FEED_REASON = "in the author identifier feed"


def _fixed(obs: Observation, anchors: Anchors, stored: Mapping[str, Seen], fresh: bool) -> Rule:
    """What settles a candidate before the evidence: config, person, feed, standing."""
    arxiv_id = obs.paper.arxiv_id
    if arxiv_id in anchors.exclude:
        return False, "excluded by exclude_ids"
    if arxiv_id in anchors.include:
        return True, "included by include_ids"
    ruling = anchors.rulings.get(arxiv_id)
    if ruling is not None:
        return ruling.decision == ReviewDecision.ACCEPTED, person_reason(ruling)
    if arxiv_id in anchors.claimed:
        return True, FEED_REASON
    seen = stored.get(arxiv_id)
    if not fresh and seen is not None and seen.status in STANDING:
        return True, seen.reason or STANDS
    return None


def _settled(obs: Observation, ruled: Ruled, verdict: Verdict | None) -> Observation:
    """The observation ``plan_changes`` records for one returned paper."""
    arxiv_id = obs.paper.arxiv_id
    if arxiv_id not in ruled.fixed:
        return obs  # not a candidate: the name matcher's verdict
    rule = ruled.fixed[arxiv_id]
    score = verdict.score if verdict is not None else _certain(rule)
    matched = ruled.anchors.matcher.matching_author(obs.paper)
    if rule is not None:
        accepted, reason = rule
        seen = ruled.stored.get(arxiv_id)
        drawn = seen.drawn_by if seen is not None and _standing(rule, seen) else ()
        if accepted and reason == FEED_REASON:
            drawn = (arxiv_id,)  # in the profile by its claim: it goes with the claim
            if verdict is not None and verdict.decision == Decision.HELD:  # another body's
                stray = MatchDecision(False, None, verdict.reason)
                return Observation(obs.paper, stray, held=True, score=score)
            if verdict is not None:
                reason = verdict.reason  # the feed's words and the evidence's, for a check
        decided = MatchDecision(accepted, matched, reason)
        return Observation(obs.paper, decided, score=score, drawn_by=drawn if accepted else ())
    assert verdict is not None, "the evidence judges every unsettled candidate"
    decision = verdict.decision
    accepted = decision == Decision.ACCEPTED
    held = decision == Decision.HELD
    reason = verdict.reason if accepted else _without(ruled, arxiv_id, verdict.reason)
    verdict_of = MatchDecision(accepted, matched if accepted else None, reason)
    drawn = ruled.drawn.get(arxiv_id, ()) if accepted else ()
    return Observation(obs.paper, verdict_of, held=held, score=score, drawn_by=drawn)


def _without(ruled: Ruled, arxiv_id: str, reason: str) -> str:
    """The evidence's reason, after what a lost seed brought in (the event says why)."""
    lost = lost_seeds(ruled.stored.get(arxiv_id), ruled.anchors)
    return f"{seeds_gone(arxiv_id, lost, ruled.anchors)}; {reason}" if lost else reason


def _certain(rule: Rule) -> float:
    """The score of a decision the evidence was not asked about: certain either way."""
    return 1.0 if rule is not None and rule[0] else 0.0
