"""One query's harvest outcome, recorded in one transaction, each author alone.

:meth:`Store.record_harvests <harvester.store.repository.Store.record_harvests>` is the
whole write side of a complete harvest: inside ONE transaction it confirms the lease of the
query's authors, then for each author, in a savepoint of its own (:func:`record_isolated`),
loads what the profile last saw, plans the changes (:func:`harvester.changes.plan_changes`,
pure), writes the papers, memberships, events and count change; then, for all the query's
authors at once, it closes the runs and moves the watermarks. For each author either all
of it is written or none: a database error while writing one author rolls back its
savepoint alone, and its run is closed as failed with the reason. The other outcomes (a
failed or incomplete fetch, a skipped author) only close runs, and keep whatever valid
papers arrived.

One transaction a query rather than one an author: a steady cycle for 2,000 authors
commits a few dozen times instead of 2,000, and confirms each lease once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..changes import Observation, Plan, Seen, Standing, plan_changes
from ..errors import DatabaseError
from ..evidence import Anchors, Ruling, settle
from ..matching import MatchDecision
from ..records import Paper
from ..vocabulary import EventKind, Membership, RunStatus
from . import schema as t
from .decisions import load_rulings, member_papers, pending, set_ambiguous
from .leases import Lease
from .memberships import load_papers, seen_of
from .papers import chunks, log_changes, save_papers, unchanged_papers
from .problems import database_error, readable


@dataclass(frozen=True, slots=True)
class RunTotals:
    """What a finished run reports in ``harvest_runs``."""

    status: RunStatus
    requests: int = 0
    entries_seen: int = 0
    new_papers: int = 0
    new_versions: int = 0
    events: int = 0
    error: str | None = None
    stale_entries: int = 0

    @classmethod
    def of_plan(cls, plan: Plan, requests: int, entries_seen: int) -> RunTotals:
        if plan.suspect_reason is not None:
            return cls(RunStatus.SUSPECT, requests, entries_seen, error=plan.suspect_reason)
        return cls(
            RunStatus.OK,
            requests,
            entries_seen,
            plan.count(EventKind.NEW_PAPER),
            plan.count(EventKind.NEW_VERSION),
            len(plan.events),
            stale_entries=len(plan.stale),
        )

    def values(self) -> dict[str, Any]:
        """The ``run`` columns these totals set."""
        return {
            "status": self.status,
            "requests": self.requests,
            "entries_seen": self.entries_seen,
            "new_papers": self.new_papers,
            "new_versions": self.new_versions,
            "events": self.events,
            "error": self.error,
            "stale_entries": self.stale_entries,
        }


@dataclass(frozen=True, slots=True)
class AuthorHarvest:
    """One author's share of a complete answer, ready to be planned and written.

    ``decide`` is the author's matcher; it also re-checks a stored paper the answer did
    not return when the identity changed. ``full``: the answer covered every paper (only
    then may one go ``missing``). ``identity``: the fingerprint of the configured identity.
    ``anchors``: what settles identity beyond names (:mod:`harvester.evidence`; the store
    adds people's decisions); None: names alone decide, as before identity evidence.
    """

    key: str
    run_id: int
    identity: str
    papers: Sequence[Paper]
    decide: Callable[[Paper], MatchDecision]
    full: bool
    watermark: datetime
    requests: int
    anchors: Anchors | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What :func:`record_harvest` wrote (nothing but the run when the plan is suspect)."""

    plan: Plan
    totals: RunTotals


def record_harvests(
    conn: Connection, harvests: Sequence[AuthorHarvest], now: datetime, lease: Lease | None
) -> list[Recorded | DatabaseError]:
    """Record one query's complete harvests inside ``conn``'s transaction: the lease
    confirmed once, what the store holds for them read in a few statements
    (:class:`Known`), then each author alone (:func:`record_isolated`), then the runs
    closed and the coverage moved for all of them at once. A steady cycle's cost is this
    bookkeeping: it takes a few statements per query, not several per author."""
    if lease is not None:
        lease.confirm(conn)
    known = Known.load(conn, harvests)
    outcomes = [record_isolated(conn, h, now, known) for h in harvests]
    pairs = list(zip(harvests, outcomes, strict=True))
    finish_runs(conn, [(h.run_id, _totals(h, o)) for h, o in pairs], now)
    written = [h for h, o in pairs if _was_written(o)]
    for (watermark, full), keys in _by_coverage(written).items():
        _advance_coverage(conn, keys, watermark, now if full else None)
    return outcomes


@dataclass(frozen=True, slots=True)
class Known:
    """What the store holds for one query's authors, read before any of them is written:
    the identity of each one's last complete harvest, its memberships (all of them for a
    full harvest, those of the returned papers for an incremental one), its counts, and
    which returned papers are stored exactly as returned.

    Each author's part stays true while the others are written, since an author writes
    only its own memberships; so does ``unchanged``: every author of a query gets the same
    copy of a paper, so an earlier author's write leaves it as this one would."""

    baselines: Mapping[str, str | None]
    memberships: Mapping[str, list[Any]]
    standings: Mapping[str, Standing]
    unchanged: frozenset[str]
    #: people's decisions (``harvest review``), by author and id
    rulings: Mapping[str, dict[str, Ruling]] = dataclass_field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, harvests: Sequence[AuthorHarvest]) -> Known:
        partial = [h.key for h in harvests if not h.full]
        papers = [p for h in harvests for p in h.papers]
        return cls(
            baselines=_baseline_identities(conn, [h.key for h in harvests]),
            memberships=_membership_rows(conn, harvests),
            standings=_standings(conn, partial),
            unchanged=frozenset(unchanged_papers(conn, papers)),
            rulings=load_rulings(conn, [h.key for h in harvests if h.anchors is not None]),
        )

    def seen(self, author_key: str) -> dict[str, Seen]:
        with readable(f"membership of {author_key}"):
            return seen_of(self.memberships.get(author_key, ()))

    def quiet(self, harvest: AuthorHarvest, plan: Plan) -> bool:
        """Nothing to write for this author but its run: no paper, membership, event, count
        or identity (the common case of a steady cycle, which then takes no savepoint)."""
        return (
            not plan.writes
            and not plan.events
            and not plan.count_changed
            and self.baselines.get(harvest.key) == harvest.identity
            and all(p.arxiv_id in self.unchanged for p in harvest.papers)
        )


