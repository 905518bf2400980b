"""The look-alike's OAI-PMH endpoint: verbs, formats, sets, windows, tokens and faults,
over real HTTP, from the same corpus as its search API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from arxiv_lookalike import LookalikeServer, Status, seed_corpus
from harvester.errors import OaiProtocolError
from harvester.source.oaipage import parse_list

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[LookalikeServer]:
    moments = {"now": NOW}
    with LookalikeServer(seed_corpus(), clock=lambda: moments["now"]) as srv:
        srv.oai.page_size = 10
        srv.moments = moments  # type: ignore[attr-defined]
        yield srv


def ask(srv: LookalikeServer, **params: str) -> requests.Response:
    return requests.get(srv.oai_url, params=params, timeout=10)


def records(srv: LookalikeServer, **params: str) -> list[str]:
    """Every identifier of a ListRecords, page by page through the tokens."""
    ids: list[str] = []
    answer = ask(srv, verb="ListRecords", **params)
    while True:
        page = parse_list(answer.content, srv.oai_url)
        ids += [r.arxiv_id for r in page.records]
        if page.token is None:
            return ids
        answer = ask(srv, verb="ListRecords", resumptionToken=page.token)


def test_identify_sets_and_formats(server: LookalikeServer) -> None:
    identify = ask(server, verb="Identify").text
    assert "<earliestDatestamp>2005-09-16</earliestDatestamp>" in identify
    assert "<granularity>YYYY-MM-DD</granularity>" in identify
    sets = ask(server, verb="ListSets").text
    assert "<setSpec>cs</setSpec>" in sets and "<setSpec>cs:cs:LG</setSpec>" in sets
    formats = ask(server, verb="ListMetadataFormats").text
    assert "arXivRaw" in formats and "<metadataPrefix>arXiv</metadataPrefix>" in formats


def test_list_records_pages_through_the_whole_corpus_in_datestamp_order(
    server: LookalikeServer,
) -> None:
    ids = records(server, metadataPrefix="arXivRaw")
    assert sorted(ids) == sorted(p.arxiv_id for p in server.corpus)
    assert len(server.requests) == -(-len(server.corpus) // 10)
    stamps = []
    for answer in [ask(server, verb="ListRecords", metadataPrefix="arXiv")]:
        page = parse_list(answer.content, server.oai_url)
        stamps = [r.datestamp for r in page.records]
    assert stamps == sorted(stamps)


def test_sets_and_windows_select(server: LookalikeServer) -> None:
    in_cs = records(server, metadataPrefix="arXivRaw", set="cs")
    assert in_cs and all(
        any(c.startswith("cs.") for c in server.corpus.get(i).categories)  # type: ignore[union-attr]
        for i in in_cs
    )
    recent = records(server, metadataPrefix="arXivRaw", **{"from": "2025-01-01"})
    assert recent and all(server.corpus.get(i).updated.year >= 2025 for i in recent)  # type: ignore[union-attr]
    window = records(
        server, metadataPrefix="arXivRaw", **{"from": "2024-01-01", "until": "2024-12-31"}
    )
    assert window and all(server.corpus.get(i).updated.year == 2024 for i in window)  # type: ignore[union-attr]


def test_get_record_in_both_formats(server: LookalikeServer) -> None:
    paper = next(iter(server.corpus))
    for prefix in ("arXivRaw", "arXiv"):
        answer = ask(server, verb="GetRecord", metadataPrefix=prefix,
                     identifier=f"oai:arXiv.org:{paper.arxiv_id}")  # fmt: skip
        (record,) = parse_list(answer.content, server.oai_url, "GetRecord").records
        assert record.entry is not None and record.entry.title == paper.title
    missing = ask(
        server, verb="GetRecord", metadataPrefix="arXivRaw", identifier="oai:arXiv.org:0000.0000"
    )
    assert 'code="idDoesNotExist"' in missing.text


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2001-01-01"},
            "badArgument",
        ),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc"}, "cannotDisseminateFormat"),
        (
            {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2040-01-01"},
            "noRecordsMatch",
        ),
        ({"verb": "ListRecords", "resumptionToken": "nonsense"}, "badResumptionToken"),
        ({"verb": "Dance"}, "badVerb"),
    ],
)
def test_errors_are_http_200_with_a_code(
    server: LookalikeServer, params: dict[str, str], code: str
) -> None:
    answer = ask(server, **params)
    assert answer.status_code == 200 and f'code="{code}"' in answer.text


def test_tokens_expire_at_midnight_utc_and_on_demand(server: LookalikeServer) -> None:
    first = parse_list(ask(server, verb="ListRecords", metadataPrefix="arXivRaw").content, "x")
    assert first.token is not None
    server.moments["now"] = NOW + timedelta(hours=12)  # type: ignore[attr-defined]
    with pytest.raises(OaiProtocolError) as caught:
        parse_list(ask(server, verb="ListRecords", resumptionToken=first.token).content, "x")
    assert caught.value.code == "badResumptionToken"
    fresh = parse_list(ask(server, verb="ListRecords", metadataPrefix="arXivRaw").content, "x")
    server.oai.expire_tokens()
    assert (
        'code="badResumptionToken"'
        in ask(server, verb="ListRecords", resumptionToken=fresh.token or "").text
    )


def test_repeated_records_and_the_2015_shape(server: LookalikeServer) -> None:
    server.oai.repeat_records = True
    ids = records(server, metadataPrefix="arXivRaw")
    assert len(ids) > len(set(ids)) == len(server.corpus)
    server.oai.repeat_records = False
    server.oai.shape = "2015"
    text = ask(server, verb="ListRecords", metadataPrefix="arXivRaw", set="cs").text
    assert "<setSpec>cs</setSpec>" in text and 'completeListSize="' in text
    assert records(server, metadataPrefix="arXivRaw", set="cs")


def test_scripted_503_with_retry_after(server: LookalikeServer) -> None:
    server.faults.add(Status(503, retry_after=7))
    answer = ask(server, verb="ListRecords", metadataPrefix="arXivRaw")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "7"
    assert ask(server, verb="ListRecords", metadataPrefix="arXivRaw").status_code == 200
