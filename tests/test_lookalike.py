"""The arXiv look-alike, exercised over real HTTP (and through arxiv.py where it matters)."""

from __future__ import annotations

import gc
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import arxiv
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import arxiv_lookalike as lookalike
from arxiv_lookalike import (
    BadEntry,
    BillionLaughs,
    Chain,
    Corpus,
    CorpusError,
    Duplicate,
    EmptyPage,
    Html200,
    Huge,
    LegacyError200,
    LegacyFormat,
    LookalikeServer,
    QueryError,
    Redirect,
    Reorder,
    Reset,
    ShortPage,
    Stall,
    Status,
    TotalDrift,
    Truncate,
    Xxe,
    later_pages,
    parse_query,
    seed_corpus,
)
from arxiv_lookalike.query import canonical, fold
from arxiv_lookalike.search import IndexedSearch, SearchRequest, run_search
from arxiv_lookalike.synthetic import add_new_papers, synthetic_corpus
from harvester.errors import HostileResponseError, IncompleteResponseError, QueryRejectedError
from harvester.source.feed import ParsedPage, parse_page

from .support import REPO, interruptible, signal_state

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
PREFIX = {uri: name for name, uri in NS.items()}
ALIASES = 'au:"Sham Kakade" OR au:"Sham M. Kakade" OR au:"Sham M Kakade"'
NOW = datetime(2026, 3, 2, 2, 0, 5, tzinfo=UTC)
SEED_PAPERS = REPO / "tests" / "data" / "seed" / "papers.json"
SHIPPED = REPO / "arxiv_lookalike" / "data" / "seed_corpus.json"
SEED = seed_corpus()


@pytest.fixture(scope="module")
def srv() -> Iterator[LookalikeServer]:
    with LookalikeServer(seed_corpus(), clock=lambda: NOW) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(srv: LookalikeServer) -> Iterator[None]:
    srv.faults.clear()
    srv.legacy = False
    srv.clear_requests()
    yield
    srv.faults.clear()
    srv.legacy = False


@pytest.fixture
def client(srv: LookalikeServer) -> Iterator[arxiv.Client]:
    """The ``arxiv`` package's own client, through its public API, pointed at the look-alike."""
    api = arxiv.Client(page_size=20, delay_seconds=0, num_retries=0)
    api.query_url_format = srv.url + "?{}"
    yield api
    del api  # its public API cannot close its session: let it go quietly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def parsed(body: bytes) -> ParsedPage:
    """The harvester's own strict parser (harvester.source.feed) on a look-alike answer."""
    return parse_page(body, "http://look-alike/")


def results(body: bytes) -> list[arxiv.Result]:
    return [entry.result for entry in parsed(body).entries if entry.result is not None]


def get(srv: LookalikeServer, timeout: float = 5.0, **params: Any) -> requests.Response:
    return requests.get(srv.url, params=params, timeout=timeout)


def entry_ids(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [text.rsplit("/abs/", 1)[1] for text in root.xpath("//atom:entry/atom:id/text()",
                                                               namespaces=NS)]  # fmt: skip


def search(srv: LookalikeServer, query: str, **params: Any) -> list[str]:
    """Versionless ids of every match, in the server's order."""
    response = get(srv, search_query=query, max_results=2000, **params)
    assert response.status_code == 200, response.text
    return [re.sub(r"v\d+$", "", one) for one in entry_ids(response.content)]


def where(test: Any) -> set[str]:
    return {paper.arxiv_id for paper in SEED if test(paper)}


def tags(element: Any) -> list[str]:
    out = []
    for child in element:
        name = etree.QName(child)
        prefix = PREFIX[name.namespace]
        out.append(name.localname if prefix == "atom" else f"{prefix}:{name.localname}")
    return out


def error_summary(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    return str(root.findtext("atom:entry/atom:summary", namespaces=NS))


# --- the indexed search answers exactly as the plain one --------------------------------

MIXED, MIXED_AUTHORS = synthetic_corpus(40, 5, seed=11)
for _paper in SEED:  # the seed's namesakes: phrases across two authors, accents, initials
    MIXED.upsert(_paper)
MIXED_PAPERS = MIXED.papers()
_NAMES = sorted({a.name for p in MIXED_PAPERS for a in p.authors})
_SPANS = sorted(  # "Priya Sham, Kakade Venkatesh" holds the phrase "Sham Kakade"
    f"{fold(first.name)[-1]} {fold(second.name)[0]}"
    for p in MIXED_PAPERS
    for first, second in zip(p.authors, p.authors[1:], strict=False)
)
_WORDS = sorted({w for p in MIXED_PAPERS for w in fold(f"{p.title} {p.comment or ''}")})
_CATEGORIES = sorted({c for p in MIXED_PAPERS for c in p.categories})
_IDS = [p.arxiv_id for p in MIXED_PAPERS]
INDEXED = IndexedSearch(cache_size=4)  # shared by the examples: its cache is exercised too


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


@st.composite
def _date_range(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(["submittedDate", "lastUpdatedDate"]))
    first = datetime(2006, 1, 1, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 7600)))
    last = first + timedelta(days=draw(st.integers(0, 4000)), minutes=draw(st.integers(0, 99)))
    return f"{field}:[{_stamp(first)} TO {_stamp(last)}]"


