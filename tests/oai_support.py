"""Shared by the OAI-PMH cycle and snapshot import tests: settings for either source, two
fresh databases of one kind, and what a reader of the views sees of the seed profile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from arxiv_lookalike import LookalikeServer
from harvester.config import Settings, parse_settings
from harvester.store import Store

from . import support
from .support import SEED_AUTHOR, SEED_KEY, TEST_ARXIV, rows


def settings_for(db_url: str, server: LookalikeServer, source: str, **oai: Any) -> Settings:
    data = {
        "database": {"url": db_url},
        "arxiv": {"api_url": server.url, **TEST_ARXIV},
        "authors": [SEED_AUTHOR],
        "harvest": {"source": source},
        "oai": {"url": server.oai_url, **oai},
    }
    return parse_settings(data, Path("<test>"), {})


@contextmanager
def two_stores(dialect: str, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two fresh databases of one kind: one for each source."""
    with (
        support.database_url(dialect, tmp_path, "api.db") as api_url,
        support.database_url(dialect, tmp_path, "oai.db") as oai_url,
    ):
        stores = Store.open(api_url), Store.open(oai_url)
        for store in stores:
            store.upgrade()
        try:
            yield stores
        finally:
            for store in stores:
                store.close()


def url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def profile(store: Store) -> dict[str, Any]:
    """What a reader of the views sees of the seed profile."""
    papers = rows(
        store,
        "SELECT arxiv_id, version, title, published, updated, primary_category, categories,"
        " doi, journal_ref, withdrawn, reason FROM profile_papers WHERE author_key = :k"
        " ORDER BY arxiv_id",
        k=SEED_KEY,
    )
    stats = rows(
        store,
        "SELECT paper_count, withdrawn_count, first_published, latest_published,"
        " coauthor_count, version_count, journal_ref_or_doi_count FROM profile_stats"
        " WHERE author_key = :k",
        k=SEED_KEY,
    )
    coauthors = rows(store, "SELECT * FROM coauthors WHERE author_key = :k ORDER BY 2", k=SEED_KEY)
    authors = rows(
        store,
        "SELECT a.arxiv_id, a.position, a.name, a.affiliations FROM paper_author a"
        " JOIN profile_papers p ON p.arxiv_id = a.arxiv_id ORDER BY 1, 2",
    )
    return {
        "papers": [tuple(r) for r in papers],
        "stats": [tuple(r) for r in stats],
        "coauthors": [tuple(r) for r in coauthors],
        "authors": [tuple(r) for r in authors],
    }


def events(store: Store) -> list[tuple[str, str]]:
    found = rows(store, "SELECT kind, arxiv_id FROM paper_events WHERE author_key = :k", k=SEED_KEY)
    return sorted((r.kind, r.arxiv_id) for r in found)
