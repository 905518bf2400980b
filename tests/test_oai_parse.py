"""arXiv's OAI-PMH answers parsed field by field: real recorded answers (tests/data/oai,
with their sources), the raw author strings as submitters write them, and the look-alike's
2025-shape answers of the same corpus as its search API."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import requests

from arxiv_lookalike import LookalikeServer, seed_corpus
from harvester.errors import HostileResponseError, IncompleteResponseError, OaiProtocolError
from harvester.records import Author, PaperVersion
from harvester.source.oaipage import parse_identify, parse_list
from harvester.source.rawauthors import decode_tex, parse_raw_authors

from .support import REPO

DATA = REPO / "tests" / "data" / "oai"
URL = "http://export.arxiv.org/oai2"


def real(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_real_list_records_arxivraw_2015_field_by_field() -> None:
    page = parse_list(real("listrecords_arxivraw_2015.xml"), URL)
    assert page.problems == ()
    assert [r.arxiv_id for r in page.records] == [
        "0704.0471", "0704.0716", "0704.0874", "0704.1109", "0704.1114", "0704.1586",
    ]  # fmt: skip
    assert page.token == "726959|1001" and page.complete_size == 58011
    first = page.records[0]
    assert first.datestamp == date(2014, 11, 18)
    assert first.sets == ("physics:nucl-ex", "physics:nucl-th")
    assert first.submitter == "Dinesh Shetty"
    assert first.versions == (PaperVersion(1, datetime(2007, 4, 3, 22, 4, 11, tzinfo=UTC), 294),)
    assert first.dois == ("10.1103/PhysRevC.76.024606", "10.1103/PhysRevC.76.039902")
    assert first.license is None
    entry = first.entry
    assert entry is not None
    assert entry.entry_id == "http://arxiv.org/abs/0704.0471v1"
    assert [a.name for a in entry.authors] == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert entry.categories == ("nucl-ex", "nucl-th") and entry.primary_category == "nucl-ex"
    assert entry.comment == "16 pages, 14 figures"
    assert entry.journal_ref == "Phys.Rev.C76:024606,2007; Erratum-ibid.C76:039902,2007"
    assert entry.title.startswith("Density dependence of the symmetry energy")
    assert '" stiff "' in entry.summary


def test_real_version_history_keeps_every_date_and_size() -> None:
    page = parse_list(real("listrecords_arxivraw_2015.xml"), URL)
    richard = page.records[1]
    assert [(v.version, v.submitted.date(), v.size_kb) for v in richard.versions] == [
        (1, date(2007, 4, 5), 43),
        (2, date(2007, 9, 28), 48),
        (3, date(2008, 2, 29), 48),
        (4, date(2008, 11, 14), 49),
    ]
    assert richard.entry is not None
    assert richard.entry.entry_id.endswith("0704.0716v4")
    assert richard.entry.published == datetime(2007, 4, 5, 12, 45, 3, tzinfo=UTC)
    assert richard.entry.updated == datetime(2008, 11, 14, 9, 7, 25, tzinfo=UTC)
    assert richard.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert richard.sets == ("math", "physics:math-ph")


def test_real_get_record_and_its_four_authors() -> None:
    page = parse_list(real("getrecord_arxivraw_2015.xml"), URL, "GetRecord")
    (record,) = page.records
    assert page.token is None
    assert record.arxiv_id == "1302.2146" and record.submitter == "Michael Saelim"
    assert [v.size_kb for v in record.versions] == [853, 849]
    assert record.entry is not None
    assert [a.name for a in record.entry.authors] == [
        "Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo",
    ]  # fmt: skip


def test_real_arxiv_format_2013() -> None:
    (record,) = parse_list(real("listrecords_arxiv_2013.xml"), URL).records
    assert record.versions == ()
    assert record.entry is not None
    assert record.entry.authors == (Author("T. Manos"), Author("E. Athanassoula"))
    assert record.entry.published == datetime(2008, 1, 25, tzinfo=UTC)
    assert record.entry.doi == "10.1007/978-3-540-75826-6_11"
    assert record.entry.journal_ref is not None and "Chaos in Astronomy" in record.entry.journal_ref


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("error_bad_resumption_token_2015.xml", "badResumptionToken"),
        ("error_bad_argument_2015.xml", "badArgument"),
    ],
)
def test_real_errors_carry_their_code(name: str, code: str) -> None:
    with pytest.raises(OaiProtocolError) as caught:
        parse_list(real(name), URL)
    assert caught.value.code == code


def test_real_no_records_match_is_an_empty_final_page() -> None:
    page = parse_list(real("error_no_records_match_2015.xml"), URL)
    assert page.records == () and page.token is None


def test_hostile_and_broken_answers_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"/>'
    with pytest.raises(HostileResponseError):
        parse_list(bomb, URL)
    with pytest.raises(IncompleteResponseError):
        parse_list(real("listrecords_arxivraw_2015.xml")[:-200], URL)
    with pytest.raises(IncompleteResponseError):
        parse_list(b"<feed xmlns='http://www.w3.org/2005/Atom'/>", URL)


def test_an_unreadable_record_is_reported_not_fatal() -> None:
    body = real("listrecords_arxivraw_2015.xml").replace(
        b'<version version="v1"><date>Tue, 3 Apr 2007',
        b'<version version="x1"><date>Tue, 3 Apr 2007',
    )
    page = parse_list(body, URL)
    assert len(page.records) == 5
    assert page.problems == ("oai:arXiv.org:0704.0471: version 'x1'",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("A. B, C. D and E. F", [("A. B", ()), ("C. D", ()), ("E. F", ())]),
        ("A, B, and C", [("A", ()), ("B", ()), ("C", ())]),
        ("Ana Mendez (MIT, Cambridge) and Bo Chen (ETH)",
         [("Ana Mendez", ("MIT, Cambridge",)), ("Bo Chen", ("ETH",))]),
        ("A. Bal\\'azs (1), J. \\v{S}r\\'amek (1 and 2), K. {\\O}bro (2)"
         " ((1) MIT, (2) ETH Z\\\"urich)",
         [("A. Balázs", ("MIT",)), ("J. Šrámek", ("MIT", "ETH Zürich")),
          ("K. Øbro", ("ETH Zürich",))]),
        ("Joan\n  Anderson and Sandy Andrews", [("Joan Anderson", ()), ("Sandy Andrews", ())]),
        ("The ATLAS Collaboration: G. Aad, B. Abbott, et al",
         [("The ATLAS Collaboration", ()), ("G. Aad", ()), ("B. Abbott", ())]),
        ("G. Aad et al.", [("G. Aad", ())]),
        ("Zo\\\"e Lef\\`evre and Ji\\v{r}\\'i Dvo\\v{r}\\'ak",
         [("Zoë Lefèvre", ()), ("Jiří Dvořák", ())]),
        ("M.~Smith; J\\\"urgen Wei\\ss{}", [("M. Smith", ()), ("Jürgen Weiß", ())]),
    ],
)  # fmt: skip
def test_raw_author_strings(raw: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    assert [(a.name, a.affiliations) for a in parse_raw_authors(raw)] == expected


def test_tex_decoding_keeps_plain_text() -> None:
    assert decode_tex("Plain  Name") == "Plain Name"
    assert decode_tex("{\\L}ukasz Kaiser") == "Łukasz Kaiser"


def test_lookalike_2025_shape_parses_back_to_the_corpus() -> None:
    """Every seed paper written as arXivRaw by the look-alike reads back with the names,
    affiliations, categories and dates the search API gives."""
    corpus = seed_corpus()
    with LookalikeServer(corpus) as srv:
        srv.oai.page_size = 1000
        params = {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}
        body = requests.get(srv.oai_url, params=params, timeout=10).content
        identity = parse_identify(
            requests.get(srv.oai_url, params={"verb": "Identify"}, timeout=10).content, srv.oai_url
        )
    assert identity.earliest == date(2005, 9, 16) and identity.granularity == "YYYY-MM-DD"
    page = parse_list(body, "http://127.0.0.1/oai")
    assert page.token is None and page.problems == ()
    by_id = {r.arxiv_id: r for r in page.records}
    assert set(by_id) == {p.arxiv_id for p in corpus}
    for paper in corpus:
        record = by_id[paper.arxiv_id]
        entry = record.entry
        assert entry is not None
        assert [(a.name, a.affiliations) for a in entry.authors] == [
            (a.name, a.affiliations) for a in paper.authors
        ], paper.arxiv_id
        assert entry.categories == paper.categories
        assert record.versions[0].submitted == paper.published
        assert record.versions[-1].submitted == paper.updated
        assert len(record.versions) == paper.version
        assert all(":" in spec for spec in record.sets)


def test_a_withdrawal_shows_in_the_comment_or_an_empty_last_version() -> None:
    from dataclasses import replace

    from harvester.cycle.oai import paper_of

    (record,) = parse_list(real("getrecord_arxivraw_2015.xml"), URL, "GetRecord").records
    paper = paper_of(record)
    assert paper is not None and not paper.withdrawn and len(paper.history) == 2
    emptied = (record.versions[0], replace(record.versions[1], size_kb=0))
    assert paper_of(replace(record, versions=emptied)).withdrawn  # type: ignore[union-attr]
    assert record.entry is not None
    said = replace(record, entry=replace(record.entry, comment="This paper has been withdrawn"))
    assert paper_of(said).withdrawn  # type: ignore[union-attr]
    assert paper_of(replace(record, deleted=True)) is None
