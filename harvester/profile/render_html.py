"""HTML renderings: a profile page and the index of all profiles.

Pages are self-contained: inline CSS, the papers-per-year chart as inline SVG, no
JavaScript, no fonts, images or scripts from the network (a Content-Security-Policy says
so, and the browser test checks it). Links to arXiv are ordinary links. Every piece of
text from the database goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from ..records import IndexRow, PaperItem, Profile, SimilarAuthor, YearCount
from .render_text import CATEGORIES_SHOWN, facts

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:0 auto;max-width:56rem;padding:1rem 1.5rem;color:#1f2328;background:#fff}
a{color:#0b57d0}
h1{margin:.2rem 0 0;font-size:2rem}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
h3{margin:1rem 0 .2rem;font-size:1.05rem}
nav{font-size:.9rem}
.headline{font-size:1.2rem;margin:0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1.2rem}
dt{color:#59636e}
dd{margin:0}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.1rem .8rem .1rem 0;text-align:left;white-space:nowrap}
td.n,th.n{text-align:right}
td.more{white-space:normal;color:#59636e;max-width:16rem}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 2rem}
figure{margin:.5rem 0}
figcaption{color:#59636e;font-size:.9rem}
svg text{font:11px sans-serif;fill:#1f2328}
svg rect{fill:#4e79a7}
.score{color:#59636e;font-size:.9rem}
.reason{margin:.1rem 0 .6rem;font-size:.95rem}
ol.papers{padding-left:1.6rem}
ol.papers li{margin-bottom:.9rem}
.paper .title{font-weight:600}
.snippet{margin:.15rem 0}
.meta{margin:0;color:#59636e;font-size:.85rem}
.withdrawn .title{text-decoration:line-through}
.badge{background:#cf222e;color:#fff;border-radius:.3rem;padding:0 .35rem;font-size:.75rem;
 font-weight:700;margin-left:.4rem}
footer{margin-top:2.5rem;color:#59636e;font-size:.85rem}
""".strip()


def render_html(profile: Profile, *, site: bool = False, changed_at: datetime | None = None) -> str:
    """The profile page; ``site`` adds links to the index, the feed and tracked profiles.

    A site page says when its data last changed (``changed_at``), not when the author was
    last harvested: a page changes when what it shows changes, so a cycle that found
    nothing new rewrites none (the index page lists every last harvest)."""
    p = profile
    head = _head(f"{p.name} · {p.headline}", f"{p.key}.atom" if site else None, p.name)
    body = [
        _nav(p.key) if site else "",
        f"<header><h1>{escape(p.name)}</h1><p class=headline>{escape(p.headline)}</p></header>",
        "<main>",
        _section("profile", "Academic Profile", _facts(p, changed_at if site else None)),
        _section("statistics", "Statistics", "\n".join(_statistics(p))),
        _section("similar", "Similar Authors", _similar(p.similar, site)),
        _section("papers", "Papers on arXiv", _papers(p.papers)),
        "</main>",
        _footer(changed_at, None, "last change")
        if site
        else _footer(p.stats.last_harvest_at, p.stats.last_harvest_status),
    ]
    return _page(head, body)


ALL_FEED = "all.atom"
"""The feed of every profile's new papers (:func:`.feed.render_site_feed`)."""


def render_index(rows: Sequence[IndexRow], updated: datetime | None) -> str:
    """The list of every profile, linking to its page and feed."""
    lines = [
        "<table><thead><tr><th>Profile</th><th class=n>Papers</th><th class=n>Withdrawn</th>"
        "<th class=n>Last 12 months</th><th>Latest paper</th><th>Last harvest</th>"
        "<th>Feed</th></tr></thead><tbody>"
    ]
    for r in rows:
        lines.append(
            f'<tr><td><a href="{escape(r.key)}.html">{escape(r.name)}</a></td>'
            f"<td class=n>{r.paper_count}</td><td class=n>{r.withdrawn_count}</td>"
            f"<td class=n>{r.papers_last_12_months}</td><td>{_day(r.latest_published)}</td>"
            f"<td>{_minute(r.last_harvest_at)} {escape(r.last_harvest_status or '')}</td>"
            f'<td><a href="{escape(r.key)}.atom">Atom</a></td></tr>'
        )
    lines.append("</tbody></table>")
    headline = f"{len(rows)} profile{'' if len(rows) == 1 else 's'}"
    body = [
        "<header><h1>arXiv profiles</h1>",
        f'<p class=headline>{headline} · <a href="{ALL_FEED}">Atom feed of every new paper</a>'
        "</p></header>",
        "<main>",
        "\n".join(lines),
        "</main>",
        _footer(updated, None),
    ]
    return _page(_head("arXiv profiles", ALL_FEED, "every profile"), body)


