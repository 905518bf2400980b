"""Every server fault of issue 3, through the real stack: the look-alike over real HTTP,
``ArxivSource`` and ``harvest_once`` on SQLite and PostgreSQL, ``harvest --once`` as cron runs it.

Each test says what the harvester did: retried and completed, or stopped with nothing but
the run log written (never a ``missing`` event). Source-level tests (no database) check
retries and timing; database tests check what was (not) written. docs/reliability.md
lists them all in one table.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from arxiv_lookalike import (
    BadEntry,
    BillionLaughs,
    Corpus,
    CorpusAuthor,
    Drip,
    Duplicate,
    EmptyPage,
    Html200,
    Huge,
    LegacyError200,
    LegacyFormat,
    LookalikeServer,
    Redirect,
    Reorder,
    Reset,
    ShortPage,
    Stall,
    Status,
    TotalDrift,
    Trickle,
    Truncate,
    Xxe,
    later_pages,
)
from harvester.batching import build_query
from harvester.config import Settings
from harvester.errors import (
    ConnectionFailedError,
    FetchError,
    HostileResponseError,
    HTTPStatusError,
    IncompleteResponseError,
    ResponseTooLargeError,
)
from harvester.normalise import normalise_entry
from harvester.source import ArxivSource, SearchResult
from harvester.store import Store

from . import support
from .support import SEED_AUTHOR, SEED_KEY, make_settings
from .test_harvest import SEED_PAPERS, harvest, kakade_ids, rows, snapshot

QUERY_RESULTS = 80
"""The seed author's query returns the 76 papers and 4 namesakes' papers."""
PAGES = 4
"""... on 4 pages of 25 (the tests' page size)."""
UNUSED_DB = "sqlite:///unused.db"


# --- helpers ---------------------------------------------------------------------------


def search(server: LookalikeServer, **arxiv: Any) -> SearchResult:
    """The seed author's search through a fresh ``ArxivSource`` (no database)."""
    settings = make_settings(UNUSED_DB, arxiv.pop("api_url", server.url), **arxiv)
    with ArxivSource(settings.arxiv) as source:
        return source.search(build_query(settings.authors[0]), normalise_entry)


def failed_search(server: LookalikeServer, **arxiv: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        search(server, **arxiv)
    return caught.value


def statuses(server: LookalikeServer) -> list[int | None]:
    return [r.status for r in server.requests]


def gaps(server: LookalikeServer) -> list[float]:
    return [b.time - a.time for a, b in itertools.pairwise(server.requests)]


def baseline(store: Store, server: LookalikeServer, settings: Settings) -> str:
    """A first complete harvest; returns the snapshot a failed harvest must leave alone."""
    assert harvest(store, settings).exit_code == 0
    server.clear_requests()
    return snapshot(store)


def last_run(store: Store) -> Any:
    return rows(store, "SELECT * FROM harvest_runs ORDER BY run_id DESC")[0]


def assert_only_the_run_log_changed(store: Store, before: str, status: str) -> None:
    assert snapshot(store) == before
    assert last_run(store).status == status
    assert rows(store, "SELECT * FROM paper_events WHERE kind = 'missing'") == []


# --- 429 and 5xx: retried, never sooner than Retry-After, waits capped -------------------


def test_429_with_retry_after_seconds_waits_that_long(server: LookalikeServer) -> None:
    server.faults.add(Status(429, retry_after=1), when=later_pages)
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server) == [200, 429, 200, 200, 200]
    assert gaps(server)[1] >= 1.0, "asked again before Retry-After expired"


def test_429_with_retry_after_http_date_waits_until_then(server: LookalikeServer) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    server.faults.add(Status(429, retry_after=format_datetime(when, usegmt=True)))
    wall = time.time() - time.monotonic()  # server times are monotonic
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server)[:2] == [429, 200]
    assert server.requests[1].time + wall >= when.timestamp() - 0.01


def test_retry_after_beyond_the_cap_gives_up_at_once(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_wait_seconds=5)
    before = baseline(store, server, settings)
    server.faults.add(Status(429, retry_after=3600), times=None)
    began = time.monotonic()
    report = harvest(store, settings)
    assert time.monotonic() - began < 2
    assert report.exit_code == 75
    assert statuses(server) == [429]
    assert_only_the_run_log_changed(store, before, "incomplete")
    assert "HTTP 429" in last_run(store).error