def record_isolated(
    conn: Connection, harvest: AuthorHarvest, now: datetime, known: Known
) -> Recorded | DatabaseError:
    """One author's harvest in a savepoint: what it wrote, or the database error that
    rolled it back (the caller then closes the run as failed, saying why). An incremental
    harvest is planned from ``known`` alone, and one with nothing to write takes no
    savepoint."""
    plan = None
    if not harvest.full:
        plan = _plan(conn, harvest, known)
        if plan.suspect_reason is not None or known.quiet(harvest, plan):
            return Recorded(plan, RunTotals.of_plan(plan, harvest.requests, len(harvest.papers)))
    try:
        with conn.begin_nested():
            return record_harvest(conn, harvest, now, known, plan)
    except SQLAlchemyError as exc:
        return database_error(exc, "database write failed")


def record_harvest(
    conn: Connection, harvest: AuthorHarvest, now: datetime, known: Known, plan: Plan | None
) -> Recorded:
    """Plan (unless ``plan`` is given) and write one author's papers, memberships, events
    and count change inside ``conn``'s transaction. The run and the coverage are the
    caller's (:func:`record_harvests`)."""
    if plan is None:
        plan = _plan(conn, harvest, known)
    totals = RunTotals.of_plan(plan, harvest.requests, len(harvest.papers))
    if plan.suspect_reason is None:
        save_papers(conn, harvest.papers, now)
        _apply_plan(conn, harvest.key, plan, harvest.run_id, now)
        if plan.ambiguous is not None:
            set_ambiguous(conn, harvest.key, plan.ambiguous)
        if known.baselines.get(harvest.key) != harvest.identity:
            _set_baseline(conn, harvest.key, harvest.identity)
    return Recorded(plan, totals)


