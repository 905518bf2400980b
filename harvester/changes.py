"""What a complete harvest changes in one profile: a pure plan, no I/O.

Each profile remembers what it last saw of every paper (a membership: status,
version, withdrawn flag and the compared metadata). :func:`plan_changes` compares
that with what a complete harvest returned and says which memberships to write,
which events to record and what the paper count becomes. The store applies the
plan in one transaction; nothing here touches the database or the clock.

Event kinds are :class:`~harvester.vocabulary.EventKind`; ``included`` is a paper that
joins the profile because the user changed how the author is identified.

A paper the identity evidence holds for review (:mod:`harvester.identity.evidence`) is ``held``: no
member, no event, not counted; when it is accepted later it records ``new_paper`` then. A
member that a person, the config or the evidence takes out leaves as ``excluded`` and
never counts towards ``suspect`` (that guards against answers that lose papers, not
against decisions). The score and reason of a judged membership always say why the paper
is where it is now: when a new anchor, a person or fresh evidence re-decides it, the new
reason replaces the old one even if the status stays; a decision that stands for the same
reason keeps its score (a member that stands on its own keeps the reason it was taken
with, :mod:`harvester.identity.evidence`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .normalise import diff_metadata, paper_fingerprint_fields
from .plans import Event, Plan, Seen, Standing
from .records import Paper
from .vocabulary import EventKind, Membership

if TYPE_CHECKING:  # the identity wing builds observations (settle): an annotation only,
    # so importing either module first works
    from .identity import MatchDecision

SUSPECT_MIN_REMOVED = 2
"""A harvest may take away at most this many papers at once regardless of the ratio."""
SUSPECT_MAX_FRACTION = 0.10
"""... and at most this fraction of the profile; beyond both it is ``suspect``."""


@dataclass(frozen=True, slots=True)
class Observation:
    """A paper returned by this harvest and the verdict on it: the matcher's, or the
    identity evidence's (``score`` set) when the name matched."""

    paper: Paper
    decision: MatchDecision
    #: the evidence does not settle it: the paper is held for review (not a member)
    held: bool = False
    score: float | None = None
    #: what brought it in (:attr:`harvester.plans.Seen.drawn_by`)
    drawn_by: tuple[str, ...] = ()

    @property
    def judged(self) -> bool:
        """Decided on identity (evidence, a person or the config), not on names alone."""
        return self.score is not None


def meta_of(paper: Paper) -> dict[str, object]:
    """The compared metadata in its stored (JSON) shape: what a JSON round trip gives, the
    tuples as lists (every value is a string, None or a tuple of strings), without one."""
    fields = paper_fingerprint_fields(paper)
    return {key: list(v) if isinstance(v, tuple) else v for key, v in fields.items()}


def plan_changes(
    previous: Mapping[str, Seen],
    observations: Sequence[Observation],
    *,
    baseline: bool,
    identity_changed: bool,
    still_belongs: Callable[[str], bool],
    partial: bool = False,
    standing: Standing | None = None,
) -> Plan:
    """Compare the stored memberships with a complete harvest's observations.

    ``partial``: the harvest was incremental (:mod:`harvester.batching`): it saw only the
    papers submitted lately, so a paper it did not return is not missing; the count is
    the previous one plus what this harvest added or took away.

    ``baseline``: the profile has no complete harvest yet, so no events are
    recorded. ``identity_changed``: the user changed name, aliases, query or
    include/exclude ids since the last complete harvest; papers that no longer
    belong leave as ``excluded`` and do not count towards ``suspect``.
    ``still_belongs(arxiv_id)`` re-checks a stored paper the harvest did not return.

    ``standing`` (partial harvests only): the profile's counts before the harvest; then
    ``previous`` need hold only the memberships of the papers the harvest returned, since
    a partial plan never looks at the others. The plan is the same as with every
    membership in ``previous``.
    """
    if standing is not None and not partial:
        raise ValueError("standing counts stand for unseen memberships: partial plans only")
    plan = Plan(baseline=baseline)
    before = standing or _standing(previous)
    plan.previous_count = before.active
    removed = 0
    for obs in observations:
        seen = previous.get(obs.paper.arxiv_id)
        if seen is not None and obs.paper.version < seen.version:
            plan.stale.append(obs.paper.arxiv_id)  # a lagging mirror: history never goes back
        elif obs.decision.accepted:
            _accepted(plan, seen, obs, identity_changed)
        else:
            removed += _rejected(plan, seen, obs, identity_changed)
    returned = {o.paper.arxiv_id for o in observations}
    for seen in previous.values():
        if seen.status == Membership.ACTIVE and seen.arxiv_id not in returned and not partial:
            removed += _not_returned(plan, seen, identity_changed, still_belongs)
        elif seen.status == Membership.HELD and seen.arxiv_id not in returned and not partial:
            plan.writes.append(_replace(seen, Membership.REJECTED, NO_LONGER_RETURNED))
    _count(plan, previous, observations, partial=partial, before=before)
    _judge(plan, removed)
    if baseline:
        plan.events.clear()
        plan.held.clear()
    return plan


