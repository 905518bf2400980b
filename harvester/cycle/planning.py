"""Decide, then write: what one query's complete harvest changes, decided on a snapshot.

Pure: no I/O, no clock, no SQL. The store reads a :class:`~harvester.plans.Snapshot` of
the query's authors, this module decides each author's
:class:`~harvester.plans.AuthorPlan` on it, and the store writes the plans in one short
transaction (:mod:`harvester.store.harvests`). In between, :func:`draft` says what the
decisions need beyond the snapshot (:class:`~harvester.plans.Needs`: the member papers the
identity evidence weighs candidates against, and the stored papers a person's decision, a
claim or a changed identity re-checks); a steady cycle needs none, so it reads nothing
more than before.

Per author: the matcher's verdict on each returned paper (:mod:`harvester.identity.matching`);
for an incremental harvest, the stored papers a decision or the feed would move and that the
answer did not return (:func:`pending`); the identity evidence (:func:`harvester.identity.
settle`); the plan (:func:`harvester.changes.plan_changes`), then whether it is quiet
(nothing but the run to write), and the baseline identity to remember.

Why the snapshot is still true when the plans are written, although it was read in
another transaction: everything a plan relies on belongs to the query's authors (their
memberships, counts, baseline identity, decisions seen through their memberships), and
only the holder of their leases writes those (:mod:`harvester.store.leases`). The write
transaction confirms the lease before it writes anything: a process that lost its lease
meanwhile (and so may have been overtaken) writes nothing. What others may write in
between is harmless: a person's new decision is applied at the next harvest, exactly as
one taken just after a write; a paper row another author's harvest rewrote is rewritten
by that harvest with the same answer arXiv gave both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ..changes import Observation, plan_changes
from ..identity import Anchors, MatchDecision, needs_evidence, person_reason, settle
from ..plans import (
    AuthorPlan,
    AuthorSnapshot,
    Extras,
    Needs,
    Plan,
    Seen,
    Shortfall,
    Snapshot,
    Wanted,
)
from ..records import Paper
from ..vocabulary import Membership, ReviewDecision

__all__ = ["AuthorHarvest", "Draft", "additions", "decide", "draft", "needs", "pending"]

Decide = Callable[[Paper], MatchDecision]


@dataclass(frozen=True, slots=True)
class AuthorHarvest:
    """One author's share of a complete answer, ready to be planned and written.

    ``decide`` is the author's matcher; it also re-checks a stored paper the answer did
    not return when the identity changed. ``full``: the answer covered every paper (only
    then may one go ``missing``). ``identity``: the fingerprint of the configured identity.
    ``anchors``: what settles identity beyond names (:mod:`harvester.identity.evidence`; people's
    decisions come from the snapshot); None: names alone decide, as before identity
    evidence. ``shortfall``: the answer is incomplete for this author (an entry refused,
    its feed's papers not fetched): planned like an incremental harvest (``full`` False,
    nothing missing), and only what it adds is kept (:func:`additions`).
    """

    key: str
    run_id: int
    identity: str
    papers: Sequence[Paper]
    decide: Decide
    full: bool
    watermark: datetime
    requests: int
    anchors: Anchors | None = None
    #: the answer is not complete for this author (None: it is); then ``full`` is False
    shortfall: Shortfall | None = None

    @property
    def wanted(self) -> Wanted:
        """What the store must read for this author."""
        claimed = None if self.anchors is None else self.anchors.claimed
        return Wanted(self.key, self.full, self.papers, claimed)


@dataclass(frozen=True, slots=True)
class Draft:
    """An author's harvest judged as far as the snapshot allows: the returned papers'
    observations, the memberships planned against (``seen``, with the pending ones), the
    anchors with people's decisions, and what is still needed (``due``: pending papers to
    observe; ``recheck``: members a changed identity re-checks; ``members``: the evidence
    will be consulted)."""

    harvest: AuthorHarvest
    part: AuthorSnapshot
    observations: list[Observation]
    seen: dict[str, Seen]
    anchors: Anchors | None
    #: every returned paper is stored exactly as returned
    unchanged: bool = False
    due: tuple[str, ...] = ()
    recheck: tuple[str, ...] = ()
    members: bool = False

    @property
    def fresh(self) -> bool:
        """No complete harvest yet, or the identity changed since the last one."""
        return self.part.baseline != self.harvest.identity

    @property
    def identity_changed(self) -> bool:
        return self.part.baseline not in (None, self.harvest.identity)


def draft(harvest: AuthorHarvest, snapshot: Snapshot) -> Draft:
    """Judge what the snapshot allows and say what else is needed (:func:`needs`)."""
    part = snapshot.of(harvest.key)
    observations = [Observation(p, harvest.decide(p)) for p in harvest.papers]
    seen = dict(part.seen)
    anchors = None
    due: tuple[str, ...] = ()
    if harvest.anchors is not None:
        anchors = replace(harvest.anchors, rulings=part.rulings)
        if not harvest.full:
            due = pending(part.pending, anchors)
            seen.update((i, part.pending[i]) for i in due)
    unchanged = all(p.arxiv_id in snapshot.unchanged for p in harvest.papers)
    found = Draft(harvest, part, observations, seen, anchors, unchanged, due)
    members = anchors is not None and (
        bool(due)
        or needs_evidence(observations, anchors, seen, fresh=found.fresh, full=_complete(harvest))
    )
    return replace(found, recheck=_recheck(found), members=members)


def needs(drafts: Sequence[Draft]) -> Needs:
    """What the drafts need read beyond the snapshot (nothing, in a steady cycle)."""
    return Needs(
        members_of=frozenset(d.harvest.key for d in drafts if d.members),
        papers=frozenset(i for d in drafts for i in (*d.due, *d.recheck)),
    )


def decide(found: Draft, extras: Extras) -> AuthorPlan:
    """The author's plan: the evidence settled, the changes planned, the quiet check.
    ``extras`` must hold what :func:`needs` asked for this draft."""
    harvest = found.harvest
    if found.members and harvest.key not in extras.members:
        raise ValueError(f"{harvest.key}: the evidence weighs the member papers: read them first")
    observations, ambiguous = found.observations, None
    if found.anchors is not None:
        observations = observations + [
            Observation(extras.papers[i], harvest.decide(extras.papers[i]))
            for i in found.due
            if i in extras.papers
        ]
        members = extras.members.get(harvest.key, ())
        settled = settle(
            observations,
            found.anchors,
            found.seen,
            fresh=found.fresh,
            members=members,
            full=_complete(harvest),
        )
        observations, ambiguous = settled.observations, settled.ambiguous
    if harvest.shortfall is not None:
        observations, ambiguous = additions(observations), None
    plan = _plan(found, observations, extras.papers)
    plan.ambiguous = ambiguous
    return AuthorPlan(
        key=harvest.key,
        run_id=harvest.run_id,
        papers=harvest.papers,
        plan=plan,
        full=harvest.full,
        watermark=harvest.watermark,
        requests=harvest.requests,
        identity=_identity(found),
        quiet=not harvest.full and _quiet(found, plan),
        shortfall=harvest.shortfall,
    )


def _complete(harvest: AuthorHarvest) -> bool:
    """A full harvest with the whole answer: the one that judges again what a seed that
    went brought in (:mod:`harvester.identity.provenance`)."""
    return harvest.full and harvest.shortfall is None


def additions(observations: Sequence[Observation]) -> list[Observation]:
    """What an incomplete answer may change: the papers it read that are accepted (new
    papers, new versions, withdrawals, metadata of members). A rejection or a hold is left
    for a complete harvest: on an incomplete answer nothing leaves the profile, and a
    paper not yet judged is not judged on part of the evidence."""
    return [o for o in observations if o.decision.accepted and not o.held]


def _identity(found: Draft) -> str | None:
    """The baseline identity to remember after a complete harvest that is the profile's
    first or follows an identity change; never after an incomplete one: until a complete
    harvest, the profile has no baseline, so what the rest of the answer adds later is
    not news (no ``new_paper`` for an old paper), and an identity change is still re-checked."""
    harvest = found.harvest
    if found.part.baseline == harvest.identity or harvest.shortfall is not None:
        return None
    return harvest.identity


def pending(stored: Mapping[str, Seen], anchors: Anchors) -> tuple[str, ...]:
    """Of the papers a person's decision or the author's feed names and an incremental
    harvest did not return (``stored``: their memberships), those whose membership the
    decision or the claim would change (a held paper accepted, an old paper claimed):
    they are observed as stored, so that the decision takes effect now, not at the next
    full harvest."""
    return tuple(i for i, s in sorted(stored.items()) if _undone(s, anchors, i))


def _undone(seen: Seen, anchors: Anchors, arxiv_id: str) -> bool:
    """Does the membership still disagree with a person's decision (its status, or a
    reason that does not say so), or with the feed?"""
    status, ruling = seen.status, anchors.rulings.get(arxiv_id)
    if ruling is None:  # claimed by the author's feed
        return status != Membership.ACTIVE and arxiv_id not in anchors.exclude
    if arxiv_id in anchors.include or arxiv_id in anchors.exclude:
        return False  # the config decides it, whatever the person said
    if seen.reason != person_reason(ruling):
        return True
    if ruling.decision == ReviewDecision.ACCEPTED:
        return status != Membership.ACTIVE
    return status not in (Membership.REJECTED, Membership.EXCLUDED)


def _recheck(found: Draft) -> tuple[str, ...]:
    """The members a full harvest with a changed identity did not return: each is re-checked
    against the new identity (:func:`harvester.changes.plan_changes`' ``still_belongs``)."""
    if not found.harvest.full or not found.identity_changed:
        return ()
    returned = {p.arxiv_id for p in found.harvest.papers}
    return tuple(
        sorted(
            i for i, s in found.seen.items() if s.status == Membership.ACTIVE and i not in returned
        )
    )


def _plan(found: Draft, observations: list[Observation], stored: Mapping[str, Paper]) -> Plan:
    """What the harvest changes, against what the profile last saw: every membership for
    a full harvest; for an incremental one, the memberships of the papers it returned and
    the profile's counts (the same plan: a partial plan looks at nothing else)."""
    harvest = found.harvest

    def still_belongs(arxiv_id: str) -> bool:  # asked by full harvests only
        paper = stored.get(arxiv_id)
        return paper is not None and harvest.decide(paper).accepted

    return plan_changes(
        found.seen,
        observations,
        baseline=found.part.baseline is None,
        identity_changed=found.identity_changed,
        still_belongs=still_belongs,
        partial=not harvest.full,
        standing=None if harvest.full else found.part.standing,
    )


def _quiet(found: Draft, plan: Plan) -> bool:
    """Nothing to write for this author but its run: no paper, membership, event, count
    or identity (the common case of a steady cycle, which then takes no savepoint)."""
    return (
        not plan.writes
        and not plan.events
        and not plan.count_changed
        and not found.fresh
        and found.unchanged
    )