def _totals(harvest: AuthorHarvest, outcome: Recorded | DatabaseError) -> RunTotals:
    if isinstance(outcome, Recorded):
        return outcome.totals
    return RunTotals(RunStatus.FAILED, harvest.requests, error=f"not stored: {outcome}")


def _was_written(outcome: Recorded | DatabaseError) -> bool:
    return isinstance(outcome, Recorded) and outcome.plan.suspect_reason is None


def _by_coverage(harvests: Sequence[AuthorHarvest]) -> dict[tuple[datetime, bool], list[str]]:
    """Authors by the coverage their harvest gives them: (watermark, full)."""
    groups: dict[tuple[datetime, bool], list[str]] = {}
    for h in harvests:
        groups.setdefault((h.watermark, h.full), []).append(h.key)
    return groups


def _plan(conn: Connection, harvest: AuthorHarvest, known: Known) -> Plan:
    """What the harvest changes, against what the profile last saw: every membership for
    a full harvest; for an incremental one, the memberships of the papers it returned and
    the profile's counts (the same plan: a partial plan looks at nothing else)."""
    baseline = known.baselines.get(harvest.key)
    observations = [Observation(p, harvest.decide(p)) for p in harvest.papers]
    seen = known.seen(harvest.key)
    fresh = baseline != harvest.identity
    ambiguous = None
    if harvest.anchors is not None:
        anchors = replace(harvest.anchors, rulings=known.rulings.get(harvest.key, {}))
        if not harvest.full:
            observations += pending(
                conn, harvest.key, harvest.papers, harvest.decide, anchors, seen
            )
        settled = settle(
            observations,
            anchors,
            seen,
            fresh=fresh,
            members=lambda: member_papers(conn, harvest.key),
        )
        observations, ambiguous = settled.observations, settled.ambiguous

    def still_belongs(arxiv_id: str) -> bool:  # asked by full harvests only
        stored = load_papers(conn, [arxiv_id]).get(arxiv_id)
        return stored is not None and harvest.decide(stored).accepted

    plan = plan_changes(
        seen,
        observations,
        baseline=baseline is None,
        identity_changed=baseline not in (None, harvest.identity),
        still_belongs=still_belongs,
        partial=not harvest.full,
        standing=None if harvest.full else known.standings[harvest.key],
    )
    plan.ambiguous = ambiguous
    return plan


def _membership_rows(conn: Connection, harvests: Sequence[AuthorHarvest]) -> dict[str, list[Any]]:
    """Each author's membership rows: all of them for a full harvest, those of the papers
    it returned for an incremental one."""
    m = t.membership.c
    rows: dict[str, list[Any]] = {}
    for chunk in chunks([h.key for h in harvests if h.full]):
        for r in conn.execute(select(t.membership).where(m.author_key.in_(chunk))):
            rows.setdefault(r.author_key, []).append(r)
    wanted = {(h.key, p.arxiv_id) for h in harvests if not h.full for p in h.papers}
    keys = sorted({key for key, _ in wanted})
    ids = sorted({arxiv_id for _, arxiv_id in wanted})
    for key_chunk in chunks(keys):
        for id_chunk in chunks(ids):
            where = (m.author_key.in_(key_chunk), m.arxiv_id.in_(id_chunk))
            for r in conn.execute(select(t.membership).where(*where)):
                if (r.author_key, r.arxiv_id) in wanted:
                    rows.setdefault(r.author_key, []).append(r)
    return rows


def _standings(conn: Connection, author_keys: Sequence[str]) -> dict[str, Standing]:
    """Each profile's active papers and how many of them are withdrawn (none: 0 and 0)."""
    m = t.membership.c
    withdrawn = func.coalesce(func.sum(case((m.seen_withdrawn, 1), else_=0)), 0)
    found: dict[str, Standing] = {}
    for chunk in chunks(author_keys):
        stmt = (
            select(m.author_key, func.count(), withdrawn)
            .where(m.author_key.in_(chunk), m.status == Membership.ACTIVE)
            .group_by(m.author_key)
        )
        found.update((key, Standing(int(n), int(w))) for key, n, w in conn.execute(stmt))
    return {key: found.get(key, Standing(0, 0)) for key in author_keys}


