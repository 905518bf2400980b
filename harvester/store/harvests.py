"""One query's decided harvests, written in one short transaction, each author alone.

:meth:`Store.write_plans <harvester.store.repository.Store.write_plans>` is the whole
write side of a complete harvest. The decisions were taken before, on a snapshot
(:mod:`.snapshot`, :mod:`harvester.cycle.planning`); inside ONE transaction this confirms and
releases the lease of the query's authors (one statement; the lease ends as the transaction
commits), then writes every author's plan in one savepoint, each kind
of row in one statement for all of them (:func:`_write_together`): papers, memberships,
events, count changes, ambiguous flags and baseline identities; then it closes the runs and
moves the watermarks. For each author either all of it is written or none: when a database
error rolls the savepoint back, each author's plan is written again in a savepoint of its
own (:func:`write_isolated`), so the author whose rows fail alone is left unwritten and
its run closed as failed with the reason. The other outcomes (a failed or incomplete
fetch, a skipped author) only close runs, and keep whatever valid papers arrived.

Statements, not authors, are what a write costs on PostgreSQL (a round trip each): a
query of 150 authors writes in about fifteen statements, and its many rows (a cold
import's) go by ``COPY`` (:mod:`.copying`).

One transaction a query rather than one an author: a steady cycle for 2,000 authors
commits a few dozen times instead of 2,000, and confirms each lease once. The lease
confirmation is also what keeps the snapshot valid (see :mod:`harvester.cycle.planning`): a
process that lost its lease since it read the snapshot writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..config import NotifySettings
from ..errors import DatabaseError
from ..plans import AuthorPlan, Plan, Seen, Shortfall
from ..vocabulary import EventKind, RunStatus
from . import schema as t
from .copying import copy_rows, copy_wanted, staged
from .decisions import set_ambiguous, set_ambiguous_many
from .engine import among, insert_for
from .leases import Lease
from .outbox import write_items, write_items_many
from .papers import insert_rows, log_changes, save_papers
from .problems import database_error


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
    def of_plan(
        cls, plan: Plan, requests: int, entries_seen: int, shortfall: Shortfall | None = None
    ) -> RunTotals:
        """An ``ok`` run, ``suspect`` when the plan is, or the ``shortfall``'s status and
        error with what the incomplete harvest recorded all the same."""
        if plan.suspect_reason is not None:
            return cls(RunStatus.SUSPECT, requests, entries_seen, error=plan.suspect_reason)
        if shortfall is not None:
            entries_seen += shortfall.refused
        return cls(
            RunStatus.OK if shortfall is None else shortfall.status,
            requests,
            entries_seen,
            plan.count(EventKind.NEW_PAPER),
            plan.count(EventKind.NEW_VERSION),
            len(plan.events),
            error=None if shortfall is None else shortfall.error,
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
class Recorded:
    """What :func:`write_isolated` wrote (nothing but the run when the plan is suspect)."""

    plan: Plan
    totals: RunTotals


def write_plans(
    conn: Connection,
    plans: Sequence[AuthorPlan],
    now: datetime,
    lease: Lease | None,
    targets: Sequence[NotifySettings] = (),
) -> list[Recorded | DatabaseError]:
    """Write one query's decided plans inside ``conn``'s transaction: the lease of their
    authors confirmed and released with the write (nothing is written if it was lost; the
    caller tells the lease once it commits), each author alone (:func:`write_isolated`),
    then the runs closed and the coverage moved for all of them at once (not for an
    incomplete harvest: what it did not read is not covered). A steady cycle's
    cost is this bookkeeping: a few statements per query, not several per author.
    ``targets``: the notification targets whose outbox items go with the events
    (:mod:`.outbox`)."""
    if lease is not None:
        lease.release_with(conn, [p.key for p in plans])
    outcomes = _write_together(conn, plans, now, targets)
    if outcomes is None:  # one author's write failed: each alone, to know whose
        outcomes = [write_isolated(conn, p, now, targets) for p in plans]
    pairs = list(zip(plans, outcomes, strict=True))
    finish_runs(conn, [(p.run_id, _totals(p, o)) for p, o in pairs], now)
    written = [p for p, o in pairs if _was_written(o) and p.shortfall is None]
    for (watermark, full), keys in _by_coverage(written).items():
        _advance_coverage(conn, keys, watermark, now if full else None)
    return outcomes


def _write_together(
    conn: Connection, plans: Sequence[AuthorPlan], now: datetime, targets: Sequence[NotifySettings]
) -> list[Recorded | DatabaseError] | None:
    """Every author's plan in one savepoint, each kind of row in one statement for all of
    them (a statement a query, not one an author: on PostgreSQL each is a round trip).
    None when a database error rolled it back: the caller then writes each author alone
    (:func:`write_isolated`), so that one author's failure keeps it alone unwritten."""
    outcomes: list[Recorded | DatabaseError] = [
        Recorded(p.plan, RunTotals.of_plan(p.plan, p.requests, len(p.papers), p.shortfall))
        for p in plans
    ]
    writing = [p for p in plans if p.plan.suspect_reason is None and not p.quiet]
    if not writing:
        return outcomes
    try:
        with conn.begin_nested():
            save_papers(conn, [paper for p in writing for paper in p.papers], now)
            apply_plans(conn, writing, now)
            set_ambiguous_many(conn, {p.key: p.plan.ambiguous for p in writing})
            _set_baselines(conn, {p.key: p.identity for p in writing})
            write_items_many(conn, writing, targets, now)
    except SQLAlchemyError:
        return None
    return outcomes


