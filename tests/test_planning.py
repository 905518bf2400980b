"""Decide, then write: the decisions are pure and run on a snapshot; the store only reads
the snapshot and writes the plans.

The pure tests build a :class:`~harvester.plans.Snapshot` by hand (no database, no
server); the store tests write a decided plan into a real database and count what the
write transaction does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from arxiv_lookalike import LookalikeServer
from harvester.changes import meta_of
from harvester.cycle import AuthorHarvest, decide, draft, needs
from harvester.identity import Anchors, Matcher
from harvester.plans import AuthorSnapshot, Extras, Ruling, Seen, Snapshot, Standing
from harvester.records import Author, Paper
from harvester.store import Recorded, Store
from harvester.vocabulary import EventKind, HarvestMode, Membership, ReviewDecision

from .support import REPO, SEED_AUTHOR, SEED_KEY, harvest, make_settings, rows

WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY, NAME = "kakade", "Sham Kakade"
MATCHER = Matcher.for_profile(KEY, NAME)


def paper(arxiv_id: str, *names: str) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=f"Paper {arxiv_id}",
        summary="An abstract.",
        published=WHEN,
        updated=WHEN,
        authors=tuple(Author(n) for n in names),
        primary_category="cs.LG",
        categories=("cs.LG",),
        comment=None,
        journal_ref=None,
        doi=None,
        withdrawn=False,
    )


def member(p: Paper, status: Membership = Membership.ACTIVE) -> Seen:
    matched = NAME if status == Membership.ACTIVE else None
    return Seen(p.arxiv_id, status, matched, None, p.version, p.withdrawn, meta_of(p))


def author_harvest(
    papers: tuple[Paper, ...], *, full: bool, identity: str = "same"
) -> AuthorHarvest:
    return AuthorHarvest(KEY, 1, identity, papers, MATCHER.decide, full, WHEN, 1, Anchors(MATCHER))


def test_a_held_paper_a_person_accepted_is_planned_active_from_the_snapshot() -> None:
    """An incremental harvest that did not return the paper: the decision, read in the
    snapshot, makes the planner ask for the stored paper and plan it into the profile."""
    held = paper("2601.00001", NAME, "Someone Else")
    ruling = Ruling(ReviewDecision.ACCEPTED, WHEN)
    part = AuthorSnapshot(
        baseline="same",
        standing=Standing(3, 0),
        rulings={held.arxiv_id: ruling},
        pending={held.arxiv_id: member(held, Membership.HELD)},
    )
    found = draft(author_harvest((), full=False), Snapshot({KEY: part}))
    asked = needs([found])
    assert asked.papers == {held.arxiv_id} and asked.members_of == {KEY}
    with pytest.raises(ValueError, match="member papers"):
        decide(found, Extras(papers={held.arxiv_id: held}))  # what it asked for is missing
    plan = decide(found, Extras(members={KEY: []}, papers={held.arxiv_id: held}))
    assert [(s.arxiv_id, s.status) for s in plan.plan.writes] == [
        (held.arxiv_id, Membership.ACTIVE)
    ]
    assert [e.kind for e in plan.plan.events] == [EventKind.NEW_PAPER]
    assert plan.plan.paper_count == 4 and not plan.quiet and plan.identity is None


def test_a_full_harvest_keeps_a_missing_paper_that_still_belongs_to_a_changed_identity() -> None:
    """The identity changed: of the members a full harvest did not return, the planner
    re-checks the stored papers; one that still matches goes missing (still the author's),
    one that no longer does is excluded; the new identity is remembered."""
    kept, returned = paper("2601.00002", NAME), paper("2601.00003", NAME)
    gone = paper("2601.00004", "S. Kakade")  # matched an alias the new identity dropped
    part = AuthorSnapshot(
        baseline="old", seen={p.arxiv_id: member(p) for p in (kept, returned, gone)}
    )
    found = draft(author_harvest((returned,), full=True, identity="new"), Snapshot({KEY: part}))
    asked = needs([found])  # a fresh identity: the evidence weighs the returned paper
    assert asked.papers == {kept.arxiv_id, gone.arxiv_id} and asked.members_of == {KEY}
    stored = {p.arxiv_id: p for p in (kept, gone)}
    plan = decide(found, Extras(members={KEY: [kept, returned, gone]}, papers=stored))
    events = {e.arxiv_id: e.kind for e in plan.plan.events}
    assert events == {kept.arxiv_id: EventKind.MISSING, gone.arxiv_id: EventKind.EXCLUDED}
    statuses = {s.arxiv_id: s.status for s in plan.plan.writes}
    assert statuses == {
        kept.arxiv_id: Membership.MISSING,
        gone.arxiv_id: Membership.EXCLUDED,
        returned.arxiv_id: Membership.ACTIVE,  # same status, a new reason: rewritten
    }
    assert plan.identity == "new" and plan.plan.suspect_reason is None


def test_a_steady_author_needs_nothing_more_and_is_quiet() -> None:
    """Nothing returned, nothing pending, the same identity: no extra read, nothing to
    write but the run."""
    part = AuthorSnapshot(baseline="same", standing=Standing(76, 0))
    found = draft(author_harvest((), full=False), Snapshot({KEY: part}))
    assert not needs([found])
    plan = decide(found, Extras())
    assert plan.quiet and plan.plan.paper_count == 76 and plan.identity is None


FORBIDDEN = ("changes", "cycle", "evidence", "identity", "matching", "source")
"""What ``harvester/store/`` must not import: the decisions and the arXiv boundary."""


def imported(path: Path) -> Iterator[str]:
    """The absolute module names a file imports (relative ones resolved)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            yield module
            yield from (f"{module}.{a.name}" for a in node.names)


def test_the_store_imports_no_decision_and_the_decisions_no_store() -> None:
    store = [m for f in sorted((REPO / "harvester/store").glob("*.py")) for m in imported(f)]
    assert "harvester.plans.Snapshot" in store  # the check sees relative imports
    assert [m for m in store if m.split(".")[:2] in (["harvester", n] for n in FORBIDDEN)] == []
    planning = set(imported(REPO / "harvester/cycle/planning.py"))
    assert "harvester.changes.plan_changes" in planning
    assert not {m for m in planning if m.startswith(("harvester.store", "sqlalchemy"))}


def test_the_store_writes_a_decided_plan_in_one_transaction_that_reads_no_membership(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    """A new paper decided on a snapshot of a harvested profile: the write is one
    transaction, and it reads none of what the decisions read (memberships, decisions)."""
    harvest(store, make_settings(db_url, server.url, authors=[SEED_AUTHOR]), full=True)
    (identity,) = [r.baseline_identity for r in rows(store, "SELECT baseline_identity FROM author")]
    new = paper("2611.99999", "Sham M. Kakade", "Someone Else")
    matcher = Matcher.for_profile(SEED_KEY, "Sham Kakade", ("Sham M. Kakade",))
    run_id = store.start_run(SEED_KEY, WHEN, HarvestMode.INCREMENTAL)
    h = AuthorHarvest(SEED_KEY, run_id, identity, (new,), matcher.decide, False, WHEN, 1)
    snapshot = store.load_snapshot([h.wanted])
    found = draft(h, snapshot)
    plan = decide(found, store.load_extras(needs([found])))
    begun: list[object] = []
    statements: list[str] = []
    event.listen(store.engine, "begin", begun.append)
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: statements.append(statement),
    )
    (outcome,) = store.write_plans([plan], lambda: WHEN)
    assert len(begun) == 1, statements
    assert isinstance(outcome, Recorded) and outcome.totals.new_papers == 1
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if "membership" in s or "review_decision" in s], reads
    assert [e.kind for e in plan.plan.events] == [EventKind.NEW_PAPER]
    got = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = :k", k=SEED_KEY)
    assert got == [(77,)]
    assert rows(store, "SELECT status, new_papers FROM run WHERE run_id = :r", r=run_id) == [
        ("ok", 1)
    ]
