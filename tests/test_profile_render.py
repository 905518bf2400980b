"""The renderers are pure functions of a Profile: escaping, marking, charts, snippets.

Hostile text in every field: Markdown keeps it as text (no HTML, links or table cells of
its own), and what goes to a terminal (text, Markdown, the summary, ``harvest history``)
carries no control or bidi characters and no extra lines.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from harvester.profile import render, render_history, render_summary
from harvester.profile.render_html import year_chart
from harvester.profile.render_text import md
from harvester.profile.safe_text import terminal_line
from harvester.records import (
    CategoryCount,
    Coauthor,
    HistoryItem,
    PaperItem,
    Profile,
    SimilarAuthor,
    Stats,
    YearCount,
)

WHEN = datetime(2024, 3, 5, 17, 0, tzinfo=UTC)
NASTY = '<script>alert("x")</script> & Co: $\\|w\\|_2 < 1$ [sic] *bold* _it_'


def paper(arxiv_id: str, title: str, summary: str, *, withdrawn: bool = False) -> PaperItem:
    return PaperItem(
        arxiv_id, 2, title, summary, WHEN, WHEN, "cs.LG", ("cs.LG", "stat.ML"),
        "10.1000/x<y>", None, None, withdrawn, "A. Author",
    )  # fmt: skip


def profile(*papers: PaperItem) -> Profile:
    stats = Stats(len(papers), 1, WHEN, WHEN, WHEN, "ok", WHEN, 2, 3, 4, 1)
    similar = SimilarAuthor(
        NASTY, "nasty", 0.5, 2, 0.5, 0.5, 0.5, ("x<y",), ("cs.LG",), "2 shared papers; <b>"
    )
    years = (YearCount(2022, 2), YearCount(2023, 0), YearCount(2024, 4))
    return Profile("a", NASTY, stats, years, (), (), (similar,), papers)


class Collector(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


def test_html_escapes_everything_and_loads_nothing() -> None:
    page = parsed(render(profile(paper("2403.00001", NASTY, NASTY, withdrawn=True)), "html"))
    assert "script" not in {tag for tag, _ in page.tags}
    assert NASTY in "".join(page.text)  # shown as text, not markup
    assert "<b>" not in {tag for tag, _ in page.tags}
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        if tag == "link":
            assert attrs.get("rel") != "stylesheet"
        if tag == "a":
            assert attrs["href"] is not None and attrs["href"].startswith("https://")
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]


def test_withdrawn_papers_are_marked_in_every_format() -> None:
    p = profile(
        paper("2403.00001", "Gone", "text", withdrawn=True), paper("2403.00002", "Here", "x")
    )
    page = parsed(render(p, "html"))
    classes = [
        a.get("class") for t, a in page.tags if t == "li" and "paper" in (a.get("class") or "")
    ]
    assert classes == ["paper withdrawn", "paper"]
    assert "Withdrawn" in page.text
    assert "Gone [WITHDRAWN]\n" in render(p, "text")
    assert "[Gone](https://arxiv.org/abs/2403.00001) **withdrawn**" in render(p, "markdown")
    papers = json.loads(render(p, "json"))["papers"]
    assert [x["withdrawn"] for x in papers] == [True, False]


def test_markdown_escapes_markup_in_titles() -> None:
    markdown = render(profile(paper("2403.00001", NASTY, "s")), "markdown")
    assert r"\<script\>" in markdown and r"\[sic\] \*bold\* \_it\_" in markdown


def test_the_chart_has_a_bar_per_year_and_zero_years_too() -> None:
    chart = parsed(year_chart((YearCount(2022, 2), YearCount(2023, 0), YearCount(2024, 4))))
    bars = [a for t, a in chart.tags if t == "g"]
    assert [(b["data-year"], b["data-papers"]) for b in bars] == [
        ("2022", "2"), ("2023", "0"), ("2024", "4"),
    ]  # fmt: skip
    heights = [int(a["height"] or 0) for t, a in chart.tags if t == "rect"]
    assert heights == [65, 0, 130]


def test_snippets_are_cut_at_200_characters_like_the_seed() -> None:
    long = "word " * 60
    assert paper("1", "t", long).snippet == long[:200].rstrip() + "..."
    assert paper("1", "t", "short abstract").snippet == "short abstract"


def test_the_summary_keeps_the_demo_format() -> None:
    summary = render_summary(profile(paper("2403.00001", "T", "s")))
    assert summary.splitlines()[:4] == [
        f"{NASTY} · 1 paper on arXiv (1 withdrawn)",
        "  2022    2  ###############",
        "  2023    0",
        "  2024    4  ##############################",
    ]
    assert summary.endswith(f"Similar authors: {NASTY} (0.50)")


# -- hostile text: Markdown stays text, the terminal gets no controls -----------------------

ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"
CSI = "\u009b31m"
RLO = "\u202eevil\u202c\u2066x\u2069\u200e\u200f\u061c"
HOSTILE = f"Bad{ESC}{CSI}{RLO}\x00\x7f\rline\nSecond line\u2028third\x85end\tcut"
CATEGORY = "<script>alert(1)</script>|x|*y*_z_`w`[a](b)"
SHOWN = "Bad]0;pwned[2J[31m31mevilx line Second line third end cut"
"""``HOSTILE`` on a terminal: controls dropped, line breaks and tabs made spaces."""
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def hostile_profile() -> Profile:
    """Every text field of a profile hostile: names, titles, categories, reasons, keys."""
    stats = Stats(1, 1, WHEN, WHEN, WHEN, HOSTILE, WHEN, 2, 3, 4, 1)
    similar = SimilarAuthor(
        HOSTILE, "key" + ESC, 0.5, 2, 0.5, 0.5, 0.5, (HOSTILE,), (CATEGORY,), HOSTILE + CATEGORY
    )
    item = replace(
        paper("2403.00001", HOSTILE + CATEGORY, HOSTILE * 3, withdrawn=True),
        primary_category=CATEGORY, journal_ref=HOSTILE, doi=HOSTILE, matched_name=HOSTILE,
    )  # fmt: skip
    categories = (CategoryCount(CATEGORY, 1, 1), CategoryCount("cs.LG" + RLO, 1, 0))
    coauthors = (Coauthor(HOSTILE, 1, 2020, 2024),)
    return Profile("a", HOSTILE, stats, (YearCount(2024, 1),), categories, coauthors,
                   (similar,), (item,))  # fmt: skip


def clean_profile() -> Profile:
    """The same profile with harmless text of the same shape (an abstract's ``\\n`` is a
    paragraph break, shown as a line of its own: the clean abstract has as many)."""
    p = hostile_profile()
    paragraphs = "\n".join(["S"] * (p.papers[0].snippet.count("\n") + 1))
    return replace(
        p, name="Name", categories=(CategoryCount("cs.AI", 1, 1), CategoryCount("cs.LG", 1, 0)),
        coauthors=(Coauthor("Co Author", 1, 2020, 2024),),
        similar=(replace(p.similar[0], name="Sim", key="key", reason="why"),),
        papers=(replace(p.papers[0], title="T", summary=paragraphs, journal_ref="J", doi="D",
                        primary_category="cs.AI", matched_name="Name"),),
        stats=replace(p.stats, last_harvest_status="ok"),
    )  # fmt: skip


def assert_printable(output: str) -> None:
    """Only ``\\n`` of all control characters, and no bidi controls."""
    controls = {c for c in output if unicodedata.category(c) in ("Cc", "Zl", "Zp")} - {"\n"}
    assert controls == set() and BIDI.isdisjoint(output), controls | (BIDI & set(output))


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_terminal_renderings_carry_no_control_characters(fmt: str) -> None:
    output = render(hostile_profile(), fmt)
    assert_printable(output)
    assert output.count("\n") == render(clean_profile(), fmt).count("\n")  # no fake lines
    assert (SHOWN if fmt == "text" else md(SHOWN)) in output


def test_the_summary_carries_no_control_characters() -> None:
    summary = render_summary(hostile_profile())
    assert_printable(summary)
    assert summary.count("\n") == render_summary(clean_profile()).count("\n")


def test_history_carries_no_control_characters() -> None:
    items = [
        HistoryItem(WHEN, 1, 0, "count", None, HOSTILE, None),
        HistoryItem(WHEN, 1, 1, "new_paper", "2403.00001", "v1", HOSTILE),
        HistoryItem(WHEN, 1, 2, "metadata", "2403.00002", HOSTILE, "A" * 100),
    ]
    output = render_history(items)
    assert_printable(output)
    lines = output.splitlines()
    assert len(lines) == 3
    assert lines[0] == f"2024-03-05 17:00 UTC  {'count':<16}  {'':<16}  {SHOWN}"
    assert lines[1].endswith(f"v1  {SHOWN}")
    assert lines[2].endswith("A" * 67 + "...")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[31mb", "a[31mb"), ("a\u009b31mb", "a31mb"), ("a\u202eb\u202c", "ab"),
        ("a\nb\r\tc", "a b  c"), ("a\u2028b\u2029c\x85d", "a b c d"), ("plain · x", "plain · x"),
        ("\u200d\u00ad\u00a0", "\u200d\u00ad\u00a0"),  # joiners, soft hyphens, NBSP stay
    ],
)  # fmt: skip
def test_terminal_line(raw: str, shown: str) -> None:
    assert terminal_line(raw) == shown


def markdown_tags(markdown: str) -> list[str]:
    """The HTML tags a Markdown renderer would pass through: ``<`` not escaped."""
    return re.findall(r"(?<!\\)<(/?[A-Za-z][^>\s]*)", markdown)


def test_markdown_keeps_hostile_text_as_text() -> None:
    markdown = render(hostile_profile(), "markdown")
    assert set(markdown_tags(markdown)) == {"sub", "/sub"}
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert table[0] == "| category | papers | as primary |"
    unescaped_pipes = [len(re.findall(r"(?<!\\)\|", row)) for row in table]
    assert unescaped_pipes == [4, 4, 4, 4]
    assert table[2].startswith(r"| \<script\>alert(1)\</script\>\|x\|\*y\*\_z\_\`w\`\[a\](b) |")
    links = re.findall(r"(?<!\\)\]\(([^)]*)\)", markdown)
    assert links == ["https://arxiv.org/abs/2403.00001"]  # the only link: the paper's page


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<b>x</b>", r"\<b\>x\</b\>"), ("a|b", r"a\|b"), ("`code`", r"\`code\`"),
        ("[x](javascript:y)", r"\[x\](javascript:y)"), ("![i](u)", r"\!\[i\](u)"),
        ("&lt;", r"\&lt;"), ("~~s~~", r"\~\~s\~\~"), ("- item", r"\- item"),
        ("1. item", r"1\. item"), ("# h", r"\# h"), ("===", r"\==="), ("$x_1$", r"$x\_1$"),
        ("3-SAT", "3-SAT"), ("a\nb", "a b"), (" a\x1b ", "a"),
    ],
)  # fmt: skip
def test_md_escapes_markup(raw: str, escaped: str) -> None:
    assert md(raw) == escaped


def test_markdown_links_are_percent_encoded() -> None:
    item = paper("2403.00001) [x](javascript:alert(1)", "T", "S")
    markdown = render(profile(item), "markdown")
    assert "(https://arxiv.org/abs/2403.00001%29%20%5Bx%5D%28javascript:alert%281%29)" in markdown
