"""``harvest review``: the papers held for review, and a person's decisions on them.

A paper is *held* when its author list names the profile but the evidence does not settle
whose it is (:mod:`harvester.identity.evidence`): it is no member of the profile (not
counted, no event) until a person decides. :func:`review_queue` lists the held papers of one profile
with their score and reason; :func:`decide` records a person's decisions, which win over
the evidence (``include_ids``/``exclude_ids`` in the config win over both) and last across
harvests, full ones included. A decision takes effect at once, in the transaction that
records it (:func:`changes_of`): an accepted paper joins the profile with ``new_paper``, a
rejected member leaves with ``excluded``, and the counts follow; a decision applies to the
papers it names, not to what evidence might draw after them. :func:`waiting` lists the
decisions a harvest has not yet met (older ones, recorded before decisions applied at
once).

Only decisions a harvest honours are taken (:func:`refusal`): a held paper either way, a
member to reject, a paper the evidence (or a person) rejected to accept, and any paper a
person decided before, to change their mind. A paper whose author list does not name the
profile is no candidate (rejected by name, nothing to decide), and one the config's ids
decide is the config's: those, and ids the profile never had, are refused, all ids checked
before any is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from .changes import Observation, plan_changes
from .errors import PaperNotFoundError
from .identity import MatchDecision, Matcher, person_reason
from .normalise import InvalidIdentifierError, parse_arxiv_id
from .plans import Plan, Ruling, Standing
from .store import Candidacy, Decided, HeldPaper, Store, Tally
from .vocabulary import Membership, ReviewDecision

__all__ = [
    "HeldPaper",
    "Tally",
    "changes_of",
    "decide",
    "held_above",
    "queue_json",
    "read_ids",
    "refusal",
    "render_queue",
    "review_queue",
    "tally",
    "waiting",
]

IN_PROFILE = (Membership.ACTIVE, Membership.MISSING)
OUT_OF_PROFILE = (Membership.REJECTED, Membership.EXCLUDED)


def review_queue(store: Store, key: str) -> list[HeldPaper]:
    """The profile's held papers, the likeliest first (unknown key: ProfileNotFoundError)."""
    return store.held_papers(key)


def tally(store: Store, key: str) -> Tally:
    """How many papers the profile accepted, holds and rejected; ambiguous or not."""
    return store.tally(key)


def waiting(store: Store, key: str) -> list[Decided]:
    """Decisions taken but not yet applied by a harvest (the membership does not say so)."""
    return [d for d in store.decisions(key) if d.reason != person_reason(d.ruling)]


def held_above(held: Sequence[HeldPaper], score: float) -> list[str]:
    """The held papers scored at least ``score`` (``--accept-above``)."""
    return [p.arxiv_id for p in held if p.score is not None and p.score >= score]


