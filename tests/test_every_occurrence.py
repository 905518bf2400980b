"""A list option given more than once keeps every value (issue 23, item 12):
``harvest review KEY --accept A --accept B`` accepts both, ``--reject A --accept B --reject
C`` rejects A and C, and so for ``--accept-from``/``--reject-from``, ``--only`` and
``--purge``.

The review commands run in-process through the real parser and command function, on the
five "Wei Zhang"s harvested from the look-alike into SQLite and PostgreSQL (the decisions
are written there); the other options need no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.namesakes import CLAIMANTS, NAME, namesake_corpus, namesake_records
from harvester.cli.context import Context
from harvester.cli.parser import build_parser
from harvester.review import review_queue
from harvester.store import Store

from .support import harvest, make_settings, rows, write_config

KEY = "zhang"
ARXIV = {"page_size": 200, "delay_seconds": 0}


@pytest.fixture
def zhang_server() -> Iterator[LookalikeServer]:
    records = namesake_records(namesake_corpus(seed=0), CLAIMANTS)
    with LookalikeServer(Corpus.from_dicts(records)) as server:
        yield server


def command(*argv: str) -> int:
    """``harvest -q ARGV`` in-process: the real parser and command function."""
    args = build_parser().parse_args(["-q", *argv])
    code: int = args.func(Context(args))
    return code


def decisions(store: Store) -> dict[str, str]:
    return dict(rows(store, "SELECT arxiv_id, decision FROM review_decision"))


def test_every_accept_and_reject_counts(
    tmp_path: Path, zhang_server: LookalikeServer, db_url: str, store: Store
) -> None:
    feeds = {"author_feed_url": zhang_server.base_url + "/a", **ARXIV}
    author = {"key": KEY, "name": NAME}
    settings = make_settings(db_url, zhang_server.url, authors=[author], **feeds)
    assert harvest(store, settings).exit_code == 0
    config = str(write_config(tmp_path, db_url, zhang_server.url, authors=[author], arxiv=feeds))
    held = [p.arxiv_id for p in review_queue(store, KEY)]
    assert len(held) >= 7, held
    a, b, c, d, e, f, g = held[:7]

    assert command("review", KEY, "--accept", a, "--accept", b, "--config", config) == 0
    assert decisions(store) == {a: "accepted", b: "accepted"}
    mixed = ["--reject", c, "--accept", d, "--reject", e]
    assert command("review", KEY, *mixed, "--config", config) == 0
    assert decisions(store) == {
        **dict.fromkeys([a, b, d], "accepted"),
        **dict.fromkeys([c, e], "rejected"),
    }
    files = []
    for name, paper in (("one", f), ("two", g)):
        files += ["--reject-from", str(tmp_path / name)]
        (tmp_path / name).write_text(paper + "\n", encoding="utf-8")
    assert command("review", KEY, *files, "--config", config) == 0
    assert {i: decisions(store)[i] for i in (f, g)} == {f: "rejected", g: "rejected"}


@pytest.mark.parametrize(
    ("argv", "dest", "wanted"),
    [
        (["--once", "--only", "a", "b", "--only", "c"], "only", ["a", "b", "c"]),
        (["authors", "--purge", "a", "--purge", "b", "c"], "purge", ["a", "b", "c"]),
        (["review", "k", "--accept-from", "x", "--accept-from", "-"], "accept_from", ["x", "-"]),
        (["review", "k", "--accept", "1", "--reject", "2", "--accept", "3"], "accept", ["1", "3"]),
    ],
)
def test_every_occurrence_of_a_list_option_is_kept(
    argv: list[str], dest: str, wanted: list[str]
) -> None:
    assert getattr(build_parser().parse_args(argv), dest) == wanted


def test_an_option_not_given_is_an_empty_list_of_its_own() -> None:
    first = build_parser().parse_args(["review", "k"])
    second = build_parser().parse_args(["review", "k"])
    assert first.accept == first.reject == second.accept == []
    first.accept.append("x")
    assert (first.reject, second.accept) == ([], [])