def _accepted(plan: Plan, seen: Seen | None, obs: Observation, identity_changed: bool) -> None:
    reason = obs.decision.reason if obs.judged else None  # a name match needs no words
    paper, now = obs.paper, _membership(obs, Membership.ACTIVE, obs.decision.matched_name, reason)
    arxiv_id = paper.arxiv_id
    if seen is None or seen.status in OUTSIDE:
        kind = EventKind.INCLUDED if identity_changed else EventKind.NEW_PAPER
        plan.events.append(Event(arxiv_id, kind, f"v{paper.version}: {paper.title}"))
    elif seen.status == Membership.MISSING:
        plan.events.append(Event(arxiv_id, EventKind.REAPPEARED, f"back at v{paper.version}"))
        _compare(plan, seen, paper, metadata=False)
    else:
        _compare(plan, seen, paper, metadata=True, meta=now.meta)
    if _differs(seen, now):
        plan.writes.append(now)


NO_LONGER_RETURNED = "was held for review; no longer returned by a complete harvest"
"""A held paper a complete harvest does not return leaves the queue (no event: it was
never a member)."""

OUTSIDE = (Membership.REJECTED, Membership.EXCLUDED, Membership.HELD)
"""Statuses of a paper that is not in the profile (accepting it is a new paper)."""


def _differs(seen: Seen | None, now: Seen) -> bool:
    """Must ``now`` be written over ``seen``? Also when only the reason changed (a stored
    reason must say why the paper is where it is now); a decision that stands for the same
    reason keeps the score it was taken with."""
    if seen is None or now.score is None or (seen.status, seen.reason) != (now.status, now.reason):
        return seen != now
    return _replace(seen, seen.status, now.reason, now.score) != now


def _compare(
    plan: Plan,
    seen: Seen,
    paper: Paper,
    *,
    metadata: bool,
    meta: Mapping[str, object] | None = None,
) -> None:
    """Version, withdrawal and metadata events of a paper the profile already had (``meta``:
    the paper's :func:`meta_of`, when the caller has it already)."""
    if paper.version > seen.version:
        plan.events += _new_versions(paper, seen.version)
    if paper.withdrawn and not seen.withdrawn:
        plan.events.append(Event(paper.arxiv_id, EventKind.WITHDRAWN, paper.comment))
    changed = (
        diff_metadata(seen.meta, meta if meta is not None else meta_of(paper)) if metadata else []
    )
    if changed:
        plan.events.append(Event(paper.arxiv_id, EventKind.METADATA_CHANGED, ", ".join(changed)))


def _new_versions(paper: Paper, stored: int) -> list[Event]:
    """One ``new_version`` event per version since ``stored``, each with its date, when
    the paper's history lists them (OAI-PMH); else one for the jump (the API knows only
    the latest version's date)."""
    dated = {v.version: v.submitted for v in paper.history}
    steps = range(stored + 1, paper.version + 1)
    if not all(n in dated for n in steps):
        detail = f"v{stored} -> v{paper.version}"
        return [Event(paper.arxiv_id, EventKind.NEW_VERSION, detail)]
    return [
        Event(
            paper.arxiv_id,
            EventKind.NEW_VERSION,
            f"v{n - 1} -> v{n} ({dated[n]:%Y-%m-%d %H:%M} UTC)",
        )
        for n in steps
    ]


