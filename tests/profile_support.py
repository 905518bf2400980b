"""Shared by the profile tests: one harvested database per module and dialect.

Harvesting the seed corpus takes a moment, so the read-only profile tests share one
harvest per module and database (``harvested_database``): the seed author plus one of
their co-authors as a second tracked profile, harvested over real HTTP from the
look-alike, then the after-cycle hook, exactly as ``harvest --once`` runs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from harvester.lookalike import Corpus, LookalikeServer, seed_corpus
from harvester.settings import OutputSettings, Settings
from harvester.store import Store

from .conftest import database_url
from .support import SEED_AUTHOR, harvest, make_settings

COAUTHOR = {"key": "morwani", "name": "Depen Morwani"}
AUTHORS = [SEED_AUTHOR, COAUTHOR]


@dataclass
class Harvested:
    """A database after one harvest of the seed corpus and the after-cycle hook."""

    url: str
    store: Store
    settings: Settings
    corpus: Corpus
    server: LookalikeServer

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(text(sql), params))


@contextmanager
def harvested_database(
    dialect: str, directory: Path, *, html_dir: Path | None = None
) -> Iterator[Harvested]:
    corpus = Corpus.from_dicts(seed_corpus().to_dicts())
    with database_url(dialect, directory) as url, LookalikeServer(corpus) as server:
        settings = make_settings(url, server.url, authors=AUTHORS)
        if html_dir is not None:
            settings = with_html_dir(settings, html_dir)
        store = Store.open(url)
        try:
            store.upgrade()
            report = harvest(store, settings, derive=True)
            assert report.exit_code == 0, report
            yield Harvested(url, store, settings, corpus, server)
        finally:
            store.close()


def with_html_dir(settings: Settings, html_dir: Path) -> Settings:
    return replace(settings, output=OutputSettings(html_dir=html_dir))


def seed_papers(corpus: Corpus) -> list[Any]:
    """The seed author's papers in the look-alike corpus."""
    return [p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors)]


def months_ago_start(now: datetime, months: int) -> datetime:
    """The first instant of the month ``months`` before ``now``'s month (UTC)."""
    index = now.year * 12 + now.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
