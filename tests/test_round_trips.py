"""A harvest's statements do not grow with its authors: on PostgreSQL each statement is a
round trip, and one an author made a steady cycle at a million papers three times slower
than on SQLite. A query's authors are read, started, written and closed together
(:mod:`harvester.store.harvests`, :mod:`harvester.store.snapshot`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.synthetic import add_new_papers, author_config, synthetic_corpus
from harvester.cycle import CycleReport
from harvester.store import Store
from harvester.store.copying import COPY_MIN_ROWS

from .support import downgrade, harvest, make_settings, rows

COLD = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
ONE_QUERY = {"group_query_chars": 8000, "full_every_days": 365}
"""Every author in one query (30 names fit in 8,000 characters), no scheduled full
reconciliation, and (with :data:`ONE_PAGE`) its answer in one page: the cycles compared
cost the same requests."""
ONE_PAGE = 200
PAPERS = 8
"""Papers an author: the cold import of 30 writes 240 memberships, enough to go by
``COPY`` on PostgreSQL (:data:`harvester.store.copying.COPY_MIN_ROWS`)."""


@pytest.fixture
def thirty() -> Iterator[tuple[LookalikeServer, list[dict[str, str]]]]:
    corpus, authors = synthetic_corpus(30, PAPERS, seed=3)
    with LookalikeServer(corpus) as server:
        yield server, author_config(authors)


def counted(run: Callable[[], CycleReport]) -> tuple[list[str], CycleReport]:
    """The statements every engine sent while ``run`` ran, and what it returned; an
    ``ANALYZE`` or ``VACUUM`` left out: a cycle sends one only when a table has never been
    analyzed, its rows grew or shrank by a tenth, or a fifth of them are dead
    (``Store.tidy_if_stale``), once a schema here, not per author."""
    seen: list[str] = []

    def note(*args: object) -> None:
        if not str(args[2]).startswith(("ANALYZE", "VACUUM")):
            seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        report = run()
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    return seen, report


def test_a_steady_cycle_costs_the_same_statements_for_3_authors_as_for_30(
    store: Store, db_url: str, thirty: tuple[LookalikeServer, list[dict[str, str]]]
) -> None:
    """A steady cycle of 30 authors sends the statements one of 3 sends (their runs
    started, their snapshot read, their runs closed: each once for the query)."""
    server, authors = thirty
    settings = make_settings(
        db_url, server.url, authors=authors, harvest=ONE_QUERY, page_size=ONE_PAGE
    )
    assert harvest(store, settings, when=COLD).exit_code == 0
    assert COPY_MIN_ROWS <= 30 * PAPERS
    stored = rows(store, "SELECT COUNT(*), COUNT(DISTINCT author_key) FROM profile_papers")
    assert stored == [(30 * PAPERS, 30)]

    def steady(count: int, when: datetime) -> tuple[list[str], CycleReport]:
        chosen = make_settings(
            db_url, server.url, authors=authors[:count], harvest=ONE_QUERY, page_size=ONE_PAGE
        )
        return counted(partial(harvest, store, chosen, when=when))

    few, few_report = steady(3, COLD + timedelta(hours=1))
    many, many_report = steady(30, COLD + timedelta(hours=2))
    assert [a.status for a in many_report.authors] == ["ok"] * 30
    assert len(few_report.authors) == 3
    assert sum(a.requests for a in few_report.authors) == sum(
        a.requests for a in many_report.authors
    )
    assert len(many) == len(few), "\n".join(many)
    runs = rows(store, "SELECT COUNT(*) FROM harvest_runs WHERE status = 'ok'")
    assert runs == [(30 + 3 + 30,)]


def test_new_papers_for_many_authors_are_written_in_statements_a_query(
    store: Store, db_url: str
) -> None:
    """A cycle that finds a new paper for 3 authors and one that finds one for 30 write in
    the same statements (every author's papers, memberships, events and counts at once)."""
    corpus, synthetic = synthetic_corpus(30, 4, seed=4)
    authors = author_config(synthetic)
    with LookalikeServer(corpus) as server:
        settings = make_settings(
            db_url, server.url, authors=authors, harvest=ONE_QUERY, page_size=ONE_PAGE
        )
        assert harvest(store, settings, when=COLD).exit_code == 0
        counts = []
        for count, hours in ((3, 1), (30, 2)):
            when = COLD + timedelta(hours=hours)
            for author in synthetic[:count]:
                add_new_papers(corpus, [author], 1, published=when - timedelta(minutes=5))
            seen, report = counted(partial(harvest, store, settings, when=when))
            assert sum(a.new_papers for a in report.authors) == count, report.authors
            counts.append((len(seen), sum(a.requests for a in report.authors)))
    assert counts[0] == counts[1], counts
    stored = rows(store, "SELECT COUNT(*) FROM membership WHERE status = 'active'")
    assert stored == [(30 * 4 + 3 + 30,)]


def test_authors_another_process_holds_are_skipped_in_statements_a_query(
    store: Store, db_url: str, thirty: tuple[LookalikeServer, list[dict[str, str]]]
) -> None:
    """With several workers, most of a cycle's authors are held by another one: their
    ``skipped`` runs are written together, in as many statements for 30 as for 3."""
    server, authors = thirty
    store.sync_authors([(a["key"], a["name"]) for a in authors])
    lease, refusals = store.leases(owner="elsewhere:1").claim_many([a["key"] for a in authors])
    assert lease is not None and not refusals

    def held(count: int) -> tuple[list[str], CycleReport]:
        chosen = make_settings(db_url, server.url, authors=authors[:count], harvest=ONE_QUERY)
        return counted(partial(harvest, store, chosen, when=COLD))

    few, _ = held(3)
    many, report = held(30)
    assert {a.status for a in report.authors} == {"skipped"}
    assert all("leased by elsewhere:1" in (a.error or "") for a in report.authors)
    assert len(many) == len(few), "\n".join(many)
    skips = rows(store, "SELECT COUNT(*) FROM harvest_runs WHERE status = 'skipped'")
    assert skips == [(33,)]
    lease.release()


def test_migration_0013_indexes_the_run_log_and_goes_back(store: Store) -> None:
    """The run log's two indexes for a cycle's reads (the runs that ended after it began,
    the runs still marked running) are there after an upgrade, the second a partial one of
    the running runs alone; down to 0012 they go, up again they come back."""
    from sqlalchemy import inspect

    def run_indexes() -> dict[str, list[str | None]]:
        found = inspect(store.engine).get_indexes("run")
        return {i["name"]: i["column_names"] for i in found if i["name"] in _RUN_INDEXES}

    assert run_indexes() == _RUN_INDEXES
    with store.engine.connect() as conn:
        predicate = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_run_running'"
            if store.engine.dialect.name == "sqlite"
            else "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_run_running'"
            " AND schemaname = current_schema()"
        ).scalar_one()
    assert "running" in predicate
    downgrade(store, "0012")
    assert run_indexes() == {}
    store.upgrade()
    assert run_indexes() == _RUN_INDEXES


