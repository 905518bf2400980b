"""Author identifier feeds: the parser on arXiv's published example, the look-alike's
``/a/{id}.atom2`` (404 for an identifier nobody has, scripted faults), and the source
asking for them under the query API's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxiv_lookalike import Corpus, LookalikeServer, seed_corpus
from arxiv_lookalike.faults import Status
from harvester.config import ArxivSettings
from harvester.errors import IncompleteResponseError, UnknownAuthorError
from harvester.normalise import claimed_ids
from harvester.source import ArxivSource
from harvester.source.authors import parse_author_feed

from .support import TEST_ARXIV

REAL = Path(__file__).parent / "data" / "real" / "author_feed_morrison_d_1.xml"


def test_the_published_example_parses_to_its_paper() -> None:
    feed = parse_author_feed(REAL.read_bytes(), "http://arxiv.org/a/morrison_d_1.atom2")
    assert feed.title == "David R. Morrison's articles on arXiv"
    assert feed.entry_ids == ("http://arxiv.org/abs/1507.05965v2",)
    assert claimed_ids(feed.entry_ids) == (frozenset({"1507.05965"}), [])


def test_entry_ids_that_are_not_arxiv_ids_are_left_out() -> None:
    ids, refused = claimed_ids(["http://arxiv.org/abs/hep-th/9901001v3", "nonsense"])
    assert ids == {"hep-th/9901001"} and refused == ["nonsense"]


def test_an_entry_without_an_id_is_an_incomplete_answer() -> None:
    body = REAL.read_bytes().replace(b"<id>http://arxiv.org/abs/1507.05965v2</id>", b"")
    with pytest.raises(IncompleteResponseError, match="entry 0 of the author feed has no id"):
        parse_author_feed(body, "u")


@pytest.fixture
def claimed_server() -> LookalikeServer:
    """The seed corpus with a claimant of five papers (the seed's own kakade_s_1 has 76)."""
    corpus = Corpus.from_dicts(seed_corpus().to_dicts())
    for paper in corpus.papers()[:5]:
        corpus.upsert({**paper.to_dict(), "claimants": ["fivepaper_a_1", "0000-0002-1825-0097"]})
    return LookalikeServer(corpus)


def source(server: LookalikeServer) -> ArxivSource:
    settings = ArxivSettings(
        api_url=server.url, author_feed_url=server.base_url + "/a", **TEST_ARXIV
    )
    return ArxivSource(settings)


def test_the_look_alike_serves_the_claimed_papers_by_id_and_by_orcid(
    claimed_server: LookalikeServer,
) -> None:
    with claimed_server, source(claimed_server) as arxiv:
        by_id = arxiv.author_feed("fivepaper_a_1")
        by_orcid = arxiv.author_feed("0000-0002-1825-0097")
    want = {p.arxiv_id for p in claimed_server.corpus.papers()[:5]}
    assert claimed_ids(by_id.entry_ids)[0] == claimed_ids(by_orcid.entry_ids)[0] == want
    agent = claimed_server.requests[0].headers["User-Agent"]
    assert agent.startswith("arxiv-harvester/")


def test_an_unknown_identifier_is_404_and_not_asked_again(claimed_server: LookalikeServer) -> None:
    with claimed_server, source(claimed_server) as arxiv:
        with pytest.raises(UnknownAuthorError, match="arXiv knows no author 'nobody_x_1'"):
            arxiv.author_feed("nobody_x_1")
        assert arxiv.requests_sent == 1
    assert claimed_server.requests[0].status == 404


def test_faults_on_the_feed_are_retried_like_the_query_apis(
    claimed_server: LookalikeServer,
) -> None:
    with claimed_server, source(claimed_server) as arxiv:
        claimed_server.faults.add(Status(503), times=2)
        feed = arxiv.author_feed("fivepaper_a_1")
        assert arxiv.requests_sent == 3
    assert len(feed.entry_ids) == 5
    assert [r.status for r in claimed_server.requests] == [503, 503, 200]
