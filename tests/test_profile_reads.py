"""A profile is read in a fixed number of statements, whatever its number of papers.

At a million papers the render of a profile is what a person waits for (``harvest
profile``, each page of the site); each statement is a round trip to PostgreSQL. The
statements are counted with a SQLAlchemy hook on a real harvest of the look-alike's
synthetic corpus, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.synthetic import add_new_papers, author_config, synthetic_corpus
from harvester.config import Settings
from harvester.errors import DatabaseError
from harvester.profile import export_profile, load_profile, render
from harvester.records import Coauthor
from harvester.store import Store

from .support import (
    PG_ADMIN_URL,
    database_url,
    downgrade,
    harvest,
    make_settings,
    rows,
    run_cli,
    toml,
)


@contextmanager
def counted() -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def test_a_profile_is_read_in_the_same_statements_for_3_papers_as_for_30(
    store: Store, db_url: str
) -> None:
    """Two profiles of 3 and 30 papers (co-authors, years, categories and similar authors
    of their own): loading and rendering each (text, html, json) runs the same statements,
    and so does an export; both profiles are read whole."""
    corpus, authors = synthetic_corpus(2, 3)
    add_new_papers(corpus, authors[:1], 27)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(authors))
        report = harvest(store, settings, derive=True)
    assert report.exit_code == 0
    large, small = (a.key for a in authors)

    def statements(key: str) -> tuple[list[str], int]:
        with counted() as seen:
            profile = load_profile(store, key)
            for form in ("text", "html", "json"):
                render(profile, form)
            export_profile(store, key, "bibtex")
        return seen, len(profile.papers)

    few, three = statements(small)
    many, thirty = statements(large)
    assert (three, thirty) == (3, 30)
    assert len(few) == len(many)
    assert few == many  # the same statements, not only as many


def test_reads_hold_a_transaction_only_where_it_gives_one_snapshot(store: Store) -> None:
    """SQLite: a reader's statements share one (deferred) transaction, its snapshot.
    PostgreSQL: each statement runs on its own, with no BEGIN or ROLLBACK around them: at
    READ COMMITTED a transaction gives each statement its own snapshot anyway, and the two
    round trips were a fifth of a profile's read."""
    store.upgrade()
    with store.profiles() as reader:
        reader.index()
        driver = reader.conn.connection.driver_connection
        if store.is_sqlite:
            assert reader.conn.in_transaction() and driver.in_transaction
        else:
            from psycopg.pq import TransactionStatus

            assert driver.info.transaction_status == TransactionStatus.IDLE
            assert driver.autocommit


def test_postgresql_connections_of_the_store_compile_no_plan(tmp_path: Path) -> None:
    """At a million papers PostgreSQL compiled the read of a profile's years for 600 ms
    (JIT, for a plan estimated dear) to run it in 20: the store's connections turn JIT
    off, also those of a reading store, and keep the URL's own options (the schema)."""
    with database_url("postgresql", tmp_path) as url:
        store = Store.open(url)
        store.upgrade()
        reader = Store.reader(url)
        try:
            for opened in (store, reader):
                assert rows(opened, "SHOW jit") == [("off",)]
                schema = rows(opened, "SELECT current_schema()")[0][0]
                assert url.endswith(schema)
        finally:
            reader.close()
            store.close()


