"""The source's own pieces: the vendor internals it relies on, the page parser, the breaker."""

from __future__ import annotations

import inspect

import arxiv
import pytest
from arxiv import _feed

from harvester.errors import HostileResponseError, IncompleteResponseError, QueryRejectedError
from harvester.source import CircuitBreaker
from harvester.source.feed import parse_page

HEAD = (
    b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'
    b' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
)


def test_the_arxiv_internals_we_use_still_exist() -> None:
    """arxiv 4.x private API the source relies on (pinned arxiv==4.0.2)."""
    client = arxiv.Client(num_retries=0)
    assert hasattr(client, "_session") and hasattr(client, "query_url_format")
    assert list(inspect.signature(client._format_url).parameters) == [
        "search",
        "start",
        "page_size",
    ]
    assert callable(_feed._build_result) and callable(_feed._text)
    assert callable(_feed._parse_datetime)  # the one-pass entry reader (source/feed.py)
    client._session.close()


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
