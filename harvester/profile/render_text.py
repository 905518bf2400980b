"""Plain text and Markdown renderings of a profile, and the short summary the demo prints.

The text reads like the seed profile (``Academic Profile``, ``Statistics``, ``Similar
Authors``, ``Papers on arXiv``: a title line, then the start of the abstract), with the
sections filled in from the views.

What the database holds is data, not markup or terminal commands: every text line passes
through :func:`~harvester.profile.safe_text.terminal_line` (no control or bidi characters),
and every value that enters Markdown through :func:`md` (markup characters escaped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from urllib.parse import quote

from ..records import PaperItem, Profile, SimilarAuthor, YearCount
from .safe_text import terminal_line

BAR_WIDTH = 30
WITHDRAWN = "[WITHDRAWN]"
SUMMARY_SIMILAR = 3
CATEGORIES_SHOWN = 10
"""Text and HTML list the most frequent categories, then name the rest on one line."""


def render_text(profile: Profile) -> str:
    """The terminal rendering (``harvest profile KEY``), safe to print as it is."""
    return "\n".join(terminal_line(line) for line in _text_lines(profile)) + "\n"


def render_summary(profile: Profile) -> str:
    """``Sham Kakade · 76 papers on arXiv (1 withdrawn)``, papers per year, top similar."""
    head = f"{profile.name} · {profile.headline}"
    if profile.stats.withdrawn_count:
        head += f" ({profile.stats.withdrawn_count} withdrawn)"
    lines = [head, *year_bars(profile.years, indent="  ")]
    if profile.similar:
        top = profile.similar[:SUMMARY_SIMILAR]
        lines.append("Similar authors: " + ", ".join(f"{s.name} ({s.score:.2f})" for s in top))
    return "\n".join(terminal_line(line) for line in lines)


def year_bars(years: Sequence[YearCount], indent: str = "    ") -> list[str]:
    """``  2024   15  ###############``: one line per year, the longest bar 30 wide."""
    widest = max((y.papers for y in years), default=0) or 1
    return [
        f"{indent}{y.year}  {y.papers:3d}  {'#' * round(BAR_WIDTH * y.papers / widest)}".rstrip()
        for y in years
    ]


def _text_lines(p: Profile) -> Iterator[str]:
    yield p.name
    yield p.headline
    yield ""
    yield "Academic Profile"
    yield from (f"  {label:<22}{value}" for label, value in facts(p))
    yield ""
    yield "Statistics"
    yield "  Papers per year (by first version)"
    yield from year_bars(p.years)
    yield "  Categories (papers, of which as primary)"
    wide = max((len(c.category) for c in p.categories), default=0)
    for c in p.categories[:CATEGORIES_SHOWN]:
        yield f"    {c.category:<{wide}}  {c.papers:3d}  {c.as_primary:3d}"
    if rest := p.categories[CATEGORIES_SHOWN:]:
        yield f"    and {len(rest)} more: {' '.join(c.category for c in rest)}"
    yield "  Frequent co-authors (shared papers, years)"
    for co in p.coauthors:
        yield f"    {co.name:<28} {co.shared_papers:3d}  {_years(co.first_year, co.last_year)}"
    yield ""
    yield "Similar Authors"
    if not p.similar:
        yield "  (none yet: computed after each harvest)"
    for i, s in enumerate(p.similar, 1):
        yield f"  {i:2d}. {s.name}{_tracked(s)}  score {s.score:.2f}"
        yield f"      {s.reason}"
    yield ""
    yield "Papers on arXiv"
    for paper in p.papers:
        yield paper.title + (f" {WITHDRAWN}" if paper.withdrawn else "")
        yield from paper.snippet.split("\n")
        yield f"  {paper_line(paper)}"