def test_a_postgresql_connection_idle_in_the_pool_is_pinged_and_replaced_if_its_server_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection is pinged before use only after it sat idle for
    ``PING_AFTER_IDLE_SECONDS`` (a daemon's, between cycles): if its server process is
    gone, the read gets a new connection and never knows. One given back a moment ago is
    used as it is: with its server process gone since, that one read fails in one line,
    and the next one reconnects."""
    from harvester.store import engine as engines

    with database_url("postgresql", tmp_path) as url:
        store = Store.open(url)
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            store.upgrade()

            def backend() -> int:
                with store.profiles() as reader:
                    reader.index()
                    return int(reader.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())

            def end(pid: int) -> None:
                with admin.connect() as conn:
                    ended = conn.execute(
                        text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
                    )
                    assert ended.scalar_one()

            # "a moment ago" however slow the machine: a second could pass before the next read
            monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 3600.0)
            first = backend()
            end(first)
            with pytest.raises(DatabaseError, match="cannot read the database"):
                backend()
            second = backend()
            monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.05)
            end(second)
            time.sleep(0.1)
            third = backend()
            assert len({first, second, third}) == 3
        finally:
            admin.dispose()
            store.close()


def test_migration_0011_indexes_the_held_papers_and_goes_back(store: Store) -> None:
    """``ix_membership_held`` holds the held rows alone (a partial index, on both
    databases); down to 0010 it goes, up again it comes back."""
    from sqlalchemy import inspect

    def held_index() -> list[Any]:
        found = inspect(store.engine).get_indexes("membership")
        return [i for i in found if i["name"] == "ix_membership_held"]

    (index,) = held_index()
    assert index["column_names"] == ["author_key"]
    downgrade(store, "0010")
    assert held_index() == []
    store.upgrade()
    assert len(held_index()) == 1


def test_migration_0014_hashes_the_paper_ids_on_postgresql_and_goes_back(store: Store) -> None:
    """On PostgreSQL ``paper`` and ``paper_author`` get a hash index of ``arxiv_id``, and a
    profile's papers and author rows are looked up through them; SQLite gets none. Down to
    0013 they go, up again they come back."""

    from harvester.store import profiles

    def hashed() -> list[Any]:
        if store.is_sqlite:
            return rows(store, "SELECT name FROM sqlite_master WHERE name LIKE '%hash%'")
        return rows(
            store,
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexdef LIKE '%USING hash (arxiv_id)%' ORDER BY tablename",
        )

    expected = [] if store.is_sqlite else _HASHED
    assert hashed() == expected
    if not store.is_sqlite:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            for statement in (profiles._PAPERS, profiles._COAUTHOR_ROWS):
                plan = conn.execute(text(f"EXPLAIN {statement}"), _ANY_PROFILE).scalars()
                assert any("_arxiv_id_hash" in line for line in plan), statement
    downgrade(store, "0013")
    assert hashed() == []
    store.upgrade()
    assert hashed() == expected


_HASHED = [("paper", "ix_paper_arxiv_id_hash"), ("paper_author", "ix_paper_author_arxiv_id_hash")]
_ANY_PROFILE = {"key": "x", "active": "active"}


def test_harvest_import_leaves_postgresql_with_statistics(tmp_path: Path) -> None:
    """After a bulk load PostgreSQL plans without statistics until autovacuum gets to the
    tables (never, where it is off): a profile's co-author count then read every author row
    of a million papers. ``harvest import`` analyzes the tables it filled."""
    from arxiv_lookalike.snapshot import write_snapshot

    corpus, authors = synthetic_corpus(2, 5)
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(corpus, path)
    with database_url("postgresql", tmp_path) as url:
        schema = url.rsplit("%3D", 1)[1]
        config = tmp_path / "harvester.toml"
        config.write_text(
            toml({"database": {"url": url}, "authors": author_config(authors)}), encoding="utf-8"
        )
        done = run_cli("--config", str(config), "import", str(path), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        store = Store.open(url)
        try:
            analyzed = rows(
                store,
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = :schema"
                " AND last_analyze IS NOT NULL",
                schema=schema,
            )
        finally:
            store.close()
    assert {"paper", "paper_author", "membership"} <= {r[0] for r in analyzed}


@dataclass
class Tables:
    """A new PostgreSQL schema with three tracked authors, their look-alike, and what the
    server's statistics say of the schema's tables."""

    store: Store
    settings: Settings
    schema: str

    def stats(self, column: str) -> dict[str, Any]:
        """``column`` of ``pg_stat_user_tables`` for each table of the schema."""
        found = rows(
            self.store,
            f"SELECT relname, {column} FROM pg_stat_user_tables WHERE schemaname = :schema",
            schema=self.schema,
        )
        return {r[0]: r[1] for r in found}

    def analyzed(self) -> dict[str, Any]:
        return {k: v for k, v in self.stats("last_analyze").items() if v is not None}

    def harvest(self) -> int:
        return harvest(self.store, self.settings).exit_code

    def tidied_by_a_harvest(self, *kinds: str) -> list[str]:
        """A harvest (which must succeed), and its statements that start with ``kinds``."""
        with counted() as seen:
            assert self.harvest() == 0
        return [s for s in seen if s.startswith(kinds)]

    def fill_oai_window(self, conn: Connection) -> None:
        """1,500 rows in ``oai_window``, a table an API cycle neither reads nor writes."""
        conn.exec_driver_sql(
            "INSERT INTO oai_window (set_spec, harvested_at)"
            " SELECT 'set' || n, now() FROM generate_series(1, 1500) AS n"
        )


@contextmanager
def postgresql_tables(tmp_path: Path) -> Iterator[Tables]:
    corpus, authors = synthetic_corpus(3, 4)
    with database_url("postgresql", tmp_path) as url, LookalikeServer(corpus) as server:
        store = Store.open(url)
        try:
            store.upgrade()
            settings = make_settings(url, server.url, authors=author_config(authors))
            yield Tables(store, settings, url.rsplit("%3D", 1)[1])
        finally:
            store.close()


def test_a_harvest_leaves_postgresql_with_statistics_and_a_quiet_one_leaves_them(
    tmp_path: Path,
) -> None:
    """A cold harvest fills tables the planner has never seen; the cycle analyzes them
    before anything reads a profile (this server may run with autovacuum off). A quiet
    cycle after it changes nothing and analyzes nothing."""
    with postgresql_tables(tmp_path) as tables:
        assert "paper_author" not in tables.analyzed()
        assert tables.harvest() == 0
        first = tables.analyzed()
        assert {"paper", "paper_author", "membership", "run"} <= set(first)
        assert tables.harvest() == 0
        assert tables.analyzed() == first


def test_a_cycle_does_not_wait_for_a_table_another_session_holds(tmp_path: Path) -> None:
    """The cycle's ANALYZE skips a table locked by another session (a manual ``VACUUM``,
    say) instead of waiting behind it: the cycle ends at once with the other tables
    analyzed, and the next cycle after the lock analyzes the one skipped."""
    with postgresql_tables(tmp_path) as tables:
        other = Store.open(tables.settings.database.url)
        try:
            done: list[int] = []
            with other.engine.connect() as conn:
                conn.exec_driver_sql("LOCK TABLE paper_author IN SHARE UPDATE EXCLUSIVE MODE")
                cycle = threading.Thread(target=lambda: done.append(tables.harvest()))
                cycle.start()
                cycle.join(timeout=60)
                assert done == [0]  # ended while the lock was held
                assert "paper_author" not in tables.analyzed()
                assert {"paper", "membership", "run"} <= set(tables.analyzed())
                conn.rollback()
            assert tables.harvest() == 0
            assert "paper_author" in tables.analyzed()
        finally:
            other.close()


def test_a_cycle_vacuums_the_rows_it_rewrote_where_nothing_else_does(tmp_path: Path) -> None:
    """Every cycle rewrites rows (authors' leases and watermarks, runs); on a server where
    autovacuum is off, or behind, the dead rows pile up and every read wades through them.
    Past a fifth (and a thousand) of a table's live rows, the cycle vacuums the table.
    (A quiet cycle leaves the tables alone: the test above.) The dead rows are made in
    ``oai_window``, which an API cycle does not read: a read of a page prunes its dead rows
    on the way, and the count would depend on what the cycle read first."""
    with postgresql_tables(tmp_path) as tables:
        assert tables.harvest() == 0
        with tables.store.engine.begin() as conn:
            tables.fill_oai_window(conn)
        with tables.store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM oai_window")
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        assert tables.stats("n_dead_tup")["oai_window"] > 1000  # 1,000 + a fifth of none
        assert tables.tidied_by_a_harvest("VACUUM") == ["VACUUM (SKIP_LOCKED, ANALYZE) oai_window"]
        # not the dead rows: whether it could remove them depends on every session of the
        # server (another test's), not on the cycle; the server publishes it a moment later
        deadline = time.monotonic() + 10
        while tables.stats("last_vacuum")["oai_window"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tables.stats("last_vacuum")["oai_window"] is not None


def test_a_cycle_vacuums_a_table_filled_since_its_last_vacuum(tmp_path: Path) -> None:
    """Autovacuum's rule for inserts: past a fifth (and a thousand) of a table's rows
    inserted since its last vacuum, the cycle vacuums it, so that a cold harvest's pages get
    their visibility map and hint bits at once rather than dirtied by the reads that come
    by later. The next cycle, with nothing new inserted, vacuums nothing. (The rows are put
    in ``oai_window``, which an API cycle does not write: a cold harvest of a test's few
    papers stays under the thousand.)"""
    with postgresql_tables(tmp_path) as tables:
        assert tables.harvest() == 0
        with tables.store.engine.begin() as conn:
            tables.fill_oai_window(conn)
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        assert tables.stats("n_dead_tup")["oai_window"] == 0
        assert tables.stats("n_ins_since_vacuum")["oai_window"] == 1500
        assert tables.tidied_by_a_harvest("VACUUM") == ["VACUUM (SKIP_LOCKED, ANALYZE) oai_window"]
        deadline = time.monotonic() + 10
        while tables.stats("n_ins_since_vacuum")["oai_window"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tables.stats("n_ins_since_vacuum")["oai_window"] == 0
        assert tables.tidied_by_a_harvest("VACUUM", "ANALYZE") == []


def _paper(number: int, coauthors: list[str], categories: str, published: datetime) -> Any:
    from arxiv_lookalike.corpus import CorpusAuthor, CorpusPaper

    names = ["Ada Lovelace", *coauthors] if number % 3 else [*coauthors, "A. Lovelace"]
    return CorpusPaper(
        arxiv_id=f"{published:%y%m}.{number:05d}",
        version=1 + number % 2,
        title=f"On engines, part {number}",
        summary="Notes on the analytical engine and its programs.",
        authors=tuple(CorpusAuthor(n) for n in names),
        published=published,
        updated=published,
        primary_category=categories.split()[0],
        categories=tuple(categories.split()),
    )


def test_a_profile_counts_categories_and_coauthors_as_the_views_do(
    store: Store, db_url: str
) -> None:
    """A profile counts its categories, co-authors and last 12 months from its papers and
    their author lists (the views' subqueries were most of a render at a million papers on
    PostgreSQL): the same rows as ``papers_by_category``, ``coauthors`` and
    ``profile_stats``, in the same order, on a corpus with the views' corners: names that
    fold alike in two spellings (the one on more papers shown), ties in counts broken by
    name, the author matched by an initial, a paper listing a category twice, papers of the
    last 12 months and of long ago."""
    from arxiv_lookalike.corpus import Corpus

    now = datetime.now(UTC)
    spellings = [["José Núñez", "Bob Ray"], ["Jose Nunez"], ["José Núñez", "Cy Tan"], ["Bob Ray"]]
    categories = ["cs.LG stat.ML", "stat.ML cs.LG math.OC", "math.OC", "cs.LG cs.LG"]
    papers = [
        _paper(n, spellings[n % 4], categories[n % 4], now - timedelta(days=70 * n + 1))
        for n in range(1, 13)
    ]
    with LookalikeServer(Corpus(papers)) as server:
        authors = [{"key": "ada", "name": "Ada Lovelace", "aliases": ["A. Lovelace"]}]
        report = harvest(store, make_settings(db_url, server.url, authors=authors), derive=True)
    assert report.exit_code == 0, report
    profile = load_profile(store, "ada")
    assert len(profile.papers) == 12

    categories_view = rows(
        store,
        "SELECT category, papers, as_primary FROM papers_by_category WHERE author_key = 'ada'",
    )
    by_count = sorted(categories_view, key=lambda r: (-r.papers, -r.as_primary, r.category))
    assert [astuple(c) for c in profile.categories] == [tuple(r) for r in by_count]
    coauthors_view = rows(
        store,
        "SELECT coauthor, shared_papers, first_year, last_year FROM coauthors"
        " WHERE author_key = 'ada'",
    )
    by_shared = sorted(coauthors_view, key=lambda r: (-r.shared_papers, r.coauthor))
    assert [astuple(c) for c in profile.coauthors] == [tuple(r) for r in by_shared][:10]
    assert profile.coauthors[0] == Coauthor("José Núñez", 9, *_years(papers, 0, 1, 2))
    (stats,) = rows(
        store,
        "SELECT papers_last_12_months, coauthor_count FROM profile_stats WHERE author_key = 'ada'",
    )
    assert (profile.stats.papers_last_12_months, profile.stats.coauthor_count) == tuple(stats)
    assert stats.papers_last_12_months >= 4 and stats.coauthor_count == 3


def _years(papers: list[Any], *remainders: int) -> tuple[int, int]:
    years = [p.published.year for n, p in enumerate(papers, 1) if n % 4 in remainders]
    return min(years), max(years)
