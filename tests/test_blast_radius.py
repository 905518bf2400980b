"""Blast radius within a cycle (issue 23, items 7 to 10 and 13): one fault, one author, one
endpoint or one kind of failure is contained where it happens, through the real stack (the
look-alike over real HTTP, SQLite and PostgreSQL where a database plays a part)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from arxiv_lookalike import BadEntry, Corpus, LookalikeServer, Raw, Status, Truncate, later_pages
from harvester.batching import build_query
from harvester.config import Settings
from harvester.cycle import decide, draft
from harvester.logformat import MAX_LINE_CHARS, OneLineFormatter, cut, listed
from harvester.normalise import normalise_entry
from harvester.plans import AuthorSnapshot, Extras, Ruling, Shortfall, Snapshot, Standing
from harvester.source import ArxivSource
from harvester.store import Store
from harvester.vocabulary import ReviewDecision, RunStatus

from .support import SEED_AUTHOR, make_settings, rows, run_cli, write_config
from .test_faults import QUERY_RESULTS, UNUSED_DB, harvest
from .test_harvest import LATER, SEED_PAPERS, events, kakade_ids
from .test_planning import KEY, NAME, WHEN, author_harvest, member, paper

# --- item 9: each kind of fault keeps its own retry budget ---------------------------------


def _search(server: LookalikeServer, **arxiv: Any) -> int:
    settings = make_settings(UNUSED_DB, server.url, **arxiv)
    with ArxivSource(settings.arxiv) as source:
        return len(source.search(build_query(settings.authors[0]), normalise_entry).papers)


def test_a_truncation_does_not_spend_the_retry_of_an_invalid_entry(
    server: LookalikeServer,
) -> None:
    """Truncated, then one invalid entry, then whole: asked three times, and complete,
    even with ``max_attempts = 2`` (the truncation spends that budget, not the entry's)."""
    server.faults.add(Truncate(fraction=0.6), when=later_pages)
    server.faults.add(BadEntry("no_authors", index=3), when=later_pages)
    assert _search(server, max_attempts=2) == QUERY_RESULTS
    assert [r.start for r in server.requests] == [0, 25, 25, 25, 50, 75]


def test_an_invalid_entry_still_gets_one_retry_of_its_own(server: LookalikeServer) -> None:
    """Invalid twice in a row: the second time it is refused (not asked a third time),
    although attempts remain for other faults."""
    server.faults.add(Truncate(fraction=0.6), when={"start": "25"})
    server.faults.add(BadEntry("no_authors", index=3), times=None, when={"start": "25"})
    with pytest.raises(Exception, match="1 entry refused"):
        _search(server, max_attempts=6)
    assert [r.start for r in server.requests] == [0, 25, 25, 25, 50, 75]


def test_a_truncated_then_invalid_page_leaves_a_complete_harvest(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    """The acceptance check of issue 23 item 9, on both databases: a cold harvest gets
    every paper, not nothing."""
    server.faults.add(Truncate(fraction=0.6), when={"start": "50"})
    server.faults.add(BadEntry("bad_date", index=0), when={"start": "50"})
    report = harvest(store, make_settings(db_url, server.url))
    assert report.exit_code == 0, report
    assert report.authors[0].status == "ok"
    assert rows(store, "SELECT COUNT(*) FROM paper")[0][0] == QUERY_RESULTS


# --- item 10: an incomplete harvest records what it read, and takes nothing away ----------


def test_an_incomplete_first_harvest_records_the_papers_it_read(
    store: Store, server: LookalikeServer, db_url: str, tmp_path: Path
) -> None:
    """One entry stays invalid on a cold harvest: the 75 other papers of the profile are
    its members, the namesakes are left for a complete harvest, the watermark does not
    move, and ``harvest status`` names the refused entry. The next harvest completes the
    profile and is its baseline (no event for the paper that was refused)."""
    settings = make_settings(db_url, server.url, max_attempts=2)
    server.faults.add(BadEntry("no_authors", index=0), times=None, when={"start": "50"})
    report = harvest(store, settings)
    [author] = report.authors
    assert (author.status, author.temporary, report.exit_code) == ("incomplete", True, 75)
    refused = rows(store, "SELECT error FROM harvest_runs")[0].error
    assert refused.startswith("1 entry refused: http://arxiv.org/abs/")
    assert len(rows(store, "SELECT * FROM paper")) == QUERY_RESULTS - 1
    active = rows(store, "SELECT arxiv_id FROM membership WHERE status = 'active'")
    assert len(active) == SEED_PAPERS - 1
    assert rows(store, "SELECT * FROM membership WHERE status != 'active'") == []
    assert rows(store, "SELECT * FROM event") == []
    assert [tuple(r) for r in rows(store, "SELECT paper_count FROM count_change")] == [(75,)]
    coverage = rows(store, "SELECT watermark, last_full_at, baseline_identity FROM author")[0]
    assert coverage.watermark is None and coverage.last_full_at is None
    assert coverage.baseline_identity is None  # the first complete harvest is the baseline
    shown = run_cli("status", "--config", str(write_config(tmp_path, db_url, server.url)))
    assert f"kakade: last harvest incomplete: {refused[:120]}" in shown.stdout, shown.stdout
    server.faults.clear()
    assert harvest(store, settings).exit_code == 0
    assert rows(store, "SELECT paper_count FROM profile_stats")[0][0] == SEED_PAPERS
    assert rows(store, "SELECT * FROM event") == []  # an old paper is no news
    history = rows(store, "SELECT paper_count, previous_count FROM count_change ORDER BY 1")
    assert [tuple(r) for r in history] == [(SEED_PAPERS - 1, None), (SEED_PAPERS, None)]


def test_an_incomplete_update_records_new_papers_and_versions_and_nothing_missing(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """A baselined profile; arXiv has a new paper and a new version, and has lost a paper,
    but one old entry stays invalid: the new paper and the new version are recorded, the
    lost paper is not marked missing, the count moves by the new paper only."""
    settings = make_settings(db_url, server.url, max_attempts=2)
    assert harvest(store, settings).exit_code == 0
    watermark = rows(store, "SELECT watermark, last_full_at FROM author")[0]
    ids = kakade_ids(corpus)
    template = corpus.get(ids[0])
    assert template is not None
    corpus.upsert(
        replace(template, arxiv_id="2611.01234", version=1, published=LATER, updated=LATER)
    )
    revised = corpus.revise(ids[1], updated=LATER)
    corpus.remove(ids[5])
    server.faults.add(BadEntry("bad_date", index=-1), times=None, when={"start": "75"})
    report = harvest(store, settings)
    [author] = report.authors
    assert (author.status, author.new_papers, author.new_versions) == ("incomplete", 1, 1)
    assert events(store) == sorted([("new_paper", "2611.01234"), ("new_version", ids[1])])
    assert rows(store, "SELECT paper_count FROM profile_stats")[0][0] == SEED_PAPERS + 1
    run = rows(store, "SELECT * FROM harvest_runs ORDER BY run_id DESC")[0]
    assert (run.status, run.new_papers, run.new_versions) == ("incomplete", 1, 1)
    assert "1 entry refused" in run.error
    assert rows(store, "SELECT watermark, last_full_at FROM author")[0] == watermark
    assert (
        revised.version
        == rows(store, "SELECT seen_version FROM membership WHERE arxiv_id = :i", i=ids[1])[0][0]
    )


# --- item 7: papers listed by id are asked in bounded chunks, and concern their author ------

FEED_IDS = 10_000


def _feed(ids: list[str]) -> bytes:
    """An author identifier feed listing ``ids`` (entry ids as arXiv writes them)."""
    entries = "".join(f"<entry><id>http://arxiv.org/abs/{i}v1</id></entry>" for i in ids)
    head = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    return f"{head}<title>x's articles on arXiv</title>{entries}</feed>".encode()


def _feed_of(server: LookalikeServer, ident: str, ids: list[str]) -> None:
    server.faults.add(Raw(_feed(ids)), times=None, when=lambda r: r.path == f"/a/{ident}.atom2")


def _anchored(server: LookalikeServer, db_url: str, corpus: Corpus, **arxiv: Any) -> Settings:
    """kakade (feed ``kakade_s_1``) and morwani (feed ``morwani_d_1``, claiming his 12
    papers) in one shared query."""
    for his in corpus:
        if any(a.name == "Depen Morwani" for a in his.authors):
            corpus.upsert(replace(his, claimants=("morwani_d_1",)))
    authors = [
        {**SEED_AUTHOR, "arxiv_author_id": "kakade_s_1"},
        {"key": "morwani", "name": "Depen Morwani", "arxiv_author_id": "morwani_d_1"},
    ]
    feeds = server.base_url + "/a"
    return make_settings(db_url, server.url, authors=authors, author_feed_url=feeds, **arxiv)


def _listed(server: LookalikeServer) -> list[str]:
    return [r.params["id_list"] for r in server.requests if r.params.get("id_list")]


def test_a_feed_of_10000_unreturned_papers_is_asked_in_bounded_chunks(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    ids = [f"2301.{n:05d}" for n in range(1, FEED_IDS + 1)]
    _feed_of(server, "kakade_s_1", [*kakade_ids(corpus), *ids])
    settings = _anchored(server, db_url, corpus, page_size=500)
    report = harvest(store, settings)
    assert [(a.key, a.status) for a in report.authors] == [("kakade", "ok"), ("morwani", "ok")]
    asked = _listed(server)
    assert sorted(i for chunk in asked for i in chunk.split(",")) == ids  # each id once
    assert max(len(r.query) for r in server.requests) < 4500  # no 414
    assert len(asked) == 33  # ~307 ids a request within the 4,000 characters
    assert all(r.status == 200 for r in server.requests)


@pytest.mark.parametrize(("code", "status"), [(503, "incomplete"), (414, "failed")])
def test_a_failing_chunk_of_ids_concerns_its_author_alone(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, code: int, status: str
) -> None:
    """One chunk of kakade's listed ids keeps failing: kakade's run says so, with the
    papers its query returned recorded; morwani, in the same query, is harvested."""
    ids = [f"2301.{n:05d}" for n in range(1, 1001)]
    _feed_of(server, "kakade_s_1", [*kakade_ids(corpus), *ids])
    server.faults.add(
        Status(code), times=None, when=lambda r: "2301.00700" in r.params.get("id_list", "")
    )
    settings = _anchored(server, db_url, corpus, page_size=500, max_attempts=2)
    kakade, morwani = harvest(store, settings).authors
    assert (kakade.status, morwani.status) == (status, "ok")
    assert f"HTTP {code}" in (kakade.error or "")
    assert ("check the author's include_ids" in (kakade.error or "")) == (code == 414)
    assert morwani.paper_count == 12
    members = rows(store, "SELECT COUNT(*) FROM membership WHERE author_key = 'kakade'")[0][0]
    assert members == SEED_PAPERS  # what the query returned is recorded all the same
    assert rows(store, "SELECT watermark FROM author WHERE key = 'kakade'")[0][0] is None


# --- item 8: one circuit breaker per endpoint ------------------------------------------------


def test_failing_identifier_feeds_open_their_own_breaker_not_the_query_apis(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    """The feeds answer 500: the anchored authors are incomplete until the feeds' breaker
    opens, then skipped saying why; the authors without a feed, asked after, are harvested."""
    feeds = lambda r: r.path.startswith("/a/")  # noqa: E731
    server.faults.add(Status(500), times=None, when=feeds)
    authors = [
        {**SEED_AUTHOR, "arxiv_author_id": "kakade_s_1"},
        {"key": "morwani", "name": "Depen Morwani", "arxiv_author_id": "morwani_d_1"},
        {"key": "goel", "name": "Surbhi Goel", "orcid": "0000-0002-1825-0097"},
        {"key": "zhao", "name": "Rosie Zhao"},
        {"key": "vyas", "name": "Nikhil Vyas"},
    ]
    settings = make_settings(
        db_url,
        server.url,
        authors=authors,
        author_feed_url=server.base_url + "/a",
        harvest={"group_query_chars": 0},  # a query per author: failures count across them
        max_attempts=2,
        max_consecutive_failures=3,
    )
    report = harvest(store, settings)
    assert [(a.key, a.status) for a in report.authors] == [
        ("kakade", "incomplete"),
        ("morwani", "incomplete"),
        ("goel", "skipped"),
        ("zhao", "ok"),
        ("vyas", "ok"),
    ]
    assert sum(1 for r in server.requests if feeds(r)) == 3  # then the feeds' breaker opened
    skipped = rows(store, "SELECT error FROM harvest_runs WHERE author_key = 'goel'")[0].error
    assert (
        skipped
        == "author identifier feeds: circuit breaker open after 3 consecutive failed requests"
    )
    assert report.exit_code == 1


# --- item 13: a logged hostile value is cut --------------------------------------------------


def test_a_feed_of_10000_junk_ids_is_one_short_log_line(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    junk = ["x" * 1_000_000] + [f"junk-{n:05d}" for n in range(FEED_IDS)]
    _feed_of(server, "kakade_s_1", junk)
    settings = _anchored(server, db_url, corpus)
    with caplog.at_level(logging.DEBUG):
        report = harvest(store, settings)
    assert report.exit_code == 0
    formatter = OneLineFormatter(journal=False)
    lines = [formatter.format(r) for r in caplog.records]
    assert max(map(len, lines)) < 1000
    [line] = [x for x in lines if "without an arXiv id" in x]
    listing = f"kakade: {FEED_IDS + 1} author feed entries without an arXiv id: 'http://"
    assert (
        listing in line
        and "x... (1,000,023 characters)', 'http://arxiv.org/abs/junk-00000v1'" in line
    )
    assert line.endswith("(and 9,996 more)")


def test_no_log_line_is_longer_than_the_cap_whatever_it_holds() -> None:
    record = logging.LogRecord(
        "harvester.x", logging.WARNING, __file__, 1, "%s", ("y" * 10**7,), None
    )
    line = OneLineFormatter(journal=True).format(record)
    assert len(line) < MAX_LINE_CHARS + 100 and line.endswith("(cut: 10,000,021 characters)")
    assert cut("z" * 500) == "z" * 120 + "... (500 characters)"
    assert listed(["a", "b"]) == "'a', 'b'"


def test_pages_read_before_a_lasting_outage_are_recorded_and_nothing_goes_missing(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """A baselined profile, a new paper on the first page, a lost paper, and the third page
    answers 503 for good: the new paper is recorded, nothing is missing, the watermark
    stays."""
    settings = make_settings(db_url, server.url, max_attempts=2)
    assert harvest(store, settings).exit_code == 0
    coverage = rows(store, "SELECT watermark, last_full_at FROM author")[0]
    ids = kakade_ids(corpus)
    template = corpus.get(ids[0])
    assert template is not None
    corpus.upsert(
        replace(template, arxiv_id="2611.01234", version=1, published=LATER, updated=LATER)
    )
    corpus.remove(ids[-1])
    server.faults.add(Status(503), times=None, when={"start": "50"})
    [author] = harvest(store, settings).authors
    assert (author.status, author.new_papers, author.temporary) == ("incomplete", 1, True)
    assert author.line().startswith("kakade  77 papers  +1 new  0 new versions  incomplete: ")
    assert "HTTP 503" in (author.error or "")
    assert events(store) == [("new_paper", "2611.01234")]
    assert rows(store, "SELECT paper_count FROM profile_stats")[0][0] == SEED_PAPERS + 1
    assert rows(store, "SELECT watermark, last_full_at FROM author")[0] == coverage


def test_an_incomplete_plan_only_adds() -> None:
    """The decision itself (pure): a member a person has since rejected, returned by an
    incomplete answer, stays as it is (the rejection waits for a complete harvest); a new
    paper is recorded; the baseline is not set; the shortfall goes with the plan."""
    new, rejected = paper("2601.00002", NAME), paper("2601.00003", NAME)
    part = AuthorSnapshot(
        baseline=None,
        seen={rejected.arxiv_id: member(rejected)},
        standing=Standing(1, 0),
        rulings={rejected.arxiv_id: Ruling(ReviewDecision.REJECTED, WHEN)},
    )
    shortfall = Shortfall(RunStatus.INCOMPLETE, "1 entry refused: x")
    harvest = replace(author_harvest((new, rejected), full=False), shortfall=shortfall)
    found = draft(harvest, Snapshot({KEY: part}))
    plan = decide(found, Extras(members={KEY: [rejected]}))
    assert [(e.kind, e.arxiv_id) for e in plan.plan.events] == []  # a first harvest: no news
    assert [(s.arxiv_id, s.status) for s in plan.plan.writes] == [(new.arxiv_id, "active")]
    assert plan.plan.paper_count == 2 and plan.identity is None and plan.shortfall == shortfall
    complete = decide(
        draft(replace(harvest, shortfall=None), Snapshot({KEY: part})),
        Extras(members={KEY: [rejected]}),
    )
    assert (rejected.arxiv_id, "excluded") in [(s.arxiv_id, s.status) for s in complete.plan.writes]
