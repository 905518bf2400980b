"""Cycles through OAI-PMH, end to end: the look-alike over real HTTP, real SQLite and
PostgreSQL. The same corpus through the search API and through OAI-PMH gives the same
profiles and, after an upstream change, the same events; a version history arriving
between two cycles records each version with its date; a failed harvest changes nothing
and is asked again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arxiv_lookalike import Corpus, LookalikeServer, Status
from harvester.config import parse_settings
from harvester.store import Store

from . import oai_support, support
from .oai_support import events, profile, settings_for, url_of
from .support import SEED_AUTHOR, rows

REVISED = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    with oai_support.two_stores(request.param, tmp_path) as stores:
        yield stores


def seed_paper_ids(corpus: Corpus) -> list[str]:
    return sorted(p.arxiv_id for p in corpus if any(a.name == "Sham Kakade" for a in p.authors))


def test_the_api_and_oai_give_the_same_profiles_and_the_same_events(
    two_stores: tuple[Store, Store], server: LookalikeServer, corpus: Corpus
) -> None:
    server.oai.page_size = 40
    api_store, oai_store = two_stores
    api = settings_for(url_of(api_store), server, "api")
    oai = settings_for(url_of(oai_store), server, "oai")
    assert support.harvest(api_store, api, full=True).exit_code == 0
    server.clear_requests()
    report = support.harvest(oai_store, oai)
    assert report.exit_code == 0 and report.authors[0].paper_count == 76
    assert {r.path for r in server.requests} == {"/oai"}
    assert profile(oai_store) == profile(api_store)
    assert events(oai_store) == events(api_store) == []  # both first harvests are baselines

    first = seed_paper_ids(corpus)[0]
    corpus.revise(first, updated=REVISED, title="A revised title")
    newcomer = {**corpus.get(first).to_dict(), "id": "2607.00001", "version": 1,  # type: ignore[union-attr]
                "published": "2026-07-01T10:00:00Z", "updated": "2026-07-01T10:00:00Z"}  # fmt: skip
    corpus.upsert(newcomer)
    support.harvest(api_store, api, full=True)
    server.clear_requests()
    support.harvest(oai_store, oai)
    oai_requests = [r.params for r in server.requests]
    assert (
        events(oai_store)
        == events(api_store)
        == sorted(
            [("metadata_changed", first), ("new_version", first), ("new_paper", "2607.00001")]
        )
    )
    assert profile(oai_store) == profile(api_store)
    assert len(oai_requests) == 1 and oai_requests[0]["from"] == "2026-06-05"


def test_a_version_history_between_two_cycles_records_each_version_with_its_date(
    store: Store, server: LookalikeServer, corpus: Corpus, db_url: str
) -> None:
    settings = settings_for(db_url, server, "oai")
    support.harvest(store, settings)
    paper = next(
        p for p in corpus if p.version == 1 and "Sham Kakade" in [a.name for a in p.authors]
    )
    stamp = paper.published.strftime("%Y-%m-%dT%H:%M:%SZ")
    corpus.upsert({**paper.to_dict(), "version": 3, "updated": "2026-07-03T08:00:00Z",
                   "versions": [{"date": stamp, "size": "100kb"},
                                {"date": "2026-07-01T12:00:00Z", "size": "120kb"},
                                {"date": "2026-07-03T08:00:00Z", "size": "121kb"}]})  # fmt: skip
    report = support.harvest(store, settings)
    assert report.authors[0].new_versions == 2
    details = rows(store, "SELECT detail FROM paper_events WHERE arxiv_id = :a"
                   " AND kind = 'new_version' ORDER BY detail", a=paper.arxiv_id)  # fmt: skip
    assert [r.detail for r in details] == [
        "v1 -> v2 (2026-07-01 12:00 UTC)",
        "v2 -> v3 (2026-07-03 08:00 UTC)",
    ]
    versions = rows(store, "SELECT version, submitted, size FROM paper_versions WHERE arxiv_id = :a"
                    " ORDER BY version", a=paper.arxiv_id)  # fmt: skip
    # version 1 keeps what the first cycle read of it (a version's date and size never change)
    assert [(r.version, r.size) for r in versions][1:] == [(2, 120), (3, 121)]
    submitted = [
        str(r.submitted)[:16] for r in versions
    ]  # SQLite gives text, PostgreSQL a datetime
    assert submitted == [
        f"{paper.published:%Y-%m-%d %H:%M}",
        "2026-07-01 12:00",
        "2026-07-03 08:00",
    ]


def test_the_api_alone_fills_paper_versions_with_the_first_and_latest(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    support.harvest(store, settings_for(db_url, server, "api"), full=True)
    multi = rows(store, "SELECT arxiv_id, version FROM paper WHERE version > 2 LIMIT 1")[0]
    versions = rows(store, "SELECT version, size FROM paper_versions WHERE arxiv_id = :a"
                    " ORDER BY 1", a=multi.arxiv_id)  # fmt: skip
    assert [tuple(r) for r in versions] == [(1, None), (multi.version, None)]


def test_a_failed_harvest_changes_nothing_and_the_window_is_asked_again(
    store: Store, server: LookalikeServer, corpus: Corpus, db_url: str
) -> None:
    server.oai.page_size = 20
    settings = settings_for(db_url, server, "oai", sets=["cs", "stat"])
    support.harvest(store, settings)
    windows = rows(store, "SELECT set_spec, newest_datestamp FROM oai_window ORDER BY 1")
    assert [r.set_spec for r in windows] == ["cs", "stat"]
    first = seed_paper_ids(corpus)[0]
    corpus.revise(first, updated=REVISED)
    server.faults.add(Status(500), times=None, when={"set": "stat"})
    failed = support.harvest(store, settings)
    assert failed.authors[0].status == "incomplete" and failed.exit_code == 75
    assert rows(store, "SELECT set_spec, newest_datestamp FROM oai_window ORDER BY 1") == windows
    assert events(store) == []
    server.faults.clear()
    assert support.harvest(store, settings).exit_code == 0
    assert events(store) == [("new_version", first)]
    moved = rows(store, "SELECT newest_datestamp FROM oai_window WHERE set_spec = 'cs'")
    assert str(moved[0].newest_datestamp) == "2026-07-01"


def test_a_quiet_day_is_a_complete_cycle_with_nothing_new(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = settings_for(db_url, server, "oai", sets=["math"], from_date="2030-01-01")
    report = support.harvest(store, settings)
    assert report.exit_code == 0 and report.authors[0].new_papers == 0
    assert rows(store, "SELECT set_spec, newest_datestamp FROM oai_window") == [("math", None)]


def test_settings_name_a_bad_source_or_set() -> None:
    from harvester.errors import ConfigError

    base = {"database": {"url": "sqlite:///x.db"}, "authors": [SEED_AUTHOR]}
    with pytest.raises(ConfigError, match=r"harvest\.source"):
        parse_settings({**base, "harvest": {"source": "ftp"}}, Path("<test>"), {})
    with pytest.raises(ConfigError, match=r"oai\.sets\[0\]"):
        parse_settings({**base, "oai": {"sets": ["Computer Science"]}}, Path("<test>"), {})
    with pytest.raises(ConfigError, match=r"oai\.from_date"):
        parse_settings({**base, "oai": {"from_date": "yesterday"}}, Path("<test>"), {})


def test_authors_the_delta_holds_nothing_for_get_a_quiet_run_and_no_decision(
    store: Store, server: LookalikeServer, corpus: Corpus, db_url: str
) -> None:
    data = {
        "database": {"url": db_url},
        "arxiv": {"api_url": server.url, **support.TEST_ARXIV},
        "authors": [SEED_AUTHOR, {"key": "nobody", "name": "Nobody Here"}],
        "harvest": {"source": "oai"},
        "oai": {"url": server.oai_url},
    }
    settings = parse_settings(data, Path("<test>"), {})
    support.harvest(store, settings)
    corpus.revise(seed_paper_ids(corpus)[0], updated=REVISED)
    report = support.harvest(store, settings)
    assert [(r.key, r.status, r.mode) for r in report.authors] == [
        ("kakade", "ok", "incremental"),
        ("nobody", "ok", "incremental"),
    ]
    assert report.authors[0].new_versions == 1 and report.authors[1].new_versions == 0
    runs = rows(store, "SELECT author_key, status, mode FROM harvest_runs ORDER BY run_id")
    assert [tuple(r) for r in runs][-2:] == [
        ("kakade", "ok", "incremental"),
        ("nobody", "ok", "incremental"),
    ]