def _rejected(plan: Plan, seen: Seen | None, obs: Observation, identity_changed: bool) -> int:
    """Record a rejection (or a paper held for review); returns 1 when it takes a paper
    out of the profile for a reason that is not a decision."""
    reason = obs.decision.reason
    if seen is not None and seen.status == Membership.ACTIVE:
        detail = f"held for review: {reason}" if obs.held else reason
        plan.events.append(Event(obs.paper.arxiv_id, EventKind.EXCLUDED, detail))
        if obs.held:
            plan.held.append(Event(obs.paper.arxiv_id, EventKind.EXCLUDED, reason))
        status = Membership.HELD if obs.held else Membership.EXCLUDED
        plan.writes.append(_membership(obs, status, None, reason))
        return 0 if identity_changed or obs.judged else 1
    if obs.held:
        status = Membership.HELD
        if seen is None or seen.status != Membership.HELD:
            plan.held.append(Event(obs.paper.arxiv_id, EventKind.EXCLUDED, reason))
    elif seen is not None and seen.status == Membership.EXCLUDED:
        status = Membership.EXCLUDED
    else:
        status = Membership.REJECTED
    now = _membership(obs, status, None, reason)
    if _differs(seen, now):
        plan.writes.append(now)
    return 0


def _not_returned(
    plan: Plan, seen: Seen, identity_changed: bool, still_belongs: Callable[[str], bool]
) -> int:
    """A paper the profile had that this complete harvest did not return."""
    if identity_changed and not still_belongs(seen.arxiv_id):
        reason = "no longer matches the author's configured identity"
        plan.events.append(Event(seen.arxiv_id, EventKind.EXCLUDED, reason))
        plan.writes.append(_replace(seen, Membership.EXCLUDED, reason))
        return 0
    plan.events.append(
        Event(seen.arxiv_id, EventKind.MISSING, "not returned by a complete harvest")
    )
    plan.writes.append(_replace(seen, Membership.MISSING, seen.reason))
    return 1


def _count(
    plan: Plan,
    previous: Mapping[str, Seen],
    observations: Sequence[Observation],
    *,
    partial: bool,
    before: Standing,
) -> None:
    """The papers still active: for a partial harvest those the profile had (``before``),
    updated by this harvest's verdicts; for a full one, those it returned and accepted. A
    stale entry counts as the profile had it. Counted as a change from ``previous``, so
    that ``previous`` may hold only the returned papers' memberships."""
    active = {s.arxiv_id: s.withdrawn for s in previous.values() if s.status == Membership.ACTIVE}
    after = dict(active) if partial else {}
    stale = set(plan.stale)
    for obs in observations:
        if obs.paper.arxiv_id in stale:
            if obs.paper.arxiv_id in active:
                after[obs.paper.arxiv_id] = active[obs.paper.arxiv_id]
        elif obs.decision.accepted:
            after[obs.paper.arxiv_id] = obs.paper.withdrawn
        else:
            after.pop(obs.paper.arxiv_id, None)
    plan.paper_count = before.active - len(active) + len(after)
    plan.withdrawn_count = before.withdrawn - sum(active.values()) + sum(after.values())


def _standing(previous: Mapping[str, Seen]) -> Standing:
    active = [s for s in previous.values() if s.status == Membership.ACTIVE]
    return Standing(len(active), sum(s.withdrawn for s in active))


def _judge(plan: Plan, removed: int) -> None:
    """Distrust a harvest that would take away too much at once."""
    limit = max(SUSPECT_MIN_REMOVED, SUSPECT_MAX_FRACTION * plan.previous_count)
    if removed > limit:
        plan.suspect_reason = (
            f"would take {removed} of {plan.previous_count} papers out of the profile at once"
        )


def _membership(
    obs: Observation, status: Membership, matched: str | None, reason: str | None
) -> Seen:
    p = obs.paper
    drawn = obs.drawn_by if status == Membership.ACTIVE else ()
    meta = meta_of(p)
    return Seen(p.arxiv_id, status, matched, reason, p.version, p.withdrawn, meta, obs.score, drawn)


def _replace(seen: Seen, status: str, reason: str | None, score: float | None = None) -> Seen:
    return Seen(
        seen.arxiv_id,
        status,
        seen.matched_name,
        reason,
        seen.version,
        seen.withdrawn,
        seen.meta,
        seen.score if score is None else score,
        seen.drawn_by,
    )
