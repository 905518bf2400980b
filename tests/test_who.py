"""``harvest who NAME``: the bodies of work behind a name, from the look-alike over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.namesakes import BRIDGE, NAME, namesake_corpus, namesake_records
from harvester.source import ArxivSource
from harvester.who import render_who, who

from .support import make_settings, run_cli, write_config


@pytest.fixture(scope="module")
def zhang_server() -> Iterator[LookalikeServer]:
    corpus = Corpus.from_dicts(namesake_records(namesake_corpus(seed=0), ()))
    with LookalikeServer(corpus) as server:
        yield server


def test_who_shows_the_five_wei_zhangs_apart_in_a_few_requests(
    zhang_server: LookalikeServer,
) -> None:
    settings = make_settings("sqlite:///unused.db", zhang_server.url, page_size=200)
    before = len(zhang_server.requests)
    with ArxivSource(settings.arxiv) as source:
        bodies = who(source, NAME)
    assert len(zhang_server.requests) - before <= 3, "a few requests"
    corpus = namesake_corpus(seed=0)
    print("\n" + render_who(NAME, bodies))
    sizes = sorted((len(corpus.papers_of(p)) for p in range(5)), reverse=True)
    assert [b.papers for b in bodies] == sizes, "one body per person"
    hers = bodies[0]
    assert hers.categories[0][0] == "cs.LG" and (hers.first_year, hers.last_year) == (2015, 2025)
    assert hers.coauthors[0][0] in corpus.pools[0][:5]
    text = render_who(NAME, bodies)
    assert text.startswith(f"{NAME}: 434 papers, 5 separate bodies of work\n1. 124 papers, ")
    assert f"{BRIDGE} {chr(215)}18" in text.split("\n2. ")[0], "her frequent co-authors"


def test_who_on_the_command_line(tmp_path: Path, zhang_server: LookalikeServer) -> None:
    arxiv = {"delay_seconds": 0, "page_size": 200}
    config = write_config(tmp_path, "sqlite:///unused.db", zhang_server.url, arxiv=arxiv)
    result = run_cli("who", NAME, "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["name"] == NAME
    assert [b["papers"] for b in found["bodies"]] == [124, 108, 82, 64, 56]
    nobody = run_cli("who", "Nobody Atall", "--config", str(config))
    assert nobody.returncode == 0 and "no paper on arXiv names 'Nobody Atall'" in nobody.stdout