_LEAVES = st.one_of(
    st.sampled_from(_NAMES).map(lambda name: f'au:"{name}"'),
    st.sampled_from(_SPANS).map(lambda span: f'au:"{span}"'),
    st.sampled_from(_NAMES).map(lambda name: f"au:{name.split()[-1]}"),
    st.sampled_from(_WORDS).map(lambda word: f"ti:{word}"),
    st.lists(st.sampled_from(_WORDS), min_size=2, max_size=2).map(lambda w: f'ti:"{" ".join(w)}"'),
    st.sampled_from(_WORDS).map(lambda word: f"{word}"),
    st.sampled_from(_WORDS).map(lambda word: f"abs:{word}"),
    st.sampled_from(["co", "jr", "rn"]).map(lambda field: f"{field}:the"),
    st.sampled_from(_CATEGORIES).map(lambda category: f"cat:{category}"),
    st.sampled_from(["cat:cs.*", "cat:math*", "cat:nope*", "all:cs"]),
    st.sampled_from(_IDS).map(lambda arxiv_id: f"id:{arxiv_id}"),
    _date_range(),
)
_QUERIES = st.recursive(
    _LEAVES,
    lambda inner: st.tuples(inner, st.sampled_from(["AND", "OR", "ANDNOT", ""]), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    ),
    max_leaves=8,
)
_GROUPED = st.lists(st.sampled_from(_NAMES + _SPANS), min_size=1, max_size=40).map(
    lambda names: "(" + " OR ".join(f'au:"{name}"' for name in names) + ")"
)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    st.one_of(_QUERIES, _GROUPED),
    st.sampled_from(["relevance", "submittedDate", "lastUpdatedDate"]),
    st.sampled_from(["ascending", "descending"]),
    st.integers(0, 30),
)
def test_indexed_search_answers_as_the_plain_search(
    query: str, sort_by: str, sort_order: str, start: int
) -> None:
    params = {"search_query": query, "sortBy": sort_by, "sortOrder": sort_order}
    request = SearchRequest.from_params({**params, "start": str(start), "max_results": "7"})
    expected = run_search(MIXED_PAPERS, request)
    assert INDEXED(MIXED, request) == expected
    assert INDEXED(MIXED, request).page() == expected.page()  # again, from the cache


def test_indexed_search_follows_every_change_of_the_corpus() -> None:
    corpus, authors = synthetic_corpus(30, 4, seed=5)
    indexed = IndexedSearch()
    queries = [
        "(" + " OR ".join(f'au:"{a.name}"' for a in authors[:10]) + ")",
        f"au:{authors[3].name.split()[-1]} ANDNOT submittedDate:[202001010000 TO 202612312359]",
        "cat:cs.* AND ti:learning",
    ]

    def agree() -> None:
        for query in queries:
            for sort_by in ("relevance", "lastUpdatedDate"):
                request = SearchRequest.from_params({"search_query": query, "sortBy": sort_by})
                assert indexed(corpus, request) == run_search(corpus.papers(), request)

    agree()
    versions = [corpus.version]
    for paper in corpus.papers()[::7]:
        corpus.revise(paper.arxiv_id, updated=paper.updated + timedelta(days=1), title="Learning")
        versions.append(corpus.version)
        agree()
    add_new_papers(corpus, authors[:10], 3, seed=1)
    agree()
    corpus.remove(corpus.papers()[0].arxiv_id)
    versions.append(corpus.version)
    agree()
    assert versions == sorted(set(versions)) and corpus.snapshot()[0] == corpus.version
    assert indexed(SEED, SearchRequest.from_params({"search_query": "au:kakade"})).total_results


# --- the current format ------------------------------------------------------------------


def test_current_format_head_is_byte_exact(srv: LookalikeServer) -> None:
    response = get(srv, search_query="cat:hep-th", max_results=5)
    lines = response.text.splitlines()
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert lines[0] == "<?xml version='1.0' encoding='UTF-8'?>"
    assert lines[1] == (
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">'
    )
    assert re.fullmatch(r"  <id>https://arxiv\.org/api/[A-Za-z0-9+/]{27}</id>", lines[2])
    assert lines[3:9] == [
        "  <title>arXiv Query: search_query=cat:hep-th&amp;id_list=&amp;start=0&amp;"
        "max_results=5</title>",
        "  <updated>2026-03-02T02:00:05Z</updated>",
        '  <link href="https://arxiv.org/api/query?search_query=cat:hep-th&amp;start=0&amp;'
        'max_results=5&amp;id_list=" type="application/atom+xml"/>',
        "  <opensearch:itemsPerPage>5</opensearch:itemsPerPage>",
        "  <opensearch:totalResults>1</opensearch:totalResults>",
        "  <opensearch:startIndex>0</opensearch:startIndex>",
    ]
    assert lines[9] == "  <entry>"
    assert response.text.endswith("  </entry>\n</feed>\n")


