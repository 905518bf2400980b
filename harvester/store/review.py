"""The review queue and people's decisions (``harvest review``): every SQL statement of it.

:func:`held_papers` reads the public view ``review_queue`` (the papers held for review)
and the decisions still waiting for a harvest; :func:`decisions_of` every decision of a
profile with where its paper is now; :func:`tally_of` how many papers the profile accepted,
holds and rejected, and whether it is ambiguous; :func:`record_rulings` loads what each
decision would meet (:class:`Candidacy`), lets the caller's pure check refuse, then writes
the decisions into ``review_decision``, one row per author and paper (a later decision
replaces an earlier one), in one transaction: all ids are checked before any is written. A
decision takes effect at the author's next harvest, incremental or full
(:mod:`harvester.identity.evidence`), and lasts across all later ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Float, case, delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ProfileNotFoundError
from ..plans import Plan, Ruling, Seen, Standing
from ..records import Paper
from ..vocabulary import Membership, ReviewDecision, RunStatus
from . import schema as t
from .decisions import raw_moment, ruling_of
from .engine import among, insert_for, read_session
from .harvests import apply_plan
from .memberships import load_papers, score_of, seen_of
from .papers import chunks
from .problems import database_error
from .schema import UTCDateTime

_QUEUE = text(
    "SELECT arxiv_id, title, score, reason, held_since FROM review_queue"
    " WHERE author_key = :key ORDER BY score DESC, arxiv_id"
).columns(held_since=UTCDateTime, score=Float)


@dataclass(frozen=True, slots=True)
class HeldPaper:
    """One row of ``review_queue``, and the decision waiting for the next harvest."""

    arxiv_id: str
    title: str
    score: float | None
    reason: str | None
    held_since: datetime
    pending: str | None = None


def held_papers(engine: Engine, key: str) -> list[HeldPaper]:
    """The profile's held papers, most likely the author's first; unknown key: an error."""
    with read_session(engine, doing="cannot read the review queue", rows="held paper") as conn:
        _require(conn, key)
        d = t.review_decision.c
        stored = conn.execute(select(d.arxiv_id, d.decision).where(d.author_key == key))
        decided = {i: str(v) for i, v in stored if v in set(ReviewDecision)}  # others: ignored
        return [
            HeldPaper(
                r.arxiv_id,
                r.title,
                score_of(r.score),
                r.reason,
                r.held_since,
                decided.get(r.arxiv_id),
            )
            for r in conn.execute(_QUEUE, {"key": key})
        ]


@dataclass(frozen=True, slots=True)
class Tally:
    """Where a profile's candidates are: members (active or missing), held, rejected (by
    the evidence, a person or the config), and the evidence's ``ambiguous`` flag."""

    accepted: int
    held: int
    rejected: int
    ambiguous: bool


def tally_of(engine: Engine, key: str) -> Tally:
    """The profile's :class:`Tally`; unknown key: an error."""
    m, a = t.membership.c, t.author.c
    counted = select(m.status, func.count()).where(m.author_key == key).group_by(m.status)
    with read_session(engine, doing="cannot count the profile's papers", rows="membership") as conn:
        _require(conn, key)
        counts = {Membership(status): n for status, n in conn.execute(counted)}
        ambiguous = conn.execute(select(a.ambiguous).where(a.key == key)).scalar_one()

    def of(*statuses: Membership) -> int:
        return sum(counts.get(s, 0) for s in statuses)

    return Tally(
        accepted=of(Membership.ACTIVE, Membership.MISSING),
        held=of(Membership.HELD),
        rejected=of(Membership.REJECTED, Membership.EXCLUDED),
        ambiguous=bool(ambiguous),
    )


@dataclass(frozen=True, slots=True)
class Candidacy:
    """What a decision on one id meets: the paper's membership in the profile (status
    None: the profile has no such paper), the paper, and a person's earlier decision."""

    arxiv_id: str
    status: str | None
    score: float | None
    paper: Paper | None
    ruling: Ruling | None
    seen: Seen | None = None
    """The whole membership (what a decision applied at once changes)."""


@dataclass(frozen=True, slots=True)
class Decided:
    """A person's decision and where its paper is now (status and reason of the membership)."""

    arxiv_id: str
    title: str
    ruling: Ruling
    status: str | None
    reason: str | None


Check = Callable[[Mapping[str, Candidacy]], None]
"""Pure: raises when a decision cannot be taken (see :func:`harvester.review.decide`)."""
Apply = Callable[[Mapping[str, Candidacy], Standing], Plan]
"""Pure: what the decisions change in the profile now (memberships, events, count)."""
REVIEW_RUN = "not a harvest: a person's review decisions, applied at once"
"""The ``error`` of the ``skipped`` run a review's events and count change belong to (a
skipped run is no harvest for the status, the views or the run log)."""