def finish_runs(conn: Connection, runs: Sequence[tuple[int, RunTotals]], now: datetime) -> None:
    """Close runs with their totals: one statement, executed for every run."""
    if not runs:
        return
    r = t.run.c
    columns = list(RunTotals(RunStatus.OK).values())
    stmt = (
        update(t.run)
        .where(r.run_id == bindparam("b_run_id"))
        .values(finished_at=bindparam("b_finished_at"), **{c: bindparam(f"b_{c}") for c in columns})
    )
    params = [
        {
            "b_run_id": run_id,
            "b_finished_at": now,
            **{f"b_{c}": v for c, v in totals.values().items()},
        }
        for run_id, totals in runs
    ]
    conn.execute(stmt, params)


def insert_for(conn: Connection) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _baseline_identities(conn: Connection, author_keys: Sequence[str]) -> dict[str, str | None]:
    a = t.author.c
    stmt = select(a.key, a.baseline_identity).where(a.key.in_(list(author_keys)))
    return {r.key: r.baseline_identity for r in conn.execute(stmt)}


def _apply_plan(conn: Connection, author_key: str, plan: Plan, run_id: int, now: datetime) -> None:
    """Write a plan's memberships, events and count change."""
    if plan.writes:
        _upsert_memberships(conn, [_membership_row(author_key, s, now) for s in plan.writes])
        log_changes(conn, [s.arxiv_id for s in plan.writes])
    if plan.events:
        events = [
            _event_row(author_key, e.arxiv_id, e.kind, e.detail, now, run_id) for e in plan.events
        ]
        conn.execute(t.event.insert(), events)
    if plan.count_changed:
        conn.execute(
            t.count_change.insert().values(
                author_key=author_key,
                recorded_at=now,
                paper_count=plan.paper_count,
                withdrawn_count=plan.withdrawn_count,
                previous_count=None if plan.baseline else plan.previous_count,
                run_id=run_id,
            )
        )


def _upsert_memberships(conn: Connection, rows: list[dict[str, Any]]) -> None:
    stmt = insert_for(conn)(t.membership)
    changing = (
        "status",
        "matched_name",
        "reason",
        "seen_version",
        "seen_withdrawn",
        "seen_meta",
        "score",
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["author_key", "arxiv_id"],
        set_={c: stmt.excluded[c] for c in (*changing, "since")},
    )
    conn.execute(stmt, rows)


def _advance_coverage(
    conn: Connection, author_keys: Sequence[str], watermark: datetime, full_at: datetime | None
) -> None:
    """After complete harvests: each watermark only moves forward; a full harvest is dated."""
    a = t.author.c
    keys = list(author_keys)
    conn.execute(
        update(t.author)
        .where(a.key.in_(keys), or_(a.watermark.is_(None), a.watermark < watermark))
        .values(watermark=watermark)
    )
    if full_at is not None:
        conn.execute(update(t.author).where(a.key.in_(keys)).values(last_full_at=full_at))


def _set_baseline(conn: Connection, author_key: str, identity: str) -> None:
    """Remember the identity the profile was last completely harvested with."""
    stmt = update(t.author).where(
        t.author.c.key == author_key,
        t.author.c.baseline_identity.is_distinct_from(identity),
    )
    conn.execute(stmt.values(baseline_identity=identity))


def _membership_row(author_key: str, s: Seen, now: datetime) -> dict[str, Any]:
    return {
        "author_key": author_key,
        "arxiv_id": s.arxiv_id,
        "status": s.status,
        "matched_name": s.matched_name,
        "reason": s.reason,
        "seen_version": s.version,
        "seen_withdrawn": s.withdrawn,
        "seen_meta": json.dumps(s.meta, sort_keys=True),
        "since": now,
        "score": s.score,
    }


def _event_row(
    author_key: str, arxiv_id: str, kind: str, detail: str | None, now: datetime, run_id: int
) -> dict[str, Any]:
    return {
        "author_key": author_key,
        "arxiv_id": arxiv_id,
        "kind": kind,
        "detail": detail,
        "recorded_at": now,
        "run_id": run_id,
    }