def test_entry_children_come_in_the_reference_order(srv: LookalikeServer) -> None:
    response = get(srv, id_list="0704.0046")
    entry = etree.fromstring(response.content).find("atom:entry", NS)
    assert tags(entry) == [
        "id", "title", "updated", "link", "link", "summary", "category", "category",
        "published", "arxiv:comment", "arxiv:primary_category", "arxiv:journal_ref",
        "author", "author", "arxiv:doi", "link",
    ]  # fmt: skip
    text = response.text
    assert "    <id>http://arxiv.org/abs/0704.0046v3</id>\n" in text
    assert (
        '    <link href="https://arxiv.org/abs/0704.0046v3" rel="alternate" type="text/html"/>\n'
        '    <link href="https://arxiv.org/pdf/0704.0046v3" rel="related" '
        'type="application/pdf" title="pdf"/>\n'
    ) in text
    assert '    <arxiv:primary_category term="cond-mat.mes-hall"/>\n' in text
    assert (
        "    <author>\n      <name>Keiko Tanaka</name>\n"
        "      <arxiv:affiliation>University of Tokyo</arxiv:affiliation>\n"
        "      <arxiv:affiliation>RIKEN</arxiv:affiliation>\n    </author>\n"
    ) in text
    assert (
        "    <arxiv:doi>10.1103/PhysRevB.76.045301</arxiv:doi>\n"
        '    <link rel="related" href="https://doi.org/10.1103/PhysRevB.76.045301" title="doi"/>\n'
        "  </entry>\n"
    ) in text


def test_text_is_escaped_raw_utf8(srv: LookalikeServer) -> None:
    text = get(srv, id_list="2105.01234,2406.12345").content.decode("utf-8")
    assert "<title>Kernels &amp; Margins: When $\\|w\\|_2 &lt; 1$ Suffices</title>" in text
    assert "<summary>  We show" in text and "&lt;in general&gt;" in text
    assert "<name>Jürgen Weiß</name>" in text


def test_the_feed_parser_reads_every_field(srv: LookalikeServer) -> None:
    page = parsed(get(srv, id_list="0704.0046").content)
    assert page.total_results == 1 and all(e.problem is None for e in page.entries)
    (result,) = results(get(srv, id_list="0704.0046").content)
    assert result.entry_id == "http://arxiv.org/abs/0704.0046v3"
    assert result.pdf_url == "https://arxiv.org/pdf/0704.0046v3"
    assert [(a.name, a.affiliation) for a in result.authors] == [
        ("Keiko Tanaka", ["University of Tokyo", "RIKEN"]),
        ("Paul Schmidt", []),
    ]
    assert (result.doi, result.journal_ref, result.comment) == (
        "10.1103/PhysRevB.76.045301",
        "Phys. Rev. B 76, 045301 (2007)",
        "12 pages, 4 figures",
    )
    assert result.primary_category == "cond-mat.mes-hall"
    assert result.categories == ["cond-mat.mes-hall", "quant-ph"]
    assert result.published == datetime(2007, 4, 3, 11, 41, 27, tzinfo=UTC)


def test_arxiv_client_pages_through_every_alias_match(
    srv: LookalikeServer, client: arxiv.Client
) -> None:
    query = arxiv.Search(ALIASES, max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate)
    results = list(client.results(query))
    ids = [result.get_short_id() for result in results]
    assert len(ids) == len(set(ids)) == 80
    genuine = [r for r in results if "Sham Kakade" in [a.name for a in r.authors]]
    assert len(genuine) == 76
    assert [r.published for r in results] == sorted((r.published for r in results), reverse=True)
    assert [record.params["start"] for record in srv.requests] == ["0", "20", "40", "60"]
    assert all(record.headers["user-agent"].startswith("arxiv.py/") for record in srv.requests)


# --- query semantics ---------------------------------------------------------------------


def test_relevance_is_deterministic_and_not_date_order(srv: LookalikeServer) -> None:
    relevance = search(srv, ALIASES)
    submitted = search(srv, ALIASES, sortBy="submittedDate")
    assert set(relevance) == set(submitted) and relevance != submitted
    assert search(srv, ALIASES) == relevance
    assert search(srv, ALIASES, sortBy="submittedDate", sortOrder="ascending") == submitted[::-1]
    updated = [SEED.get(one).updated for one in search(srv, ALIASES, sortBy="lastUpdatedDate")]
    assert updated == sorted(updated, reverse=True)


