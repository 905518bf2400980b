"""The renderers are pure functions of a Profile: escaping, marking, charts, snippets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

from harvester.profile import render, render_summary
from harvester.profile.render_html import year_chart
from harvester.records import (
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
