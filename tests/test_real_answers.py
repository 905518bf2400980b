"""Real arXiv API answers (``tests/data/real``) through the parser and the normaliser.

The expectations are read from the XML with lxml, independently of the project's parser,
and a few facts of these answers are pinned by hand: how many entries, which abstracts
have paragraphs and how many breaks each. In both formats a paragraph starts after a line
break followed by white space (two spaces, in every real answer seen); the legacy format
also hard-wraps every abstract with bare line breaks, which must disappear.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from lxml import etree

from harvester.changes import meta_of
from harvester.normalise import clean_text, diff_metadata, normalise_entry
from harvester.profile import render
from harvester.records import Paper, PaperItem, Profile, RawEntry, Stats
from harvester.source.feed import ParsedEntry, parse_page

REAL = Path(__file__).parent / "data" / "real"
CURRENT = ("current_search_testing_start0.xml", "current_search_testing_start40.xml")
LEGACY = ("legacy_search_au_del_maestro.xml",)
TOTALS = {CURRENT[0]: 214881, CURRENT[1]: 214881, LEGACY[0]: 31}
BREAKS = {"1812.11470": 3, "2505.05162": 1, "2007.09895": 1}
"""Every abstract with paragraphs in these answers, and its number of paragraph breaks."""

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
ID = re.compile(r"http://arxiv\.org/abs/(?P<id>.+)v(?P<version>[0-9]+)")
BREAK = "\n  "
"""A paragraph break in the raw abstract, as both formats write it."""


@dataclasses.dataclass(frozen=True)
class Expected:
    """One ``<entry>`` as the XML says, read with lxml alone."""

    arxiv_id: str
    version: int
    title: str
    summary: str
    authors: tuple[str, ...]
    primary: str
    categories: tuple[str, ...]


def expected(name: str) -> list[Expected]:
    root = etree.fromstring((REAL / name).read_bytes())
    entries = []
    for e in root.findall(f"{ATOM}entry"):
        match = ID.fullmatch(e.findtext(f"{ATOM}id"))
        assert match is not None
        primary = e.find(f"{ARXIV}primary_category").get("term")
        terms = [c.get("term") for c in e.findall(f"{ATOM}category")]
        entries.append(
            Expected(
                arxiv_id=match["id"],
                version=int(match["version"]),
                title=e.findtext(f"{ATOM}title"),
                summary=e.findtext(f"{ATOM}summary"),
                authors=tuple(a.findtext(f"{ATOM}name") for a in e.findall(f"{ATOM}author")),
                primary=primary,
                categories=tuple(dict.fromkeys([primary, *terms])),
            )
        )
    return entries


def raw_entries(name: str) -> list[RawEntry]:
    """The answer through the project's parser, every entry readable."""
    page = parse_page((REAL / name).read_bytes(), f"https://export.arxiv.org/api/query#{name}")
    assert page.total_results == TOTALS[name]
    assert [e.problem for e in page.entries] == [None] * len(page.entries)
    return [_raw(e) for e in page.entries]


def papers(name: str) -> list[Paper]:
    return [normalise_entry(raw) for raw in raw_entries(name)]


ALL = CURRENT + LEGACY


@pytest.mark.parametrize("name", ALL)
def test_every_entry_is_accepted_as_the_xml_says(name: str) -> None:
    want = expected(name)
    got = papers(name)
    assert len(got) == len(want) == 10
    for paper, xml in zip(got, want, strict=True):
        assert (paper.arxiv_id, paper.version) == (xml.arxiv_id, xml.version)
        assert paper.title == clean_text(xml.title)
        assert paper.authors and [a.name for a in paper.authors] == list(xml.authors)
        assert paper.primary_category == xml.primary
        assert paper.categories == xml.categories


def test_names_arrive_as_unicode() -> None:
    names = {a.name for p in papers(CURRENT[1]) for a in p.authors}
    assert {"Mika V. Mäntylä", "Päivi Raulamo-jurvanen", "Lasse Møldrup"} <= names
    assert "Jean-Marc Azaïs" in names


@pytest.mark.parametrize("name", CURRENT)
def test_current_format_paragraph_breaks_are_kept_where_arxiv_put_them(name: str) -> None:
    for paper, xml in zip(papers(name), expected(name), strict=True):
        assert "\n" not in xml.summary.replace(BREAK, "")  # one line per paragraph
        assert xml.summary.count(BREAK) == BREAKS.get(paper.arxiv_id, 0)
        assert paper.summary.split("\n") == [clean_text(p) for p in xml.summary.split(BREAK)]