def test_author_phrases_match_tokens_not_people(srv: LookalikeServer) -> None:
    plain = set(search(srv, 'au:"Sham Kakade"'))
    assert len(plain) == 79
    assert {"2403.14422", "2311.09876", "2501.11234"} <= plain  # adjacent authors, extra tokens
    assert "2208.05531" not in plain
    assert set(search(srv, 'au:"Sham M. Kakade"')) == {"2208.05531"}
    assert set(search(srv, 'au:"Sham M Kakade"')) == {"2208.05531"}
    assert set(search(srv, "au:sham_kakade")) == plain
    assert "2604.01234" in set(search(srv, "au:sham")) - plain


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat:hep-th OR cat:math.GT", {"hep-th/9901001", "math.GT/0309136"}),
        ("ti:handlebodies ti:orbifold", {"hep-th/9901001", "math.GT/0309136"}),
        ("au:kakade AND cat:cond-mat.mes-hall", {"2208.05531"}),
        ("cat:cond-mat.mes-hall ANDNOT au:kakade", {"0704.0046"}),
        ("(cat:hep-th OR cat:math.GT) AND ti:boundary", {"hep-th/9901001"}),
        ("cat:hep-th OR cat:math.GT AND ti:boundary", {"hep-th/9901001"}),
        ("cat:math.GT OR (cat:hep-th AND ti:quantum)", {"math.GT/0309136"}),
        ("cat:math.GT AND cat:hep-th", set()),
        ('ti:"Quantum Invariants"', {"math.GT/0309136"}),
        ('ti:"Invariants Quantum"', set()),
        ("cat:57M27", {"math.GT/0309136"}),
        ("cat:MATH.gt", {"math.GT/0309136"}),
        ("cat:math.*", where(lambda p: any(c.startswith("math.") for c in p.categories))),
        ("au:Lefevre", where(lambda p: any(a.name == "Zoë Lefèvre" for a in p.authors))),
        ("au:weiss", {"2406.12345"}),
        ("jr:Nucl", {"hep-th/9901001"}),
        ("co:errata", {"2105.01234"}),
        ("abs:sierpinski", {"1207.0580"}),
        ("id:0704.0046v2", {"0704.0046"}),
        ("id:hep-th/9901001", {"hep-th/9901001"}),
        ("handlebodies", {"math.GT/0309136"}),
        ('"quasar hosts"', {"astro-ph/0601001"}),
        ("rn:anything", set()),
        ("submittedDate:[200701010000 TO 200712312359]", {"0704.0002", "0704.0046"}),
        ("submittedDate:[200704020900 TO 200704031141]", {"0704.0002", "0704.0046"}),
        ("submittedDate:[200704020901 TO 200704031140]", set()),
        ("cat:math.CO AND submittedDate:[200701010000 TO 200712312359]", {"0704.0002"}),
        ("lastUpdatedDate:[200706010000 TO 200706302359]", {"0704.0046"}),
    ],
)
def test_query_language(srv: LookalikeServer, query: str, expected: set[str]) -> None:
    assert set(search(srv, query)) == expected


def test_lowercase_operators_are_words(srv: LookalikeServer) -> None:
    assert {"math.GT/0309136", "hep-th/9901001"} <= set(search(srv, "cat:math.GT and cat:hep-th"))


def test_canonical_query_in_the_title() -> None:
    assert canonical(parse_query('ti:a b (au:"X Y" ANDNOT c)')) == (
        'ti:a OR all:b OR (au:"X Y" ANDNOT all:c)'
    )
    with pytest.raises(QueryError, match="Invalid query string: 'ti:a AND'"):
        parse_query("ti:a AND")