def write_isolated(
    conn: Connection, plan: AuthorPlan, now: datetime, targets: Sequence[NotifySettings] = ()
) -> Recorded | DatabaseError:
    """One author's plan in a savepoint: what it wrote, or the database error that rolled
    it back (the caller then closes the run as failed, saying why). A suspect or quiet
    plan writes nothing but its run, and takes no savepoint."""
    totals = RunTotals.of_plan(plan.plan, plan.requests, len(plan.papers), plan.shortfall)
    if plan.plan.suspect_reason is not None or plan.quiet:
        return Recorded(plan.plan, totals)
    try:
        with conn.begin_nested():
            write_plan(conn, plan, now)
            write_items(conn, plan, targets, now)
    except SQLAlchemyError as exc:
        return database_error(exc, "database write failed")
    return Recorded(plan.plan, totals)


def write_plan(conn: Connection, plan: AuthorPlan, now: datetime) -> None:
    """Write one author's papers, memberships, events, count change, ambiguous flag and
    baseline identity inside ``conn``'s transaction. The run and the coverage are the
    caller's (:func:`write_plans`)."""
    save_papers(conn, plan.papers, now)
    apply_plan(conn, plan.key, plan.plan, plan.run_id, now)
    if plan.plan.ambiguous is not None:
        set_ambiguous(conn, plan.key, plan.plan.ambiguous)
    if plan.identity is not None:
        _set_baseline(conn, plan.key, plan.identity)


def _totals(plan: AuthorPlan, outcome: Recorded | DatabaseError) -> RunTotals:
    if isinstance(outcome, Recorded):
        return outcome.totals
    return RunTotals(RunStatus.FAILED, plan.requests, error=f"not stored: {outcome}")


def _was_written(outcome: Recorded | DatabaseError) -> bool:
    return isinstance(outcome, Recorded) and outcome.plan.suspect_reason is None


def _by_coverage(plans: Sequence[AuthorPlan]) -> dict[tuple[datetime, bool], list[str]]:
    """Authors by the coverage their harvest gives them: (watermark, full)."""
    groups: dict[tuple[datetime, bool], list[str]] = {}
    for p in plans:
        groups.setdefault((p.watermark, p.full), []).append(p.key)
    return groups


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


def apply_plan(conn: Connection, author_key: str, plan: Plan, run_id: int, now: datetime) -> None:
    """Write a plan's memberships, events and count change."""
    if plan.writes:
        _upsert_memberships(conn, [_membership_row(author_key, s, now) for s in plan.writes])
        log_changes(conn, [s.arxiv_id for s in plan.writes])
    if plan.events:
        events = [
            _event_row(author_key, e.arxiv_id, e.kind, e.detail, now, run_id) for e in plan.events
        ]
        insert_rows(conn, t.event, events)
    if plan.count_changed:
        conn.execute(t.count_change.insert(), [_count_row(author_key, plan, run_id, now)])