def year_chart(years: Sequence[YearCount]) -> str:
    """Papers per year as an inline SVG bar chart (a bar, its count and its year)."""
    if not years:
        return "<p>No papers yet.</p>"
    slot, top, plot, bottom = 40, 18, 130, 20
    widest = max(y.papers for y in years) or 1
    width = max(slot * len(years), 200)
    label_every = 1 if len(years) <= 20 else 5
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{top + plot + bottom}" viewBox="0 0 {width} {top + plot + bottom}" '
        f'aria-label="Papers per year">'
    ]
    for i, y in enumerate(years):
        h = round(plot * y.papers / widest)
        x = i * slot + 4
        parts.append(
            f'<g class=bar data-year="{y.year}" data-papers="{y.papers}">'
            f'<rect x="{x}" y="{top + plot - h}" width="{slot - 8}" height="{h}">'
            f"<title>{y.year}: {y.papers} paper{'' if y.papers == 1 else 's'}</title></rect>"
            f'<text x="{x + (slot - 8) / 2}" y="{top + plot - h - 4}" '
            f'text-anchor="middle">{y.papers}</text>'
        )
        if i % label_every == 0 or i == len(years) - 1:
            parts.append(
                f'<text x="{x + (slot - 8) / 2}" y="{top + plot + 14}" '
                f'text-anchor="middle">{y.year}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _statistics(p: Profile) -> Iterator[str]:
    yield "<figure>" + year_chart(p.years)
    yield "<figcaption>Papers per year, by first version</figcaption></figure>"
    yield "<div class=tables><div>"
    yield "<h3>Categories</h3>"
    yield "<table><thead><tr><th>Category</th><th class=n>Papers</th>"
    yield "<th class=n>As primary</th></tr></thead><tbody>"
    for c in p.categories[:CATEGORIES_SHOWN]:
        yield (
            f"<tr><td>{escape(c.category)}</td><td class=n>{c.papers}</td>"
            f"<td class=n>{c.as_primary}</td></tr>"
        )
    if rest := p.categories[CATEGORIES_SHOWN:]:
        others = escape(" ".join(c.category for c in rest))
        yield f"<tr><td colspan=3 class=more>and {len(rest)} more: {others}</td></tr>"
    yield "</tbody></table></div><div>"
    yield "<h3>Frequent co-authors</h3>"
    yield "<table><thead><tr><th>Co-author</th><th class=n>Papers together</th>"
    yield "<th>Years</th></tr></thead><tbody>"
    for co in p.coauthors:
        years = (
            str(co.first_year)
            if co.first_year == co.last_year
            else f"{co.first_year}-{co.last_year}"
        )
        yield (
            f"<tr><td>{escape(co.name)}</td><td class=n>{co.shared_papers}</td>"
            f"<td>{years}</td></tr>"
        )
    yield "</tbody></table></div></div>"


def _facts(p: Profile, changed_at: datetime | None) -> str:
    """The facts; with ``changed_at`` (a site page), the last change for the last harvest."""
    pairs = facts(p)
    if changed_at is not None:
        pairs = [
            ("Last change", _minute(changed_at)) if k == "Last harvest" else (k, v)
            for k, v in pairs
        ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>"


def _similar(similar: Sequence[SimilarAuthor], site: bool) -> str:
    if not similar:
        return "<p>None yet: similar authors are computed after each harvest.</p>"
    items = []
    for s in similar:
        name = escape(s.name)
        if site and s.key:
            name = f'<a href="{escape(s.key)}.html">{name}</a>'
        items.append(
            f"<li><strong>{name}</strong> <span class=score>score {s.score:.2f} "
            f"(co-authorship {s.coauthor_score:.2f}, topic {s.topic_score:.2f}, "
            f"categories {s.category_score:.2f})</span>"
            f"<p class=reason>{escape(s.reason)}</p></li>"
        )
    return "<ol class=similar>" + "".join(items) + "</ol>"


def _papers(papers: Sequence[PaperItem]) -> str:
    return "<ol class=papers>" + "\n".join(_paper(p) for p in papers) + "</ol>"


def _paper(p: PaperItem) -> str:
    badge = " <span class=badge>Withdrawn</span>" if p.withdrawn else ""
    meta = [
        f"arXiv:{escape(p.arxiv_id)} v{p.version}",
        _day(p.published),
        escape(p.primary_category),
    ]
    if p.journal_ref:
        meta.append(escape(p.journal_ref))
    if p.doi:
        href = "https://doi.org/" + quote(p.doi, safe="/:;()")
        meta.append(f'<a href="{escape(href)}">doi:{escape(p.doi)}</a>')
    css = "paper withdrawn" if p.withdrawn else "paper"
    return (
        f'<li class="{css}" id="{escape(p.arxiv_id)}"><a class=title href="{escape(p.url)}">'
        f"{escape(p.title)}</a>{badge}{_snippet(p.snippet)}"
        f"<p class=meta>{' · '.join(meta)}</p></li>"
    )


def _snippet(snippet: str) -> str:
    """The abstract's snippet as one ``<p class=snippet>`` per paragraph.

    Stored abstracts separate paragraphs with ``\\n``
    (:func:`harvester.normalise.clean_paragraphs`), which HTML would show as a space.
    """
    return "".join(f"<p class=snippet>{escape(part)}</p>" for part in snippet.split("\n"))


def _head(title: str, feed: str | None, author: str | None) -> str:
    link = ""
    if feed is not None:
        link = (
            f'<link rel=alternate type="application/atom+xml" '
            f'title="New papers: {escape(author or "")}" href="{escape(feed)}">'
        )
    return (
        "<head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(title)}</title>{link}<style>{STYLE}</style></head>"
    )


def _nav(key: str) -> str:
    return (
        f'<nav><a href="index.html">All profiles</a> · '
        f'<a href="{escape(key)}.atom">Atom feed of new papers</a></nav>'
    )


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>\n{content}\n</section>'


def _footer(moment: datetime | None, status: str | None, what: str = "last harvest") -> str:
    when = f"; {what} {_minute(moment)}" if moment else ""
    state = f" ({escape(status)})" if status else ""
    return f"<footer>Generated by arxiv-harvester from its database{when}{state}.</footer>"


def _page(head: str, body: Sequence[str]) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n'
        + head
        + "\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def _minute(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"
