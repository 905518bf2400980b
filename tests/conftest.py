"""Shared fixtures: real databases (SQLite file and PostgreSQL), the arXiv look-alike.

Helpers a test calls by hand are in ``tests/support.py``.

Database tests run twice, on SQLite and on PostgreSQL. Each PostgreSQL test gets
its own schema (via ``search_path``), dropped afterwards. With ``CI=true`` an
unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from arxiv_lookalike import Corpus, LookalikeServer, seed_corpus
from harvester.store import Store

from .support import Harvested, database_url, harvested_database

FIXED_CLOCK = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
"""The day a clock-dependent test starts on: a Monday after the seed corpus's newest paper."""
CLOCKS = {"fixed": FIXED_CLOCK, "shifted": FIXED_CLOCK + timedelta(days=201, hours=7)}
"""A calendar-dependent test runs on both: a weekday, month and year phase of its own each,
so a test that only passes on some days fails here, not on the day it happens to run."""


@pytest.fixture(params=sorted(CLOCKS))
def clock(request: pytest.FixtureRequest) -> datetime:
    """The start of a clock-dependent test: a fixed day and a shifted one, never today."""
    return CLOCKS[request.param]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs twice: on a SQLite file and on a PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def corpus() -> Corpus:
    """A private copy of the seed corpus (76 papers + namesakes + unrelated)."""
    return Corpus.from_dicts(seed_corpus().to_dicts())


@pytest.fixture
def server(corpus: Corpus) -> Iterator[LookalikeServer]:
    with LookalikeServer(corpus) as srv:
        yield srv


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def harvested(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harvested]:
    """One harvested seed database per test module and dialect, shared by read-only tests."""
    with harvested_database(request.param, tmp_path_factory.mktemp("db")) as h:
        yield h


LONG_FIRST = ("test_workers", "test_daemon", "test_bench", "test_review", "test_once_process")
"""Modules whose tests take 10 to 25 s each (several processes, real request spacing):
started first, so that the two test processes end together on short tests instead of one
waiting for the other's last long one."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(
        key=lambda item: (
            item.module is None or item.module.__name__.split(".")[-1] not in LONG_FIRST
        )
    )
