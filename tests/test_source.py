"""The source's own pieces: the vendor internals it relies on, the page parser, the breaker."""

from __future__ import annotations

import arxiv
import pytest

from harvester.errors import HostileResponseError, IncompleteResponseError, QueryRejectedError
from harvester.source import CircuitBreaker
from harvester.source.api import page_url
from harvester.source.feed import parse_page

HEAD = (
    b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'
    b' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
)


def test_a_page_request_carries_what_the_arxiv_package_sends() -> None:
    """The parameters, their order and encoding of an ``arxiv.Client`` page request
    (arxiv 4.0.2), built from the public attributes of ``arxiv.Search``."""
    search = arxiv.Search(
        query='(au:"Sham Kakade" OR au:"Sham M. Kakade")',
        sort_by=arxiv.SortCriterion.LastUpdatedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    assert page_url("https://export.arxiv.org/api/query", search, 200, 100) == (
        "https://export.arxiv.org/api/query?search_query=%28au%3A%22Sham+Kakade%22+OR+"
        "au%3A%22Sham+M.+Kakade%22%29&id_list=&sortBy=lastUpdatedDate&sortOrder=descending"
        "&start=200&max_results=100"
    )
    by_id = arxiv.Search(id_list=["2409.11321", "hep-th/9901001v2"])
    assert page_url("http://h/q", by_id, 0, 10) == (
        "http://h/q?search_query=&id_list=2409.11321%2Chep-th%2F9901001v2"
        "&sortBy=relevance&sortOrder=descending&start=0&max_results=10"
    )


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"<html><body>down</body></html>", IncompleteResponseError, "not an Atom feed"),
        (HEAD + b"<entry>", IncompleteResponseError, "not well-formed XML"),
        (HEAD + b"</feed>", IncompleteResponseError, "no valid opensearch:totalResults"),
        (
            HEAD + b"<opensearch:totalResults>-1</opensearch:totalResults></feed>",
            IncompleteResponseError,
            "(-1)",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x "y">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom">&x;</feed>',
            HostileResponseError,
            "DOCTYPE",
        ),
        (
            HEAD + b"<opensearch:totalResults>1</opensearch:totalResults><entry>"
            b"<id>http://arxiv.org/api/errors#start_must_be_non-negative</id>"
            b"<summary>start must be non-negative</summary></entry></feed>",
            QueryRejectedError,
            "arXiv rejected the query: start must be non-negative",
        ),
    ],
)
def test_what_is_not_a_usable_page(body: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_page(body, "http://test/")


def test_each_entry_is_read_on_its_own() -> None:
    entry = (
        b"<entry><id>http://arxiv.org/abs/2401.0000%dv1</id><title>T</title>"
        b"<updated>2024-01-02T00:00:00Z</updated><published>%s</published></entry>"
    )
    body = (
        HEAD
        + b"<opensearch:totalResults>3</opensearch:totalResults>"
        + entry % (1, b"2024-01-01T00:00:00Z")
        + entry % (2, b"2024-13-45T25:61:00Z")
        + b"<entry><title>no id</title></entry></feed>"
    )
    page = parse_page(body, "http://test/")
    assert page.total_results == 3
    good, bad_date, no_id = page.entries
    assert good.result is not None and good.problem is None
    assert bad_date.entry_id == "http://arxiv.org/abs/2401.00002v1"
    assert bad_date.problem is not None and bad_date.problem.startswith("unreadable date")
    assert no_id.entry_id == "<entry 3 without an id>" and no_id.result is None


def test_the_breaker_opens_after_n_failures_in_a_row() -> None:
    breaker = CircuitBreaker(3)
    for failed in (True, True, False, True, True):
        breaker.record(failed=failed)
    assert (breaker.failures, breaker.open) == (2, False)
    breaker.record(failed=True)
    assert (breaker.failures, breaker.open) == (3, True)
    breaker.reset()
    assert not breaker.open
    with pytest.raises(ValueError):
        CircuitBreaker(0)