def test_429_without_retry_after_backs_off_exponentially(server: LookalikeServer) -> None:
    server.faults.add(Status(429), times=2)
    result = search(server)  # delay_seconds = 0: the first backoff is 0.05 s (+ jitter)
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server)[:3] == [429, 429, 200]
    first, second = gaps(server)[:2]
    assert first >= 0.05 and second >= 0.1


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors_are_retried(server: LookalikeServer, code: int) -> None:
    server.faults.add(Status(code), times=2, when=later_pages)
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server) == [200, code, code, 200, 200, 200]


def test_a_lasting_outage_changes_nothing_but_the_run_log(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    before = baseline(store, server, settings)
    server.faults.add(Status(503), times=None, when=later_pages)
    report = harvest(store, settings)
    assert report.exit_code == 75
    assert statuses(server) == [200, 503, 503, 503, 503]  # max_attempts = 4, then gave up
    assert_only_the_run_log_changed(store, before, "incomplete")


# --- pages that lie: empty, short, drifting totals, duplicates, reordering ----------------


def test_an_empty_later_page_is_retried(server: LookalikeServer) -> None:
    server.faults.add(EmptyPage(), when=later_pages)
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert [r.start for r in server.requests] == [0, 25, 25, 50, 75]


def test_a_persistent_empty_page_is_incomplete_and_marks_nothing_missing(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=2)
    before = baseline(store, server, settings)
    server.faults.add(EmptyPage(), times=None, when={"start": "50"})
    report = harvest(store, settings)
    assert report.authors[0].status == "incomplete" and report.exit_code == 75
    assert_only_the_run_log_changed(store, before, "incomplete")
    assert "empty page at offset 50" in last_run(store).error


def test_a_short_page_resumes_from_the_entries_received(server: LookalikeServer) -> None:
    server.faults.add(ShortPage(7), when=later_pages)
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert [r.start for r in server.requests] == [0, 25, 32, 57]


def test_total_results_drift_restarts_the_search_once(server: LookalikeServer) -> None:
    server.faults.add(TotalDrift(+3), when={"start": "50"})
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert [r.start for r in server.requests] == [0, 25, 50, 0, 25, 50, 75]


def test_total_results_that_keep_drifting_leave_the_profile_alone(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=2)
    before = baseline(store, server, settings)
    server.faults.add(TotalDrift(-2), times=None, when=later_pages)
    report = harvest(store, settings)
    assert report.authors[0].status == "incomplete"
    assert_only_the_run_log_changed(store, before, "incomplete")
    assert "totalResults kept changing" in last_run(store).error


@pytest.mark.parametrize("keep_size", [True, False])
def test_duplicates_across_pages_are_noticed_and_resolved(
    server: LookalikeServer, keep_size: bool
) -> None:
    server.faults.add(Duplicate(keep_size=keep_size), when={"start": "25"})
    result = search(server)
    ids = [p.arxiv_id for p in result.papers]
    assert len(ids) == len(set(ids)) == QUERY_RESULTS
    assert len(server.requests) > PAGES  # the gap was noticed: searched again


def test_reordered_pages_give_the_same_profile(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    before = baseline(store, server, settings)
    server.faults.add(Reorder(seed=7), times=None)
    report = harvest(store, settings)
    assert report.exit_code == 0 and report.authors[0].events == 0
    assert snapshot(store) == before


# --- broken transport: cut bodies, resets, stalls, slow drips ----------------------------


@pytest.mark.parametrize("keep_length", [True, False])
def test_a_truncated_body_is_retried(server: LookalikeServer, keep_length: bool) -> None:
    server.faults.add(Truncate(fraction=0.6, keep_length=keep_length), when=later_pages)
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert [r.start for r in server.requests] == [0, 25, 25, 50, 75]


def test_a_truncated_body_is_never_half_stored(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=2)
    server.faults.add(Truncate(fraction=0.6, keep_length=False), times=None, when=later_pages)
    report = harvest(store, settings)
    assert report.authors[0].status == "incomplete"
    assert "not a complete Atom feed" in last_run(store).error
    # the first page, read whole, is kept (issue 23 item 10); nothing of a cut page is
    server.faults.clear()
    newest = search(server).papers[:25]  # the first page: the newest submissions
    stored = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM paper")}
    assert stored == {p.arxiv_id for p in newest}


def test_a_connection_reset_mid_body_is_retried(server: LookalikeServer) -> None:
    server.faults.add(Reset(fraction=0.5), when=later_pages)
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert len(server.requests) == PAGES + 1


def test_a_stalled_request_times_out_and_is_retried(server: LookalikeServer) -> None:
    server.faults.add(Stall(30), when=later_pages)
    began = time.monotonic()
    result = search(server, timeout_seconds=0.3)
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server) == [200, None, 200, 200, 200]
    assert time.monotonic() - began < 2


def test_a_server_that_never_answers_ends_the_cycle_in_bounded_time(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    authors = [SEED_AUTHOR, *({"key": f"a{i}", "name": f"Author {i}"} for i in range(4))]
    settings = make_settings(
        db_url,
        server.url,
        authors=authors,
        timeout_seconds=0.2,
        max_attempts=3,
        max_consecutive_failures=5,
        harvest={"group_query_chars": 0},  # a query per author: five stalled queries
    )
    server.faults.add(Stall(30), times=None)
    began = time.monotonic()
    report = harvest(store, settings)
    elapsed = time.monotonic() - began
    # 5 timed-out requests (3 + 2, then the breaker opens) and the backoff between them
    assert elapsed < 5 * 0.2 + 4 * 0.5 + 1, elapsed
    assert len(server.requests) == 5
    assert [a.status for a in report.authors] == ["incomplete"] * 2 + ["skipped"] * 3
    assert report.exit_code == 75


def test_a_body_dripping_under_the_read_timeout_hits_the_deadline(
    server: LookalikeServer,
) -> None:
    server.faults.add(Drip(interval=0.05, piece=100), times=None)
    began = time.monotonic()
    error = failed_search(server, timeout_seconds=0.2, max_attempts=2)
    assert isinstance(error, ConnectionFailedError)
    assert "not complete after 0.6 s" in str(error)
    assert time.monotonic() - began < 2 * (0.6 + 0.2) + 1


# --- answers that are not feeds, or not the feed we asked for ----------------------------


def test_an_html_page_with_status_200_is_retried_not_read_as_no_results(
    server: LookalikeServer,
) -> None:
    server.faults.add(Html200())
    result = search(server)
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server)[:2] == [200, 200]
    server.faults.add(Html200(), times=None)
    error = failed_search(server)
    assert isinstance(error, IncompleteResponseError) and "not an Atom feed" in str(error)


def test_an_html_page_for_a_known_profile_is_not_an_empty_profile(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=2)
    before = baseline(store, server, settings)
    server.faults.add(Html200(), times=None)
    report = harvest(store, settings)
    assert report.authors[0].status == "incomplete"  # not "suspect": nothing was read
    assert_only_the_run_log_changed(store, before, "incomplete")


def test_a_legacy_error_feed_with_status_200_is_a_rejected_query(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    before = baseline(store, server, settings)
    server.faults.add(LegacyError200("Invalid query string: 'au:x'"), times=None)
    report = harvest(store, settings)
    assert report.exit_code == 1 and report.authors[0].temporary is False
    assert len(server.requests) == 1  # a rejected query is not retried
    assert_only_the_run_log_changed(store, before, "failed")
    assert "arXiv rejected the query: Invalid query string: 'au:x'" in last_run(store).error


def test_the_legacy_format_gives_the_same_records(server: LookalikeServer) -> None:
    current = search(server)
    server.faults.add(LegacyFormat(), times=None)
    legacy = search(server)
    assert server.faults.history.count("legacy_format") == PAGES
    assert legacy.papers == current.papers


def test_a_legacy_harvest_stores_what_a_current_one_does(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    server.faults.add(LegacyFormat(), times=None)
    assert harvest(store, settings).authors[0].paper_count == SEED_PAPERS
    before = snapshot(store)
    server.faults.clear()
    report = harvest(store, settings)  # the current format: no event, nothing rewritten
    assert (report.exit_code, report.authors[0].events) == (0, 0)
    assert snapshot(store) == before


def test_the_http_to_https_redirect_is_followed(server: LookalikeServer) -> None:
    result = search(server, api_url=server.base_url + "/http/api/query")
    assert len(result.papers) == QUERY_RESULTS
    assert statuses(server) == [301, 200] * PAGES
    assert result.requests == PAGES
    assert {r.path for r in server.requests} == {"/http/api/query", "/api/query"}


def test_a_redirect_loop_is_refused(server: LookalikeServer) -> None:
    server.faults.add(Redirect(location=server.url), times=None)
    error = failed_search(server)
    assert "more than 3 redirects" in str(error) and not error.temporary
    assert len(server.requests) == 4


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


@pytest.mark.usefixtures("traced")
@pytest.mark.parametrize("declare_length", [True, False])
def test_a_50_mb_response_is_refused_in_bounded_memory(
    server: LookalikeServer, declare_length: bool
) -> None:
    cap = 1_000_000
    server.faults.add(Huge(50_000_000, declare_length=declare_length), times=None)
    tracemalloc.reset_peak()
    error = failed_search(server, max_response_bytes=cap)
    _, peak = tracemalloc.get_traced_memory()
    assert isinstance(error, ResponseTooLargeError)
    assert len(server.requests) == 1  # refused, not retried
    assert peak < 4 * cap, f"peak {peak} bytes: the body was buffered"
    if declare_length:
        assert "response of 50000000 bytes exceeds the cap" in str(error)


def test_an_external_entity_never_reaches_the_database(
    store: Store, server: LookalikeServer, db_url: str, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a9c\n", encoding="utf-8")
    server.faults.add(Xxe(path=str(secret)), times=None)
    report = harvest(store, make_settings(db_url, server.url))
    assert report.authors[0].status == "failed" and len(server.requests) == 1
    assert "DOCTYPE" in last_run(store).error
    tables = ("author", "paper", "paper_author", "membership", "event", "count_change", "run")
    dump = repr([rows(store, f"SELECT * FROM {table}") for table in tables])
    assert "TOP-SECRET" not in dump


def test_billion_laughs_are_refused_at_once(server: LookalikeServer) -> None:
    server.faults.add(BillionLaughs(), times=None)
    began = time.monotonic()
    error = failed_search(server)
    assert isinstance(error, HostileResponseError)
    assert len(server.requests) == 1
    assert time.monotonic() - began < 1


# --- invalid entries: retried; then the rest kept, the harvest incomplete -----------------


@pytest.mark.parametrize("damage", ["no_authors", "bad_date", "no_id", "empty_title"])
def test_an_entry_that_comes_back_valid_is_kept(server: LookalikeServer, damage: str) -> None:
    server.faults.add(BadEntry(damage, index=3), when=later_pages)
    assert len(search(server).papers) == QUERY_RESULTS
    assert [r.start for r in server.requests] == [0, 25, 25, 50, 75]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("no_authors", "no author with a non-empty name"),
        ("bad_date", "unreadable date"),
    ],
)
def test_an_entry_that_stays_invalid_is_refused_and_the_rest_kept(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
    damage: str,
    reason: str,
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=2)
    before = baseline(store, server, settings)
    server.faults.add(BadEntry(damage, index=3), times=None, when={"start": "25"})
    with caplog.at_level(logging.WARNING):
        report = harvest(store, settings)
    assert report.authors[0].status == "incomplete" and report.exit_code == 75
    assert [r.start for r in server.requests] == [0, 25, 25, 50, 75]  # retried once
    run = last_run(store)
    assert run.error.startswith("1 entry refused: http://arxiv.org/abs/") and reason in run.error
    assert run.entries_seen == QUERY_RESULTS
    refused = [r.getMessage() for r in caplog.records if "refused entry" in r.getMessage()]
    assert refused and reason in refused[-1]
    # the valid papers are kept; memberships, events and counts are untouched
    assert snapshot(store) == before


# --- the circuit breaker -------------------------------------------------------------------


def breaker_settings(db_url: str, server: LookalikeServer, **arxiv: Any) -> Settings:
    authors = [SEED_AUTHOR, {"key": "zhao", "name": "Rosie Zhao"}, {"key": "x", "name": "X Y"}]
    options: dict[str, Any] = {"max_attempts": 2, "max_consecutive_failures": 3, **arxiv}
    alone = {"group_query_chars": 0}  # a query per author, so failures count across authors
    return make_settings(db_url, server.url, authors=authors, harvest=alone, **options)


def test_the_breaker_skips_the_remaining_authors_and_says_why(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    server.faults.add(Status(503), times=None)
    report = harvest(store, breaker_settings(db_url, server))
    assert len(server.requests) == 3  # 2 for kakade, 1 for zhao: then it opened
    assert [(a.key, a.status) for a in report.authors] == [
        (SEED_KEY, "incomplete"),
        ("zhao", "incomplete"),
        ("x", "skipped"),
    ]
    assert report.exit_code == 75
    skipped = rows(store, "SELECT * FROM harvest_runs WHERE author_key = 'x'")
    assert [(r.status, r.error, r.requests) for r in skipped] == [
        ("skipped", "circuit breaker open after 3 consecutive failed requests", 0)
    ]
    assert skipped[0].finished_at is not None
    # A skip is not a harvest: profile_stats keeps showing the last real attempt (none yet).
    stats = rows(store, "SELECT last_harvest_status FROM profile_stats WHERE author_key = 'x'")
    assert stats[0].last_harvest_status is None


def test_a_success_closes_the_count_and_a_new_cycle_starts_afresh(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = breaker_settings(db_url, server)
    server.faults.add(Status(503), times=2)  # kakade's first page fails twice ...
    server.faults.add(Status(503), times=1, when={"start": "25"})  # ... then a later one
    report = harvest(store, settings)
    assert [a.status for a in report.authors] == ["incomplete", "ok", "ok"]
    server.faults.add(Status(503), times=2)
    assert harvest(store, settings).authors[1].status == "ok"  # the count starts at 0


def test_the_breaker_keeps_exit_code_1_when_something_was_harvested(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = breaker_settings(db_url, server, max_consecutive_failures=2)
    zhao = '(au:"Rosie Zhao")'
    server.faults.add(Status(503), times=None, when=lambda r: r.params["search_query"] == zhao)
    report = harvest(store, settings)
    assert [a.status for a in report.authors] == ["ok", "incomplete", "skipped"]
    assert report.exit_code == 1


def test_max_consecutive_failures_is_a_setting(server: LookalikeServer) -> None:
    settings = make_settings(UNUSED_DB, server.url, max_consecutive_failures=1)
    server.faults.add(Status(502), times=None)
    with ArxivSource(settings.arxiv) as source, pytest.raises(HTTPStatusError):
        source.search(build_query(settings.authors[0]), normalise_entry)
    assert len(server.requests) == 1 and source.breaker.open


def test_a_query_rejection_is_not_a_failure_of_the_service(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    broken = {"key": "broken", "name": "B", "query": "au:(unbalanced"}
    authors = [broken, broken | {"key": "broken2"}, SEED_AUTHOR]
    settings = make_settings(
        db_url, server.url, authors=authors, max_attempts=2, max_consecutive_failures=1
    )
    report = support.harvest(store, settings)
    assert [a.status for a in report.authors] == ["failed", "failed", "ok"]


def test_harvest_once_reports_the_skipped_authors_and_exits_75(
    tmp_path: Path, server: LookalikeServer, db_url: str
) -> None:
    from .test_cli import ARXIV, run

    config = support.write_config(
        tmp_path,
        db_url,
        server.url,
        authors=[SEED_AUTHOR, {"key": "zhao", "name": "Rosie Zhao"}],
        arxiv={**ARXIV, "max_consecutive_failures": 2},
        harvest={"group_query_chars": 0},  # a query per author
    )
    server.faults.add(Status(503), times=None)
    result = run("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 75
    assert result.stderr.splitlines()[-2:] == [
        "kakade  incomplete: arXiv answered HTTP 503 (arXiv or the network is struggling; try"
        " again later)  full  2 requests",
        "zhao    skipped: circuit breaker open after 2 consecutive failed requests  0 requests",
    ]


@pytest.mark.parametrize(
    ("arxiv_id", "version", "category", "reason"),
    [
        ("2611.00001", 1, "x" * 65, "a category has 65 characters"),
        ("a" * 60 + "-b/0101001", 1, "cs.LG", "the id has 70 characters"),
        ("2611.00002", 10**20, "cs.LG", "version 100000000000000000000 is over the limit"),
    ],
)
def test_a_value_beyond_its_bound_is_refused_alike_on_both_databases(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    arxiv_id: str,
    version: int,
    category: str,
    reason: str,
) -> None:
    """Refused before the write (the database never sees it), the author's harvest
    incomplete, and the other author of the same run harvested."""
    template = next(p for p in corpus if p.arxiv_id in kakade_ids(corpus))
    hostile = replace(
        template,
        arxiv_id=arxiv_id,
        version=version,
        primary_category=category,
        categories=(category,),
        authors=(CorpusAuthor("Sham Kakade"),),
    )
    corpus.upsert(hostile)
    other = {"key": "morwani", "name": "Depen Morwani"}
    for grouping in (0, 4000):  # a query each, then one shared query
        settings = make_settings(
            db_url,
            server.url,
            max_attempts=4,
            max_consecutive_failures=1,  # a refused entry is no failed request
            authors=[SEED_AUTHOR, other],
            harvest={"group_query_chars": grouping},
        )
        server.clear_requests()
        kakade, morwani = harvest(store, settings).authors
        assert (kakade.status, morwani.status) == ("incomplete", "ok"), grouping
        assert reason in (kakade.error or "") and arxiv_id[:20] in (kakade.error or "")
        assert "network" not in (kakade.error or "")  # the entry, not the connection
        asked = Counter((r.params["search_query"], r.start) for r in server.requests)
        assert sorted(asked.values())[-2:] == [1, 2] or list(asked.values()) == [2]
        # the refusing page is asked twice (not max_attempts times), every other page once
        assert rows(store, "SELECT COUNT(*) FROM paper WHERE arxiv_id = :i", i=arxiv_id) == [(0,)]


# --- every request ends by its deadline ----------------------------------------------------


@pytest.mark.parametrize("where", ["chunk-size", "headers"])
def test_a_trickle_one_byte_at_a_time_ends_at_the_total_deadline(
    server: LookalikeServer, where: str
) -> None:
    """Every byte comes within the 1 s read timeout, in a chunk-size line or a header
    line, where no read returns: the request still ends at its 3 s deadline."""
    server.faults.add(Trickle(where, interval=0.2, seconds=30))
    began = time.monotonic()
    error = failed_search(server, timeout_seconds=1, max_attempts=1)
    took = time.monotonic() - began
    assert isinstance(error, ConnectionFailedError) and "within 3 s" in str(error)
    assert took < 5, f"{took:.1f} s"


def test_a_hung_request_holds_another_process_up_for_one_deadline_at_most(
    tmp_path: Path, server: LookalikeServer
) -> None:
    """Two harvests on one database take turns for the request lock; the one whose answer
    trickles gives the turn up at its deadline, and the other goes on."""
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    Store.open(db_url).upgrade()
    trickled = lambda request: "Kakade" in request.params.get("search_query", "")  # noqa: E731
    server.faults.add(Trickle("chunk-size", interval=0.2, seconds=30), when=trickled)
    other = {"key": "morwani", "name": "Depen Morwani"}
    finished: dict[str, float] = {}
    began = time.monotonic()

    def harvest_alone(author: dict[str, Any]) -> None:
        settings = make_settings(
            db_url, server.url, authors=[author], timeout_seconds=1, max_attempts=1
        )
        store = Store.open(db_url)
        try:
            support.harvest(store, settings)
        finally:
            store.close()
        finished[str(author["key"])] = time.monotonic() - began

    threads = [threading.Thread(target=harvest_alone, args=(a,)) for a in (SEED_AUTHOR, other)]
    threads[0].start()
    time.sleep(0.3)  # the trickling request is under way and holds the turn
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert finished["kakade"] < 5 and finished["morwani"] < 6, finished


@pytest.mark.parametrize(
    "target",
    [
        "http://other.example.org:{port}/api/query",  # another host
        "file:///etc/passwd",  # another kind of URL
        "http://localhost:{port}/api/query",  # the same server by another name
    ],
)
def test_a_redirect_off_the_host_is_a_permanent_error_naming_the_target(
    server: LookalikeServer, target: str
) -> None:
    server.faults.add(Redirect(status=301, location=target.format(port=server.port)))
    error = failed_search(server)
    assert not error.temporary and "redirected to " + target.split(":")[0] in str(error)
    assert len(server.requests) == 1  # not followed, not retried


def test_a_redirect_on_the_same_host_is_followed(server: LookalikeServer) -> None:
    server.faults.add(Redirect(status=301))
    assert len(search(server).papers) == QUERY_RESULTS
