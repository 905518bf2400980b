"""The OAI-PMH client against the look-alike over real HTTP: whole windows, and each fault
of arXiv's service ending in complete data or a clean error."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from arxiv_lookalike import LookalikeServer, Raw, Status, Truncate, seed_corpus
from harvester.config import ArxivSettings
from harvester.errors import HostileResponseError, OaiProtocolError, ResponseTooLargeError
from harvester.source import ArxivSource, OaiClient, WindowReport
from harvester.source.oai import MAX_RESTARTS

from .support import TEST_ARXIV

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[LookalikeServer]:
    with LookalikeServer(seed_corpus(), clock=lambda: NOW) as srv:
        srv.oai.page_size = 10
        yield srv


def client(srv: LookalikeServer, **arxiv: object) -> OaiClient:
    settings = ArxivSettings(api_url=srv.url, **{**TEST_ARXIV, **arxiv})  # type: ignore[arg-type]
    return OaiClient(ArxivSource(settings), srv.oai_url)


def every_id(srv: LookalikeServer) -> list[str]:
    return sorted(p.arxiv_id for p in srv.corpus)


def test_a_whole_window_page_by_page(server: LookalikeServer) -> None:
    oai = client(server)
    report = WindowReport(None, None)
    ids = [r.arxiv_id for r in oai.list_records(report)]
    assert sorted(ids) == every_id(server)
    pages = -(-len(server.corpus) // 10)
    assert report.complete and report.pages == pages == oai.requests_sent
    assert report.newest == max(p.updated.date() for p in server.corpus)
    assert all(r.params.get("metadataPrefix", "arXivRaw") == "arXivRaw" for r in server.requests)


def test_a_set_and_a_from_date(server: LookalikeServer) -> None:
    report = WindowReport("stat", date(2024, 1, 1))
    ids = {r.arxiv_id for r in client(server).list_records(report)}
    want = {
        p.arxiv_id
        for p in server.corpus
        if p.updated.date() >= date(2024, 1, 1) and any(c.startswith("stat.") for c in p.categories)
    }
    assert ids == want and report.complete


def test_503_with_retry_after_is_obeyed(server: LookalikeServer) -> None:
    server.faults.add(Status(503, retry_after=1))
    oai = client(server)
    started = time.monotonic()
    ids = [r.arxiv_id for r in oai.list_records(WindowReport(None, None))]
    assert sorted(ids) == every_id(server)
    gaps = [b.time - a.time for a, b in zip(server.requests, server.requests[1:], strict=False)]
    assert gaps[0] >= 0.95 and time.monotonic() - started >= 1


def test_a_retry_after_past_the_cap_fails_cleanly(server: LookalikeServer) -> None:
    server.faults.add(Status(503, retry_after=3600))
    with pytest.raises(Exception) as caught:
        list(client(server).list_records(WindowReport(None, None)))
    assert "503" in str(caught.value)


def test_an_expired_token_restarts_the_window_and_nothing_is_handed_out_twice(
    server: LookalikeServer,
) -> None:
    report = WindowReport(None, None)
    ids = []
    for record in client(server).list_records(report):
        ids.append(record.arxiv_id)
        if len(ids) == 15:  # midway through the second page
            server.oai.expire_tokens()
    assert sorted(ids) == every_id(server)
    # pages 1 and 2 were read when the token to page 3 was refused: asked again, not handed out
    assert report.restarts == 1 and report.complete and report.repeated == 20


def test_tokens_that_keep_expiring_end_in_a_clean_error(server: LookalikeServer) -> None:
    report = WindowReport(None, None)
    with pytest.raises(OaiProtocolError) as caught:
        for _ in client(server).list_records(report):
            server.oai.expire_tokens()
    assert caught.value.code == "badResumptionToken"
    assert report.restarts == MAX_RESTARTS and not report.complete


def test_no_records_match_is_a_quiet_complete_day(server: LookalikeServer) -> None:
    report = WindowReport("cs", date(2040, 1, 1))
    assert list(client(server).list_records(report)) == []
    assert report.complete and report.pages == 1 and report.newest is None


def test_records_repeated_across_pages_are_handed_out_once(server: LookalikeServer) -> None:
    server.oai.repeat_records = True
    report = WindowReport(None, None)
    ids = [r.arxiv_id for r in client(server).list_records(report)]
    assert sorted(ids) == every_id(server)
    assert report.repeated == report.pages - 1 > 0


def test_a_from_before_the_earliest_datestamp_starts_at_the_earliest(
    server: LookalikeServer,
) -> None:
    report = WindowReport(None, date(1999, 1, 1))
    ids = [r.arxiv_id for r in client(server).list_records(report)]
    assert sorted(ids) == every_id(server)
    assert report.start == date(2005, 9, 16) and report.complete
    verbs = [r.params.get("verb") for r in server.requests[:3]]
    assert verbs == ["ListRecords", "Identify", "ListRecords"]


def test_another_bad_argument_is_a_clean_error(server: LookalikeServer) -> None:
    report = WindowReport(None, date(2024, 1, 1), until=date(2023, 1, 1))
    with pytest.raises(OaiProtocolError) as caught:
        list(client(server).list_records(report))
    assert caught.value.code == "badArgument" and caught.value.exit_code == 69


def test_transport_guards_hold_for_oai(server: LookalikeServer) -> None:
    server.faults.add(Truncate(keep_length=False))
    report = WindowReport(None, None)
    assert sorted(r.arxiv_id for r in client(server).list_records(report)) == every_id(server)
    server.faults.add(Raw(
        b'<?xml version="1.0"?>\n<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">&xxe;</OAI-PMH>'
    ))  # fmt: skip
    with pytest.raises(HostileResponseError):
        list(client(server).list_records(WindowReport(None, None)))
    big = (
        b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        + (b" " * 5000)
        + b"</OAI-PMH>"
    )
    server.faults.add(Raw(big))
    with pytest.raises(ResponseTooLargeError):
        list(client(server, max_response_bytes=1000).list_records(WindowReport(None, None)))


def test_get_record_and_an_unknown_id(server: LookalikeServer) -> None:
    oai = client(server)
    paper = next(iter(server.corpus))
    record = oai.get_record(paper.arxiv_id)
    assert record is not None and record.entry is not None
    assert record.entry.title == paper.title
    assert oai.get_record("0000.00000") is None