def decisions_of(engine: Engine, key: str) -> list[Decided]:
    """Every decision a person took on the profile's papers, oldest first."""
    d, m, p = t.review_decision.c, t.membership.c, t.paper.c
    query = (
        select(d.arxiv_id, p.title, d.decision, raw_moment(d.decided_at), m.status, m.reason)
        .join(t.paper, p.arxiv_id == d.arxiv_id)
        .outerjoin(t.membership, (m.author_key == d.author_key) & (m.arxiv_id == d.arxiv_id))
        .where(d.author_key == key)
        .order_by(d.decided_at, d.arxiv_id)
    )
    with read_session(engine, doing="cannot read the decisions", rows="decision") as conn:
        _require(conn, key)
        found = [
            (r, ruling_of(key, r.arxiv_id, r.decision, r.decided_at)) for r in conn.execute(query)
        ]
        return [
            Decided(r.arxiv_id, r.title, ruling, r.status, r.reason)
            for r, ruling in found
            if ruling is not None
        ]


def record_rulings(
    engine: Engine,
    key: str,
    decisions: Mapping[str, ReviewDecision | None],
    now: datetime,
    check: Check = lambda _: None,
    apply: Apply | None = None,
) -> Plan | None:
    """Store a person's decisions on papers of profile ``key``, replacing earlier ones
    (None: forget the decision), unless ``check`` refuses (then nothing is written); with
    ``apply``, write what they change in the profile in the same transaction, and return
    it."""
    try:
        with engine.begin() as conn:
            _require(conn, key)
            found = _candidacies(conn, key, sorted(decisions))
            check(found)
            _write_rulings(conn, key, decisions, now)
            if apply is None:
                return None
            plan = apply(found, _standing(conn, key))
            if plan.writes or plan.events or plan.count_changed:
                apply_plan(conn, key, plan, _review_run(conn, key, now), now)
            return plan
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot record the review") from exc


def _write_rulings(
    conn: Connection, key: str, decisions: Mapping[str, ReviewDecision | None], now: datetime
) -> None:
    d = t.review_decision.c
    forgotten = [i for i, decision in decisions.items() if decision is None]
    for chunk in chunks(forgotten):
        conn.execute(
            delete(t.review_decision).where(d.author_key == key, among(conn, d.arxiv_id, chunk))
        )
    stmt = insert_for(conn)(t.review_decision)
    stmt = stmt.on_conflict_do_update(
        index_elements=["author_key", "arxiv_id"],
        set_={"decision": stmt.excluded.decision, "decided_at": stmt.excluded.decided_at},
    )
    rows = [
        {"author_key": key, "arxiv_id": i, "decision": decision, "decided_at": now}
        for i, decision in decisions.items()
        if decision is not None
    ]
    if rows:
        conn.execute(stmt, rows)


def _review_run(conn: Connection, key: str, now: datetime) -> int:
    """The finished ``skipped`` run a review's events belong to (:data:`REVIEW_RUN`)."""
    values = {"author_key": key, "started_at": now, "finished_at": now, "error": REVIEW_RUN}
    zero = dict.fromkeys(("requests", "entries_seen", "new_papers", "new_versions", "events"), 0)
    stmt = t.run.insert().values(**values, **zero, status=RunStatus.SKIPPED)
    inserted = conn.execute(stmt).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def _standing(conn: Connection, key: str) -> Standing:
    m = t.membership.c
    withdrawn = func.coalesce(func.sum(case((m.seen_withdrawn, 1), else_=0)), 0)
    stmt = select(func.count(), withdrawn).where(m.author_key == key, m.status == Membership.ACTIVE)
    count, gone = conn.execute(stmt).one()
    return Standing(int(count), int(gone))


def _require(conn: Connection, key: str) -> None:
    keys = list(conn.execute(select(t.author.c.key).order_by(t.author.c.key)).scalars())
    if key not in keys:
        raise ProfileNotFoundError(key, keys)


def _candidacies(conn: Connection, key: str, ids: Sequence[str]) -> dict[str, Candidacy]:
    """What each of ``ids`` is to the profile now, read in the writing transaction."""
    m, d = t.membership.c, t.review_decision.c
    found: dict[str, Candidacy] = {}
    for chunk in chunks(list(ids)):
        members = select(t.membership).where(m.author_key == key, among(conn, m.arxiv_id, chunk))
        stored = {r.arxiv_id: r for r in conn.execute(members)}
        seen = seen_of(stored.values())
        rulings = select(d.arxiv_id, d.decision, raw_moment(d.decided_at)).where(
            d.author_key == key, among(conn, d.arxiv_id, chunk)
        )
        ruled = {
            r.arxiv_id: ruling
            for r in conn.execute(rulings)
            if (ruling := ruling_of(key, r.arxiv_id, r.decision, r.decided_at)) is not None
        }
        papers = load_papers(conn, sorted(stored))
        for i in chunk:
            row = stored.get(i)
            status, score = (row.status, row.score) if row is not None else (None, None)
            found[i] = Candidacy(i, status, score, papers.get(i), ruled.get(i), seen.get(i))
    return found