def test_the_real_answers_hold_the_expected_paragraphs() -> None:
    found = {
        p.arxiv_id: p.summary.count("\n") for name in ALL for p in papers(name) if "\n" in p.summary
    }
    assert found == BREAKS
    conclusion = papers(CURRENT[0])[-1].summary.split("\n")[-1]
    assert conclusion.startswith("Conclusion. For effectiveness, we observe")


def test_legacy_hard_wraps_are_collapsed() -> None:
    wrapped = 0
    for paper, xml in zip(papers(LEGACY[0]), expected(LEGACY[0]), strict=True):
        assert xml.summary.startswith("  ") and xml.summary.endswith("\n")
        assert BREAK not in xml.summary.rstrip("\n")  # no paragraphs in this answer
        wrapped += xml.summary.count("\n")
        assert paper.summary == clean_text(xml.summary)
        assert "\n" not in paper.summary
    assert wrapped == 131


@pytest.mark.parametrize("name", ALL)
def test_no_metadata_event_against_summaries_stored_on_one_line(name: str) -> None:
    """Before paragraphs were kept, a summary was stored as ``clean_text`` made it."""
    for paper, raw in zip(papers(name), raw_entries(name), strict=True):
        before = dataclasses.replace(paper, summary=clean_text(raw.summary))
        assert diff_metadata(meta_of(before), meta_of(paper)) == []


# --- rendering ------------------------------------------------------------------------

WHEN = datetime(2026, 4, 12, tzinfo=UTC)


def item(paper: Paper) -> PaperItem:
    return PaperItem(
        paper.arxiv_id, paper.version, paper.title, paper.summary, paper.published,
        paper.updated, paper.primary_category, paper.categories, paper.doi,
        paper.journal_ref, paper.comment, paper.withdrawn, None,
    )  # fmt: skip


def snippets(*items: PaperItem) -> list[str]:
    """The text of every ``<p class=snippet>`` of the HTML page of ``items``."""
    stats = Stats(len(items), 0, WHEN, WHEN, WHEN, "ok", WHEN, 0, 0, 0, 0)
    html = render(Profile("a", "A. Author", stats, (), (), (), (), items), "html")
    texts: list[str] = []

    class Snippets(HTMLParser):
        inside = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.inside = tag == "p" and ("class", "snippet") in attrs
            if self.inside:
                texts.append("")

        def handle_endtag(self, tag: str) -> None:
            self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside:
                texts[-1] += data

    Snippets().feed(html)
    return texts


def test_html_shows_each_paragraph_of_the_snippet_as_its_own_p() -> None:
    real = item(papers(CURRENT[0])[-1])  # 1812.11470: 4 paragraphs
    shown = dataclasses.replace(real, summary="Objective. <b>x</b> & y.\nResults. Z.")
    assert snippets(shown) == ["Objective. <b>x</b> & y.", "Results. Z."]
    # The real first paragraph is longer than the snippet: one <p>, cut with "...".
    assert snippets(real) == [real.snippet]
    assert "\n" not in real.snippet and real.snippet.endswith("...")


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_the_look_alike_writes_paragraphs_the_way_arxiv_does(legacy: bool) -> None:
    """A two-paragraph abstract served by the look-alike, in either format, comes back
    from the harvester's parser and normaliser as the same two paragraphs."""
    from arxiv_lookalike import Corpus, LookalikeServer, seed_corpus

    corpus = Corpus.from_dicts(seed_corpus().to_dicts())
    template = next(iter(corpus))
    first = "We study a problem. " * 8
    second = "A second paragraph follows, long enough to be wrapped in the legacy format. " * 3
    corpus.upsert(dataclasses.replace(template, summary=f"{first.strip()}\n{second.strip()}"))
    with LookalikeServer(corpus, legacy=legacy) as server:
        import requests

        url = server.url
        body = requests.get(url, params={"id_list": template.arxiv_id}, timeout=10).content
    [entry] = parse_page(body, url).entries
    assert entry.result is not None
    summary = normalise_entry(_raw(entry)).summary
    assert summary.split("\n") == [first.strip(), second.strip()]


def _raw(entry: ParsedEntry) -> RawEntry:
    raw = entry.raw()
    assert raw is not None, entry.problem
    return raw