_RUN_INDEXES: dict[str, list[str | None]] = {
    "ix_run_author_key_finished_at": ["author_key", "finished_at"],
    "ix_run_running": ["author_key"],
}


def test_migration_0015_covers_a_querys_standings_and_member_ids(store: Store) -> None:
    """A query's paper counts and member ids are read from ``ix_membership_standing``
    alone, not from the membership rows (the widest rows of the database): an index-only
    scan on PostgreSQL, a covering index on SQLite, for the statements the snapshot runs.
    Down to 0014 the index goes, up again it comes back."""
    from harvester.store.snapshot import _member_ids, _standings

    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.startswith("SELECT"):
            seen.append((statement, parameters))

    with store.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", note)
        _standings(conn, ["a0", "a1"])
        _member_ids(conn, ["a0", "a1"])
        event.remove(conn, "before_cursor_execute", note)
        if not store.is_sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
        explain, covered = (
            ("EXPLAIN QUERY PLAN ", "COVERING INDEX ix_membership_standing")
            if store.is_sqlite
            else ("EXPLAIN ", "Index Only Scan using ix_membership_standing")
        )
        assert len(seen) == 2
        for statement, parameters in seen:
            plan = [str(r[-1]) for r in conn.exec_driver_sql(explain + statement, parameters)]
            assert any(covered in line for line in plan), plan
        conn.rollback()

    def standing() -> list[Any]:
        found = inspect(store.engine).get_indexes("membership")
        return [i["column_names"] for i in found if i["name"] == "ix_membership_standing"]

    assert standing() == [["author_key", "status", "seen_withdrawn", "arxiv_id"]]
    downgrade(store, "0014")
    assert standing() == []
    store.upgrade()
    assert len(standing()) == 1
