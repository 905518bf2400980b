"""Blast radius within a cycle (issue 23, items 7 to 10 and 13): one fault, one author, one
endpoint or one kind of failure is contained where it happens, through the real stack (the
look-alike over real HTTP, SQLite and PostgreSQL where a database plays a part)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from arxiv_lookalike import BadEntry, Corpus, LookalikeServer, Truncate, later_pages
from harvester.batching import build_query
from harvester.normalise import normalise_entry
from harvester.source import ArxivSource
from harvester.store import Store

from .support import make_settings, rows, run_cli, write_config
from .test_faults import QUERY_RESULTS, UNUSED_DB, harvest
from .test_harvest import LATER, SEED_PAPERS, events, kakade_ids

# --- item 9: each kind of fault keeps its own retry budget ---------------------------------


def _search(server: LookalikeServer, **arxiv: Any) -> int:
    settings = make_settings(UNUSED_DB, server.url, **arxiv)
    with ArxivSource(settings.arxiv) as source:
        return len(source.search(build_query(settings.authors[0]), normalise_entry).papers)


def test_a_truncation_does_not_spend_the_retry_of_an_invalid_entry(
    server: LookalikeServer,
) -> None:
    """Truncated, then one invalid entry, then whole: asked three times, and complete."""
    server.faults.add(Truncate(fraction=0.6), when=later_pages)
    server.faults.add(BadEntry("no_authors", index=3), when=later_pages)
    assert _search(server) == QUERY_RESULTS
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
    its members (the baseline), the namesakes are left for a complete harvest, the
    watermark does not move, and ``harvest status`` names the refused entry. The next
    harvest completes the profile."""
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
    assert coverage.baseline_identity is not None  # the first harvest that records papers
    shown = run_cli("status", "--config", str(write_config(tmp_path, db_url, server.url)))
    assert f"kakade: last harvest incomplete: {refused[:120]}" in shown.stdout, shown.stdout
    server.faults.clear()
    assert harvest(store, settings).exit_code == 0
    assert rows(store, "SELECT paper_count FROM profile_stats")[0][0] == SEED_PAPERS
    assert [e.kind for e in rows(store, "SELECT kind FROM event")] == ["new_paper"]


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
    assert revised.version == rows(
        store, "SELECT seen_version FROM membership WHERE arxiv_id = :i", i=ids[1]
    )[0][0]
