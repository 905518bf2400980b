"""Names hostile to SQL, TOML or the arXiv query language, end to end on both databases.

Author names on papers (quotes, backslashes, semicolons, ``--``, right-to-left controls,
combining characters, very long names) are stored and matched literally, never executed.
Configured names and aliases that the config accepts (apostrophes, ``--``, combining marks,
300 characters) are read from a real TOML file, matched literally, and become exactly one
quoted ``au:`` phrase each in the query the look-alike receives: never a wider query.
Configured names the query language would misread are refused when the config is loaded
(tests/test_settings.py, ``test_hostile_names_are_refused``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from arxiv_lookalike import Corpus, CorpusAuthor, LookalikeServer
from arxiv_lookalike.query import BoolOp, Group, Node, Term, parse_query
from harvester.config import load_settings
from harvester.errors import ConfigError
from harvester.store import Store

from .support import harvest, write_config
from .test_harvest import rows

SQL = "Robert'); DROP TABLE paper;--"
DASHES = "O'Brien -- Jr."
TOML = 'Back\\slash "Quoted" ] [database] url = "sqlite:///pwned.db'
RTL = "\u202eevil rtl\u202c name\u200f"
NFD = "Se\u0301bastien Bubeck"
LONG = "A" * 290 + " Longname"
PAPERS = {
    "2611.00001": (SQL, "Jane Doe"),
    "2611.00002": (DASHES, TOML),
    "2611.00003": (NFD, RTL),
    "2611.00004": (LONG,),
}
PROFILES: list[dict[str, Any]] = [
    {"key": "obrien", "name": DASHES, "aliases": ["Robert DROP TABLE paper"]},
    {"key": "sebastien", "name": NFD},
    {"key": "long", "name": LONG},
]


@pytest.fixture
def hostile_corpus(corpus: Corpus) -> Corpus:
    template = next(iter(corpus))
    for arxiv_id, names in PAPERS.items():
        authors = tuple(CorpusAuthor(name) for name in names)
        corpus.upsert(replace(template, arxiv_id=arxiv_id, version=1, authors=authors))
    return corpus


def terms(node: Node | None) -> list[Term]:
    """The leaves of a parsed query, checking that only ``OR`` joins them."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Group):
        return terms(node.inner)
    assert isinstance(node, BoolOp) and node.op == "OR", node
    return terms(node.left) + terms(node.right)


def test_hostile_names_are_stored_and_matched_literally(
    store: Store, db_url: str, hostile_corpus: Corpus, tmp_path: Path
) -> None:
    with LookalikeServer(hostile_corpus) as server:
        settings = load_settings(
            write_config(
                tmp_path / "h.toml",
                db_url,
                server.url,
                arxiv={"delay_seconds": 0},
                authors=PROFILES,
            ),
            {},
        )
        report = harvest(store, settings)
        queries = [r.params["search_query"] for r in server.requests]
    assert report.exit_code == 0, [a.line() for a in report.authors]

    # one query for all: one quoted au: phrase per configured name, nothing else
    [query] = queries
    names = dict.fromkeys(name for author in settings.authors for name in author.names)
    leaves = terms(parse_query(query))
    assert [(t.field, t.phrase, t.text) for t in leaves] == [("au", True, n) for n in names]
    assert 'au:"Sébastien Bubeck"' in query  # NFC, as the config stores it

    # stored literally (NFC, whitespace collapsed), never executed
    stored = {r.name for r in rows(store, "SELECT name FROM paper_author")}
    assert {SQL, DASHES, TOML, RTL, "Sébastien Bubeck", LONG} <= stored
    assert {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM paper")} == set(PAPERS)
    assert not (tmp_path / "pwned.db").exists()

    # matched literally: exactly the papers with those names, with the name as written
    got = {
        (r.author_key, r.arxiv_id, r.matched_name)
        for r in rows(store, "SELECT author_key, arxiv_id, matched_name FROM profile_papers")
    }
    assert got == {
        ("obrien", "2611.00001", SQL),
        ("obrien", "2611.00002", DASHES),
        ("sebastien", "2611.00003", "Sébastien Bubeck"),
        ("long", "2611.00004", LONG),
    }


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (SQL, "character ')' (U+0029) is not allowed"),
        (TOML, "character '\\\\' (U+005C) is not allowed"),
        (RTL, "character '\\u202e' (U+202E) is not allowed"),
        ("Sham Kakade; --", "character ';' (U+003B) is not allowed"),
        ("A" * 301, "must be at most 300 characters, got 301"),
    ],
)
def test_configured_names_the_query_could_misread_are_refused(
    tmp_path: Path, name: str, problem: str
) -> None:
    path = tmp_path / "h.toml"
    path.write_text(
        f'[[authors]]\nkey = "k"\nname = "Sham Kakade"\naliases = [{json.dumps(name)}]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert str(caught.value) == f"{path}: authors[0].aliases[0]: {problem}" + (
        ""
        if "most" in problem
        else " in a name (allowed: letters, marks, digits, spaces and . - ' ,)"
    )
