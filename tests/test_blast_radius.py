"""Blast radius within a cycle (issue 23, items 7 to 10 and 13): one fault, one author, one
endpoint or one kind of failure is contained where it happens, through the real stack (the
look-alike over real HTTP, SQLite and PostgreSQL where a database plays a part)."""

from __future__ import annotations

from typing import Any

import pytest

from arxiv_lookalike import BadEntry, LookalikeServer, Truncate, later_pages
from harvester.batching import build_query
from harvester.normalise import normalise_entry
from harvester.source import ArxivSource
from harvester.store import Store

from .support import make_settings, rows
from .test_faults import QUERY_RESULTS, UNUSED_DB, harvest

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