def read_ids(text: str) -> list[str]:
    """Ids one a line (``--accept-from``): blank lines and ``#`` comments ignored."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def decide(
    store: Store,
    key: str,
    accept: Sequence[str],
    reject: Sequence[str],
    now: datetime,
    matcher: Matcher | None = None,
    forget: Sequence[str] = (),
) -> dict[str, ReviewDecision | None]:
    """Record that a person accepts ``accept``, rejects ``reject`` and withdraws the
    decisions on ``forget`` (ids in any form :func:`~harvester.normalise.parse_arxiv_id`
    takes) for profile ``key``, and apply them at once (:func:`changes_of`); returns the
    decisions by canonical id (None: forgotten). Every id is checked first
    (:func:`refusal`, by names too when ``matcher`` is given): one refused, none written."""
    decisions: dict[str, ReviewDecision | None] = {}
    for ids, decision in (
        (accept, ReviewDecision.ACCEPTED),
        (reject, ReviewDecision.REJECTED),
        (forget, None),
    ):
        for text in ids:
            arxiv_id = _canonical(key, text)
            if arxiv_id in decisions and decisions[arxiv_id] != decision:
                raise PaperNotFoundError(key, [arxiv_id], "decided two ways: choose one")
            decisions[arxiv_id] = decision

    def check(found: Mapping[str, Candidacy]) -> None:
        problems: dict[str, list[str]] = {}
        for arxiv_id, decision in decisions.items():
            problem = refusal(key, found[arxiv_id], decision, matcher)
            if problem is not None:
                problems.setdefault(problem, []).append(arxiv_id)
        if problems:
            raise PaperNotFoundError.refused(key, problems)

    def apply(found: Mapping[str, Candidacy], standing: Standing) -> Plan:
        return changes_of(found, decisions, now, standing, matcher)

    store.record_decisions(key, decisions, now, check, apply)
    return decisions


FORGOTTEN = "a person's decision withdrawn: held until a full harvest judges it again"


def changes_of(
    found: Mapping[str, Candidacy],
    decisions: Mapping[str, ReviewDecision | None],
    now: datetime,
    standing: Standing,
    matcher: Matcher | None = None,
) -> Plan:
    """What the decisions change in the profile at once, as a harvest would record it
    (:func:`~harvester.changes.plan_changes`): an accepted paper joins with ``new_paper``,
    a rejected member leaves with ``excluded`` ("rejected by a person ..."), a forgotten
    decision puts the paper back in the queue. Only the papers named change."""
    previous = {i: c.seen for i, c in found.items() if c.seen is not None}
    observations = [
        _observed(found[i], decision, now, matcher)
        for i, decision in decisions.items()
        if found[i].paper is not None and found[i].seen is not None
    ]
    return plan_changes(
        previous,
        observations,
        baseline=False,
        identity_changed=False,
        still_belongs=lambda _: True,
        partial=True,
        standing=standing,
    )


def _observed(
    found: Candidacy, decision: ReviewDecision | None, now: datetime, matcher: Matcher | None
) -> Observation:
    paper, seen = found.paper, found.seen
    assert paper is not None and seen is not None, "only stored papers are decided"
    accepted = decision == ReviewDecision.ACCEPTED
    score = found.score if found.score is not None else float(accepted)
    if decision is None:
        return Observation(paper, MatchDecision(False, None, FORGOTTEN), held=True, score=score)
    named = matcher.matching_author(paper) if matcher is not None else None
    matched = (named or seen.matched_name) if accepted else None
    reason = person_reason(Ruling(decision, now))
    return Observation(paper, MatchDecision(accepted, matched, reason), score=score)


def refusal(
    key: str, found: Candidacy, decision: ReviewDecision | None, matcher: Matcher | None
) -> str | None:
    """Why a harvest would not honour ``decision`` on this paper (None: it would; a
    ``None`` decision forgets one)."""
    if found.status is None:
        return f"not among the papers harvested for profile {key!r}"
    if decision is None:
        return None if found.ruling is not None else "no decision of a person to forget"
    if matcher is not None:
        problem = _config_or_name(found, matcher)
        if problem is not None:
            return problem
    if found.ruling is not None:
        return None  # a person changes their mind
    if decision == ReviewDecision.ACCEPTED and found.status in IN_PROFILE:
        return "already in the profile: nothing to accept"
    if decision == ReviewDecision.REJECTED and found.status in OUT_OF_PROFILE:
        return "already out of the profile: nothing to reject"
    return None


def _config_or_name(found: Candidacy, matcher: Matcher) -> str | None:
    """The config's ids decide a paper; one whose authors do not name the profile (and
    that is no member: the feed or include_ids brought it) is no candidate."""
    if found.arxiv_id in matcher.exclude_ids:
        return "exclude_ids in the config decides it: change the config instead"
    if found.arxiv_id in matcher.include_ids:
        return "include_ids in the config decides it: change the config instead"
    if found.status in IN_PROFILE or found.paper is None:
        return None
    if matcher.matching_author(found.paper) is None:
        name = matcher.profile.name
        return f"its author list does not name {name!r}: rejected by name, nothing to decide"
    return None


def _canonical(key: str, text: str) -> str:
    try:
        return parse_arxiv_id(text)[0]
    except InvalidIdentifierError as exc:
        raise PaperNotFoundError(key, [text], str(exc)) from None


def render_queue(key: str, held: Sequence[HeldPaper], pending: Sequence[Decided] = ()) -> str:
    """One paper a line: id, score, reason, then the title indented below it; then the
    decisions waiting for the next harvest."""
    if not held:
        lines = [f"{key}: no papers held for review"]
    else:
        lines = [f"{key}: {_papers(len(held))} held for review"]
    for paper in held:
        score = "-" if paper.score is None else f"{paper.score:.2f}"
        mark = f"  [{paper.pending}: applied at the next harvest]" if paper.pending else ""
        lines.append(f"{paper.arxiv_id}  score {score}  {paper.reason or ''}{mark}")
        lines.append(f"    {' '.join(paper.title.split())}")
    if pending:
        count = f"{len(pending)} decision{'' if len(pending) == 1 else 's'}"
        lines.append(f"{key}: {count} waiting for the next harvest")
    for d in pending:
        now = d.status or "not harvested"
        lines.append(f"{d.arxiv_id}  {d.ruling.decision} {_when(d.ruling.decided_at)}  now {now}")
        lines.append(f"    {' '.join(d.title.split())}")
    return "\n".join(lines) + "\n"


def _papers(count: int) -> str:
    return f"{count} paper{'' if count == 1 else 's'}"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def queue_json(key: str, held: Sequence[HeldPaper], pending: Sequence[Decided] = ()) -> str:
    """The same as :func:`render_queue`, as JSON for other programs."""
    papers = [
        {
            "arxiv_id": p.arxiv_id,
            "title": p.title,
            "score": p.score,
            "reason": p.reason,
            "held_since": _iso(p.held_since),
            "pending": p.pending,
        }
        for p in held
    ]
    decisions = [
        {
            "arxiv_id": d.arxiv_id,
            "title": d.title,
            "decision": str(d.ruling.decision),
            "decided_at": _iso(d.ruling.decided_at),
            "status": d.status,
        }
        for d in pending
    ]
    data = {"author_key": key, "held": papers, "pending_decisions": decisions}
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