def facts(p: Profile) -> list[tuple[str, str]]:
    """The ``Academic Profile`` section as (label, value) pairs, shared with Markdown."""
    s = p.stats
    papers = f"{s.paper_count}" + (f" ({s.withdrawn_count} withdrawn)" if s.withdrawn_count else "")
    harvest = "never"
    if s.last_harvest_at is not None:
        harvest = f"{_minute(s.last_harvest_at)} ({s.last_harvest_status})"
    return [
        ("Written on arXiv as", ", ".join(p.spellings) or p.name),
        ("Papers", papers),
        ("Versions in total", str(s.version_count)),
        ("First paper", _day(s.first_published)),
        ("Latest paper", _day(s.latest_published)),
        ("Last 12 months", f"{s.papers_last_12_months} papers"),
        ("Journal ref or DOI", f"{s.journal_ref_or_doi_count} papers"),
        ("Co-authors", f"{s.coauthor_count} distinct"),
        ("Last harvest", harvest),
    ]


def paper_line(paper: PaperItem) -> str:
    """``https://arxiv.org/abs/2407.07972 · v1 · 2024-07-10 · cs.LG``, plus what is known."""
    parts = [paper.url, f"v{paper.version}", _day(paper.published), paper.primary_category]
    if paper.journal_ref:
        parts.append(paper.journal_ref)
    if paper.doi:
        parts.append(f"doi:{paper.doi}")
    return " · ".join(parts)


def render_markdown(profile: Profile) -> str:
    """Markdown (GitHub flavour) in which the profile's text is only ever text: values are
    escaped by :func:`md`, links point at percent-encoded arXiv URLs."""
    return "\n".join(terminal_line(line) for line in _markdown_lines(profile)) + "\n"


def _markdown_lines(p: Profile) -> Iterator[str]:
    yield f"# {md(p.name)}"
    yield ""
    yield f"**{p.headline}**"
    yield ""
    yield "## Academic Profile"
    yield ""
    yield from (f"- **{label}:** {md(value)}" for label, value in facts(p))
    yield ""
    yield "## Statistics"
    yield ""
    yield "Papers per year (by first version):"
    yield ""
    yield "```text"
    yield from year_bars(p.years, indent="")
    yield "```"
    yield ""
    yield "| category | papers | as primary |"
    yield "| --- | ---: | ---: |"
    yield from (f"| {md(c.category)} | {c.papers} | {c.as_primary} |" for c in p.categories)
    yield ""
    yield "## Similar Authors"
    yield ""
    for i, s in enumerate(p.similar, 1):
        tracked = md(_tracked(s))
        yield f"{i}. **{md(s.name)}**{tracked}, score {s.score:.2f}: {md(s.reason)}"
    yield ""
    yield "## Papers on arXiv"
    yield ""
    for paper in p.papers:
        mark = " **withdrawn**" if paper.withdrawn else ""
        yield f"- [{md(paper.title)}]({md_url(paper.url)}){mark}  "
        yield from (f"  {md(part)}  " for part in paper.snippet.split("\n"))
        yield f"  <sub>{md(paper_line(paper))}</sub>"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~&])")
_BLOCK_MARKER = re.compile(r"^(\d+(?=[.)])|(?=[-+=]))(.)")
"""What at the start of a line opens a list item or underlines a heading."""


def md(value: str) -> str:
    """``value`` as Markdown text that is only text, on one line.

    Markup characters are backslash-escaped (backslash, backtick, ``* _ { } [ ] < > # | !
    ~ &``), so the data makes no emphasis, code, link, image, HTML tag, entity or table
    cell; control characters go (:func:`terminal_line`); a leading list or heading marker
    (``-``, ``+``, ``=``, ``1.``) is escaped. ``$`` is left alone: arXiv titles carry math
    on purpose."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", terminal_line(value).strip())
    return _BLOCK_MARKER.sub(r"\1\\\2", text)


def md_url(url: str) -> str:
    """``url`` as a Markdown link destination: anything but unreserved characters and
    ``:/`` percent-encoded, so no space, parenthesis or angle bracket can end it early."""
    return quote(terminal_line(url), safe=":/")


def _tracked(s: SimilarAuthor) -> str:
    return f" [{s.key}]" if s.key else ""


def _years(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def _minute(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")