def apply_plans(conn: Connection, plans: Sequence[AuthorPlan], now: datetime) -> None:
    """:func:`apply_plan` for several authors at once: one statement a kind of row."""
    writes = [(p.key, s) for p in plans for s in p.plan.writes]
    if writes:
        _upsert_memberships(conn, [_membership_row(key, s, now) for key, s in writes])
        log_changes(conn, [s.arxiv_id for _, s in writes])
    events = [
        _event_row(p.key, e.arxiv_id, e.kind, e.detail, now, p.run_id)
        for p in plans
        for e in p.plan.events
    ]
    insert_rows(conn, t.event, events)
    counts = [_count_row(p.key, p.plan, p.run_id, now) for p in plans if p.plan.count_changed]
    if counts:
        conn.execute(t.count_change.insert(), counts)


def _count_row(author_key: str, plan: Plan, run_id: int, now: datetime) -> dict[str, Any]:
    return {
        "author_key": author_key,
        "recorded_at": now,
        "paper_count": plan.paper_count,
        "withdrawn_count": plan.withdrawn_count,
        "previous_count": None if plan.baseline else plan.previous_count,
        "run_id": run_id,
    }


def _upsert_memberships(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or rewrite membership rows; many of them on PostgreSQL by ``COPY`` into a
    temporary table, then one ``INSERT ... SELECT ... ON CONFLICT``."""
    if copy_wanted(conn, rows):
        with staged(conn, t.membership) as incoming:
            copy_rows(conn, t.membership, rows, into=incoming.name)
            columns = list(rows[0])
            select_all = select(*(incoming.c[c] for c in columns))
            conn.execute(_on_membership_conflict(conn, select_all, columns))
        return
    conn.execute(_on_membership_conflict(conn), rows)


def _on_membership_conflict(
    conn: Connection, rows_from: Select[Any] | None = None, columns: Sequence[str] = ()
) -> Any:
    """The membership upsert: of bound rows, or of ``rows_from`` (its ``columns``)."""
    stmt = insert_for(conn)(t.membership)
    if rows_from is not None:
        stmt = stmt.from_select(list(columns), rows_from)
    changing = (
        "status",
        "matched_name",
        "reason",
        "seen_version",
        "seen_withdrawn",
        "seen_meta",
        "score",
        "drawn_by",
    )
    return stmt.on_conflict_do_update(
        index_elements=["author_key", "arxiv_id"],
        set_={c: stmt.excluded[c] for c in (*changing, "since")},
    )


def _advance_coverage(
    conn: Connection, author_keys: Sequence[str], watermark: datetime, full_at: datetime | None
) -> None:
    """After complete harvests: each watermark only moves forward; a full harvest is dated."""
    a = t.author.c
    keys = list(author_keys)
    conn.execute(
        update(t.author)
        .where(among(conn, a.key, keys), or_(a.watermark.is_(None), a.watermark < watermark))
        .values(watermark=watermark)
    )
    if full_at is not None:
        conn.execute(update(t.author).where(among(conn, a.key, keys)).values(last_full_at=full_at))


def _set_baseline(conn: Connection, author_key: str, identity: str) -> None:
    """Remember the identity the profile was last completely harvested with."""
    stmt = update(t.author).where(
        t.author.c.key == author_key,
        t.author.c.baseline_identity.is_distinct_from(identity),
    )
    conn.execute(stmt.values(baseline_identity=identity))


def _set_baselines(conn: Connection, identities: dict[str, str | None]) -> None:
    """:func:`_set_baseline` for several authors (None: left as it is), one executemany."""
    a = t.author.c
    params = [{"b_key": k, "b_identity": i} for k, i in identities.items() if i is not None]
    if not params:
        return
    stmt = update(t.author).where(
        a.key == bindparam("b_key"), a.baseline_identity.is_distinct_from(bindparam("b_identity"))
    )
    conn.execute(stmt.values(baseline_identity=bindparam("b_identity")), params)


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
        "drawn_by": " ".join(s.drawn_by) or None,
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