@pytest.mark.parametrize(
    "query",
    [
        'au:"Sham Kakade', "(ti:a", "ti:a)", "foo:bar", "TI:a", "ti:a AND", "AND ti:a",
        "ti:a AND OR ti:b", "()", "ti:", 'au:""', "submittedDate:2007*",
        "submittedDate:[2007 TO 2008]", "submittedDate:[202401010000 TO 202301010000]",
        "submittedDate:[202413010000 TO 202412312359]",
    ],
)  # fmt: skip
def test_malformed_query_gets_the_400_error_feed(srv: LookalikeServer, query: str) -> None:
    response = get(srv, search_query=query)
    message = f"Invalid query string: '{query}'"
    assert response.status_code == 400
    root = etree.fromstring(response.content)
    assert tags(root) == [
        "id", "title", "updated", "opensearch:itemsPerPage", "opensearch:totalResults",
        "opensearch:startIndex", "entry",
    ]  # fmt: skip
    assert root.findtext("atom:id", namespaces=NS) == "https://arxiv.org/"
    assert root.findtext("atom:title", namespaces=NS) == "arXiv Search Results"
    entry = root.find("atom:entry", NS)
    assert tags(entry) == ["id", "title", "updated", "link", "summary", "author"]
    anchor = "https://arxiv.org/api/errors#" + message.replace(" ", "_")
    assert entry.findtext("atom:id", namespaces=NS) == anchor
    assert entry.findtext("atom:title", namespaces=NS) == "Error"
    assert entry.findtext("atom:summary", namespaces=NS) == message
    assert entry.findtext("atom:author/atom:name", namespaces=NS) == "arXiv api core"
    with pytest.raises(QueryRejectedError, match="Invalid query string"):
        parsed(response.content)


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"max_results": "2001"}, 400, "max_results must be less than or equal to 2000"),
        ({"start": "-1"}, 400, "start must be non-negative"),
        ({"start": "abc"}, 400, "start must be an integer"),
        ({"max_results": "1.5"}, 400, "max_results must be an integer"),
        ({"start": "29000", "max_results": "2000"}, 400, None),
        ({"sortBy": "date"}, 400, None),
        ({"sortOrder": "up"}, 400, None),
        ({"start": "9995", "max_results": "10"}, 500, None),
        ({"max_results": "0"}, 500, None),
        ({"start": "9990", "max_results": "10"}, 200, None),
    ],
)
def test_paging_limits(
    srv: LookalikeServer, params: dict[str, str], status: int, message: str | None
) -> None:
    response = get(srv, search_query="cat:hep-th", **params)
    assert response.status_code == status
    if message is not None:
        assert error_summary(response) == message


def test_empty_result_and_unknown_paths(srv: LookalikeServer) -> None:
    response = get(srv, search_query="ti:nonexistentword")
    assert response.status_code == 200
    assert "<opensearch:totalResults>0</opensearch:totalResults>" in response.text
    assert entry_ids(response.content) == []
    assert requests.get(srv.base_url + "/api/other", timeout=5).status_code == 404
    moved = requests.get(srv.base_url + "/http/api/query?id_list=0704.0002", timeout=5)
    assert moved.history[0].status_code == 301 and entry_ids(moved.content) == ["0704.0002v1"]


def test_id_list_order_versions_and_intersection(srv: LookalikeServer) -> None:
    ids = "0704.0046v2,hep-th/9901001,9912.99999,2406.10670,0704.0002v5,2406.10670"
    assert entry_ids(get(srv, id_list=ids).content) == [
        "0704.0046v2", "hep-th/9901001v2", "2406.10670v3",
    ]  # fmt: skip
    both = get(srv, id_list=ids, search_query="cat:cond-mat.mes-hall OR cat:hep-th")
    assert entry_ids(both.content) == ["0704.0046v2", "hep-th/9901001v2"]
    bad = get(srv, id_list="0704.0002,abc")
    assert bad.status_code == 400 and error_summary(bad) == "incorrect id format for abc"


def test_paging_windows_are_disjoint(srv: LookalikeServer) -> None:
    pages = [entry_ids(get(srv, search_query=ALIASES, sortBy="submittedDate", start=start,
                           max_results=30).content) for start in (0, 30, 60, 90)]  # fmt: skip
    assert [len(page) for page in pages] == [30, 30, 20, 0]
    assert len({one for page in pages for one in page}) == 80


# --- faults ------------------------------------------------------------------------------


