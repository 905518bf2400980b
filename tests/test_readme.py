"""The README is part of the product: its SQL examples run against a harvested database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from arxiv_lookalike import Corpus, LookalikeServer
from harvester.store import PUBLIC_VIEWS, Store

from .support import harvest, make_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
QUERIES = re.findall(r"```sql\n(.*?)```", README, re.S)


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("## ", 2)[1]
    assert "make run" in head and "make test" in head
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_every_view_is_documented() -> None:
    assert len(QUERIES) >= len(PUBLIC_VIEWS)
    for view in PUBLIC_VIEWS:
        assert f"### `{view}`" in README


def test_every_table_is_introduced_by_a_heading_or_a_whole_sentence() -> None:
    """A sentence cut off before a table ("prints, per author,\nand exits with") is caught."""
    lines = README.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("|") and i > 0]
    for i in starts:
        if lines[i - 1].startswith("|"):
            continue
        before = next(line for line in reversed(lines[:i]) if line.strip())
        assert before.startswith("#") or before.endswith((":", ".")), (i + 1, before)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.split("FROM")[1].split()[0])
def test_readme_queries_run(
    query: str, store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """Two harvests with a new version in between, so every view has rows.

    Each cycle is followed by the hook ``harvest --once`` runs (similar authors)."""
    settings = make_settings(db_url, server.url)
    harvest(store, settings, derive=True)
    newest = max(corpus, key=lambda p: p.published)
    corpus.revise(newest.arxiv_id, updated=datetime.now(UTC))
    harvest(store, settings, derive=True)
    with store.engine.connect() as conn:
        result = conn.execute(text(query.strip().rstrip(";"))).all()
    assert result, f"README query returned no rows:\n{query}"