def test_status_faults_and_retry_after(srv: LookalikeServer) -> None:
    srv.faults.add(Status(429))
    srv.faults.add(Status(503, retry_after=7))
    srv.faults.add(Status(503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT"))
    srv.faults.add(Status(503, retry_after=datetime(2026, 3, 2, 3, 0, tzinfo=UTC)))
    for code in (500, 502, 408, 404):
        srv.faults.add(Status(code))
    answers = [get(srv, search_query="cat:hep-th") for _ in range(9)]
    assert [a.status_code for a in answers] == [429, 503, 503, 503, 500, 502, 408, 404, 200]
    assert "Retry-After" not in answers[0].headers
    assert [a.headers["Retry-After"] for a in answers[1:4]] == [
        "7", "Wed, 21 Oct 2026 07:28:00 GMT", "Mon, 02 Mar 2026 03:00:00 GMT",
    ]  # fmt: skip
    assert srv.faults.history[-8:] == ["status"] * 8 and len(srv.faults) == 0


def test_fault_times_and_filters(srv: LookalikeServer) -> None:
    srv.faults.add(Status(503), times=2, when=later_pages)
    srv.faults.add(Status(502), when={"start": "40"})
    starts = [0, 20, 0, 20, 20, 40, 40]
    codes = [get(srv, search_query="cat:cs.LG", start=s).status_code for s in starts]
    assert codes == [200, 503, 200, 503, 200, 502, 200]
    forever = srv.faults.add(Status(429), times=None)
    assert [get(srv, search_query="x").status_code for _ in range(3)] == [429] * 3
    assert forever.applied == 3 and len(srv.faults) == 1
    srv.faults.clear()
    assert get(srv, search_query="x").status_code == 200


def test_empty_later_page_breaks_the_arxiv_client(
    srv: LookalikeServer, client: arxiv.Client
) -> None:
    srv.faults.add(EmptyPage(), when=later_pages)
    query = arxiv.Search(ALIASES, max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate)
    with pytest.raises(arxiv.UnexpectedEmptyPageError):
        list(client.results(query))
    srv.faults.add(EmptyPage())
    response = get(srv, search_query=ALIASES)
    assert entry_ids(response.content) == []
    assert "<opensearch:totalResults>80</opensearch:totalResults>" in response.text


def test_short_page_and_total_drift(srv: LookalikeServer) -> None:
    srv.faults.add(ShortPage(3))
    srv.faults.add(TotalDrift(-5))
    short = parsed(get(srv, search_query=ALIASES).content)
    drift = parsed(get(srv, search_query=ALIASES).content)
    assert (len(short.entries), short.total_results) == (3, 80)
    assert (len(drift.entries), drift.total_results) == (10, 75)


def test_truncate_with_and_without_content_length(srv: LookalikeServer) -> None:
    srv.faults.add(Truncate(fraction=0.5))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(srv, search_query=ALIASES)
    srv.faults.add(Truncate(n_bytes=1500, keep_length=False))
    response = get(srv, search_query=ALIASES)
    assert response.status_code == 200 and len(response.content) == 1500
    assert "Content-Length" not in response.headers
    assert not response.content.endswith(b"</feed>\n")


def test_stall_times_out_the_client_and_never_blocks_shutdown() -> None:
    server = LookalikeServer(seed_corpus()).start()
    try:
        server.faults.add(Stall(60))
        with pytest.raises(requests.exceptions.ReadTimeout):
            get(server, timeout=0.3, search_query="cat:hep-th")
        assert get(server, search_query="cat:hep-th").status_code == 200
        assert [record.status for record in server.requests] == [None, 200]
    finally:
        began = time.monotonic()
        server.stop()
    assert time.monotonic() - began < 2.0


def test_stall_then_respond_is_just_slow(srv: LookalikeServer) -> None:
    srv.faults.add(Stall(0.3, then_respond=True))
    began = time.monotonic()
    response = get(srv, search_query="cat:hep-th")
    assert response.status_code == 200 and time.monotonic() - began >= 0.3


def test_reset_aborts_mid_body(srv: LookalikeServer) -> None:
    srv.faults.add(Reset())
    with pytest.raises(requests.exceptions.RequestException) as caught:
        get(srv, search_query=ALIASES)
    broken = requests.exceptions.ChunkedEncodingError | requests.exceptions.ConnectionError
    assert isinstance(caught.value, broken)
    assert get(srv, search_query=ALIASES).status_code == 200


def test_html_200_looks_like_no_results_to_arxiv(
    srv: LookalikeServer, client: arxiv.Client
) -> None:
    srv.faults.add(Html200())
    assert list(client.results(arxiv.Search("cat:hep-th"))) == []
    assert srv.requests[-1].status == 200
    srv.faults.add(Html200())
    response = get(srv, search_query="cat:hep-th")
    assert response.headers["Content-Type"].startswith("text/html")


def test_legacy_error_200_is_an_error_feed_with_status_200(srv: LookalikeServer) -> None:
    srv.faults.add(LegacyError200("incorrect id format for 1234.12345"))
    response = get(srv, search_query="cat:hep-th")
    assert response.status_code == 200
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    with pytest.raises(QueryRejectedError, match=r"incorrect id format for 1234\.12345"):
        parsed(response.content)  # an error, never "no results"
    assert error_summary(response) == "incorrect id format for 1234.12345"


def test_legacy_format_parses_to_the_same_results(srv: LookalikeServer) -> None:
    current = results(get(srv, search_query=ALIASES, max_results=40).content)
    srv.faults.add(LegacyFormat())
    response = get(srv, search_query=ALIASES, max_results=40)
    text = response.text
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
    )
    assert '<title type="html">ArXiv Query: search_query=' in text
    assert "<updated>2026-03-01T00:00:00-04:00</updated>" in text
    assert '  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/' in text
    assert 'scheme="http://arxiv.org/schemas/atom"/>\n    <category' in text
    legacy = results(response.content)
    assert [r.entry_id for r in legacy] == [r.entry_id for r in current]
    assert [r.title for r in legacy] == [r.title for r in current]
    titles = etree.fromstring(response.content).iterfind("atom:entry/atom:title", NS)
    assert any("\n  " in str(title.text) for title in titles)  # hard-wrapped
    assert [r.primary_category for r in legacy] == [r.primary_category for r in current]


def test_legacy_server_mode_answers_errors_with_200(srv: LookalikeServer) -> None:
    srv.legacy = True
    response = get(srv, id_list="abc")
    assert response.status_code == 200
    with pytest.raises(QueryRejectedError):
        parsed(response.content)
    assert error_summary(response) == "incorrect id format for abc"
    assert get(srv, max_results="0").status_code == 500


def test_redirect_is_followed_to_the_same_query(srv: LookalikeServer) -> None:
    srv.faults.add(Redirect())
    response = get(srv, id_list="0704.0002")
    assert [h.status_code for h in response.history] == [302]
    assert entry_ids(response.content) == ["0704.0002v1"]
    assert [(r.status, r.params) for r in srv.requests] == [
        (302, {"id_list": "0704.0002"}),
        (200, {"id_list": "0704.0002"}),
    ]


def test_huge_body_is_streamed_to_the_exact_size(srv: LookalikeServer) -> None:
    size = 3_000_000
    srv.faults.add(Huge(size))
    with requests.get(srv.url, params={"search_query": ALIASES}, stream=True, timeout=10) as r:
        assert int(r.headers["Content-Length"]) == size
        body = b"".join(r.iter_content(chunk_size=1 << 16))
    assert len(body) == size and body.endswith(b"</feed>\n")
    assert len(etree.fromstring(body, etree.XMLParser(huge_tree=True))) > 1000


def test_xxe_and_billion_laughs_are_refused_unexpanded(srv: LookalikeServer) -> None:
    srv.faults.add(Xxe())
    xxe = get(srv, search_query="cat:hep-th").content
    assert b'<!ENTITY xxe SYSTEM "file:///etc/passwd">' in xxe and b"<title>&xxe;</title>" in xxe
    with pytest.raises(HostileResponseError):
        parsed(xxe)
    srv.faults.add(BillionLaughs())
    laughs = get(srv, search_query="cat:hep-th").content
    began = time.monotonic()
    with pytest.raises((HostileResponseError, IncompleteResponseError)):  # libxml2 stops it
        parsed(laughs)
    assert time.monotonic() - began < 1.0


@pytest.mark.parametrize("damage", ["no_authors", "bad_date", "no_id", "empty_title"])
def test_bad_entry(srv: LookalikeServer, damage: str) -> None:
    srv.faults.add(BadEntry(damage, index=1))
    body = get(srv, search_query=ALIASES, sortBy="submittedDate").content
    second = etree.fromstring(body).findall("atom:entry", NS)[1]
    if damage == "no_authors":
        assert second.find("atom:author", NS) is None
    elif damage == "bad_date":
        assert second.findtext("atom:published", namespaces=NS) == "2024-13-45T25:61:00Z"
        problem = parsed(body).entries[1].problem  # the entry alone, not its page
        assert problem is not None and problem.startswith("unreadable date")
    elif damage == "no_id":
        assert second.find("atom:id", NS) is None
        assert len(results(body)) == 9
    else:
        assert second.findtext("atom:title", namespaces=NS) == ""


def test_reorder_and_duplicate(srv: LookalikeServer) -> None:
    page = {"search_query": ALIASES, "sortBy": "submittedDate", "max_results": 20}
    first = entry_ids(get(srv, **page).content)
    second = entry_ids(get(srv, start=20, **page).content)
    srv.faults.add(Reorder(seed=3))
    shuffled = entry_ids(get(srv, **page).content)
    assert sorted(shuffled) == sorted(first) and shuffled != first
    srv.faults.add(Duplicate(), when=later_pages)
    drifted = entry_ids(get(srv, start=20, **page).content)
    assert drifted == [first[-1], *second[:-1]]


def test_chain_combines_faults(srv: LookalikeServer) -> None:
    srv.faults.add(Chain((ShortPage(2), LegacyFormat())))
    response = get(srv, search_query=ALIASES)
    assert response.text.startswith('<?xml version="1.0"') and len(entry_ids(response.content)) == 2


# --- the server itself -------------------------------------------------------------------


def test_request_log_and_post(srv: LookalikeServer) -> None:
    get(srv, search_query="cat:hep-th", start=0, max_results=3)
    posted = requests.post(srv.url, data={"search_query": "cat:math.GT"}, timeout=5)
    assert entry_ids(posted.content) == ["math.GT/0309136v1"]
    first, second = srv.requests
    assert (first.method, first.path, first.status) == ("GET", "/api/query", 200)
    assert first.params == {"search_query": "cat:hep-th", "start": "0", "max_results": "3"}
    assert first.headers["host"] == f"127.0.0.1:{srv.port}" and first.time <= second.time
    assert first.headers.get("User-Agent", "").startswith("python-requests/")
    assert (second.method, second.params) == ("POST", {"search_query": "cat:math.GT"})
    srv.clear_requests()
    assert srv.requests == []


def test_keep_alive_serves_several_requests_on_one_connection(srv: LookalikeServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        bodies = []
        for target in ("/api/query?id_list=0704.0002", "/api/query?id_list=1207.0580"):
            connection.request("GET", target)
            answer = connection.getresponse()
            bodies.append(answer.read())
            assert answer.status == 200 and not answer.will_close
        socket_used = connection.sock
        connection.request("GET", "/api/query?id_list=1012.3456")
        connection.getresponse().read()
        assert connection.sock is socket_used
    finally:
        connection.close()
    assert [entry_ids(body) for body in bodies] == [["0704.0002v1"], ["1207.0580v1"]]


def test_corpus_mutations_are_served_live_and_safely() -> None:
    corpus = Corpus.from_dicts(paper.to_dict() for paper in SEED if not paper.arxiv_id[0].isdigit())
    with LookalikeServer(corpus) as server:
        assert search(server, "cat:hep-th") == ["hep-th/9901001"]
        corpus.revise("hep-th/9901001", updated=datetime(2001, 1, 1, tzinfo=UTC), comment="v3")
        assert entry_ids(get(server, id_list="hep-th/9901001").content) == ["hep-th/9901001v3"]
        errors: list[BaseException] = []

        def hammer() -> None:
            try:
                for _ in range(15):
                    assert get(server, search_query="all:the").status_code == 200
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for number in range(30):
            corpus.upsert({**SEED.get("0704.0002").to_dict(), "id": f"0705.{number:04d}"})
            corpus.remove(f"0705.{number:04d}")
        for thread in threads:
            thread.join()
        assert errors == []
        assert corpus.remove("hep-th/9901001").version == 3 and "hep-th/9901001" not in corpus
        assert search(server, "cat:hep-th") == []


def test_corpus_round_trip_and_validation(tmp_path: Path) -> None:
    target = tmp_path / "corpus.json"
    SEED.save(target)
    again = Corpus.load(target)
    assert again.to_dicts() == SEED.to_dicts() == json.loads(SHIPPED.read_text())["papers"]
    assert again.get("2406.10670v1") == SEED.get("2406.10670")
    with pytest.raises(CorpusError, match="id"):
        Corpus.from_dicts([{**SEED.get("0704.0002").to_dict(), "id": "abc"}])
    with pytest.raises(CorpusError, match="published"):
        Corpus.from_dicts([{**SEED.get("0704.0002").to_dict(), "published": "2007-04-02"}])
    target.write_text("[1, 2]")
    with pytest.raises(CorpusError):
        Corpus.load(target)


def test_seed_corpus_content() -> None:
    papers = SEED.papers()
    roles = [p.extras["role"] for p in papers]
    assert [roles.count(role) for role in ("profile", "namesake", "unrelated")] == [76, 4, 11]
    by_him = [p for p in papers if "Sham Kakade" in [a.name for a in p.authors]]
    assert len(by_him) == 76 and all(p.extras["role"] == "profile" for p in by_him)
    withdrawn = next(p for p in papers if p.title.startswith("Variance Reduction Methods"))
    assert withdrawn.version == 2
    assert withdrawn.comment == "This paper has been withdrawn by the author"
    assert all(p.updated >= p.published for p in papers)
    assert any(not a.name.isascii() for p in by_him for a in p.authors)


def test_seed_builder_is_deterministic_and_keeps_known_values(tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    script = REPO / "scripts" / "build_seed_corpus.py"
    subprocess.run([sys.executable, str(script), str(SEED_PAPERS), str(out)], check=True,
                   capture_output=True)  # fmt: skip
    assert out.read_bytes() == SHIPPED.read_bytes()
    for known in json.loads(SEED_PAPERS.read_text()):
        paper = next(p for p in SEED if p.title == known["title"])
        if known["authors"]:
            assert [a.name for a in paper.authors] == known["authors"]
        assert known["arxiv_id"] in (None, paper.arxiv_id)
        assert known["version"] in (None, paper.version)
        assert known["submitted"] in (None, paper.published.date().isoformat())
        assert known["categories"] in ([], list(paper.categories))


def test_clock_is_injected_and_legacy_midnight_is_eastern(srv: LookalikeServer) -> None:
    assert "<updated>2026-03-02T02:00:05Z</updated>" in get(srv, id_list="0704.0002").text
    srv.legacy = True
    assert "<updated>2026-03-01T00:00:00-04:00</updated>" in get(srv, id_list="0704.0002").text


def test_command_line_serves_until_interrupted() -> None:
    command = interruptible("arxiv_lookalike", "--port", "0")
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/query", url)
        try:
            response = requests.get(url, params={"id_list": "0704.0002"}, timeout=5)
            assert entry_ids(response.content) == ["0704.0002v1"]
            state = signal_state(process.pid)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=5) == 0, state
        finally:
            process.kill()  # a failure here fails the test; it does not hang it


def test_public_api() -> None:
    assert len(set(lookalike.__all__)) == len(lookalike.__all__)
    for name in lookalike.__all__:
        assert getattr(lookalike, name) is not None
