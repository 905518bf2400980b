"""Rendering Atom feeds the way the arXiv API writes them (pure: the clock is an argument).

Two dialects, both described in the project's API reference:

* the **current** format (arXiv's backend since about November 2025): single-quoted XML
  declaration, all namespaces on the root, two-space indent, fixed element order, errors
  as HTTP 400 feeds without ``published``;
* the **legacy** format (the one in the manual's examples,
  https://info.arxiv.org/help/api/user-manual.html#_details_of_atom_results_returned):
  double-quoted declaration, namespaces declared inline, ``ArXiv Query:`` title, feed
  ``updated`` at local midnight (``-04:00``), hard-wrapped titles and abstracts, a
  ``scheme`` on ``primary_category``, and errors delivered as HTTP 200 feeds.

Text is written as raw UTF-8 with ``&amp; &lt; &gt;`` escapes; characters XML 1.0 forbids
are dropped.
"""

from __future__ import annotations

import base64
import hashlib
import re
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from arxiv_lookalike.corpus import CorpusAuthor, CorpusPaper, format_stamp

__all__ = [
    "ARXIV_SCHEME",
    "EntryView",
    "FeedPage",
    "entry_view",
    "feed_id",
    "render_error",
    "render_feed",
    "render_legacy_error",
    "render_legacy_feed",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
ARXIV_SCHEME = ARXIV_NS
ERROR_AUTHOR = "arXiv api core"
LEGACY_OFFSET = timezone(timedelta(hours=-4))
_ROOT = f'<feed xmlns:opensearch="{OPENSEARCH_NS}" xmlns:arxiv="{ARXIV_NS}" xmlns="{ATOM_NS}">\n'
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class EntryView:
    """One entry as it will be written; faults may break it (``None`` omits an element)."""

    entry_id: str | None
    versioned_id: str
    title: str
    updated: str
    published: str | None
    summary: str
    authors: tuple[CorpusAuthor, ...]
    primary_category: str
    categories: tuple[str, ...]
    comment: str | None
    journal_ref: str | None
    doi: str | None


def entry_view(paper: CorpusPaper, version: int | None = None) -> EntryView:
    """The entry for ``paper`` (at ``version``, default the latest; other fields unchanged)."""
    versioned = f"{paper.arxiv_id}v{version or paper.version}"
    return EntryView(
        entry_id=f"http://arxiv.org/abs/{versioned}",
        versioned_id=versioned,
        title=paper.title,
        updated=format_stamp(paper.updated),
        published=format_stamp(paper.published),
        summary=paper.summary,
        authors=paper.authors,
        primary_category=paper.primary_category,
        categories=paper.categories,
        comment=paper.comment,
        journal_ref=paper.journal_ref,
        doi=paper.doi,
    )


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of results: the query echo, the opensearch numbers and the entries."""

    search_query: str
    id_list: str
    start: int
    max_results: int
    total_results: int
    entries: tuple[EntryView, ...] = ()

    @property
    def query_string(self) -> str:
        return (
            f"search_query={self.search_query}&id_list={self.id_list}"
            f"&start={self.start}&max_results={self.max_results}"
        )


def feed_id(title: str) -> str:
    """27 base64 characters derived from the query, like ``https://arxiv.org/api/<27>``."""
    digest = hashlib.sha1(title.encode("utf-8"), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii").rstrip("=")


def _text(value: str) -> str:
    value = _FORBIDDEN.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attrs(*pairs: tuple[str, str]) -> str:
    out = []
    for name, value in pairs:
        escaped = _text(value).replace('"', "&quot;")
        escaped = escaped.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
        out.append(f' {name}="{escaped}"')
    return "".join(out)


def _el(depth: int, tag: str, text: str, *attrs: tuple[str, str]) -> str:
    return f"{'  ' * depth}<{tag}{_attrs(*attrs)}>{_text(text)}</{tag}>\n"


def _empty(depth: int, tag: str, *attrs: tuple[str, str]) -> str:
    return f"{'  ' * depth}<{tag}{_attrs(*attrs)}/>\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the current format ------------------------------------------------------------------


def _current_head(page: FeedPage, now: datetime) -> str:
    title = f"arXiv Query: {page.query_string}"
    link = (
        f"https://arxiv.org/api/query?search_query={page.search_query}"
        f"&start={page.start}&max_results={page.max_results}&id_list={page.id_list}"
    )
    return "".join(
        [
            "<?xml version='1.0' encoding='UTF-8'?>\n",
            _ROOT,
            _el(1, "id", f"https://arxiv.org/api/{feed_id(title)}"),
            _el(1, "title", title),
            _el(1, "updated", format_stamp(now)),
            _empty(1, "link", ("href", link), ("type", "application/atom+xml")),
            _el(1, "opensearch:itemsPerPage", str(page.max_results)),
            _el(1, "opensearch:totalResults", str(page.total_results)),
            _el(1, "opensearch:startIndex", str(page.start)),
        ]
    )


def _current_author(author: CorpusAuthor) -> str:
    lines = [_el(3, "name", author.name)]
    lines += [_el(3, "arxiv:affiliation", one) for one in author.affiliations]
    return "    <author>\n" + "".join(lines) + "    </author>\n"


def _current_entry(entry: EntryView) -> str:
    scheme = ("scheme", ARXIV_SCHEME)
    parts = ["  <entry>\n"]
    if entry.entry_id is not None:
        parts.append(_el(2, "id", entry.entry_id))
    parts += [
        _el(2, "title", _one_line(entry.title)),
        _el(2, "updated", entry.updated),
        _empty(
            2,
            "link",
            ("href", f"https://arxiv.org/abs/{entry.versioned_id}"),
            ("rel", "alternate"),
            ("type", "text/html"),
        ),
        _empty(
            2,
            "link",
            ("href", f"https://arxiv.org/pdf/{entry.versioned_id}"),
            ("rel", "related"),
            ("type", "application/pdf"),
            ("title", "pdf"),
        ),
        _el(2, "summary", _current_summary(entry.summary)),
    ]
    parts += [_empty(2, "category", ("term", term), scheme) for term in entry.categories]
    if entry.published is not None:
        parts.append(_el(2, "published", entry.published))
    if entry.comment is not None:
        parts.append(_el(2, "arxiv:comment", entry.comment))
    parts.append(_empty(2, "arxiv:primary_category", ("term", entry.primary_category)))
    if entry.journal_ref is not None:
        parts.append(_el(2, "arxiv:journal_ref", entry.journal_ref))
    parts += [_current_author(author) for author in entry.authors]
    if entry.doi is not None:
        parts.append(_el(2, "arxiv:doi", entry.doi))
        doi_url = f"https://doi.org/{entry.doi}"
        parts.append(_empty(2, "link", ("rel", "related"), ("href", doi_url), ("title", "doi")))
    parts.append("  </entry>\n")
    return "".join(parts)


def render_feed(page: FeedPage, now: datetime) -> bytes:
    """A page in the current format (serve with HTTP 200)."""
    entries = "".join(_current_entry(entry) for entry in page.entries)
    return (_current_head(page, now) + entries + "</feed>\n").encode("utf-8")


def render_error(message: str, now: datetime) -> bytes:
    """The current backend's error feed (serve with HTTP 400): one ``Error`` entry, no
    ``published``, so a lenient parser (arxiv.py) skips it and sees zero results."""
    anchor = f"https://arxiv.org/api/errors#{message.replace(' ', '_')}"
    stamp = format_stamp(now)
    return "".join(
        [
            "<?xml version='1.0' encoding='UTF-8'?>\n",
            _ROOT,
            _el(1, "id", "https://arxiv.org/"),
            _el(1, "title", "arXiv Search Results"),
            _el(1, "updated", stamp),
            _el(1, "opensearch:itemsPerPage", "1"),
            _el(1, "opensearch:totalResults", "1"),
            _el(1, "opensearch:startIndex", "0"),
            "  <entry>\n",
            _el(2, "id", anchor),
            _el(2, "title", "Error"),
            _el(2, "updated", stamp),
            _empty(2, "link", ("href", anchor), ("rel", "alternate"), ("type", "text/html")),
            _el(2, "summary", message),
            "    <author>\n",
            _el(3, "name", ERROR_AUTHOR),
            "    </author>\n",
            "  </entry>\n",
            "</feed>\n",
        ]
    ).encode("utf-8")


# --- the legacy format -------------------------------------------------------------------


def _legacy_midnight(now: datetime) -> str:
    local = now.astimezone(LEGACY_OFFSET)
    return local.strftime("%Y-%m-%dT00:00:00-04:00")


def _wrap_title(title: str) -> str:
    lines = textwrap.wrap(
        _one_line(title), width=72, break_long_words=False, break_on_hyphens=False
    )
    return "\n  ".join(lines)


def _wrap_summary(summary: str) -> str:
    """Legacy abstracts: each paragraph hard-wrapped at 80 columns, its first line
    indented by two spaces (which is how arXiv marks a paragraph)."""
    lines = [
        line
        for paragraph in _paragraphs(summary)
        for line in textwrap.wrap(
            paragraph,
            width=80,
            initial_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    ]
    return "\n".join(lines) + "\n"


def _current_summary(summary: str) -> str:
    """As written (arXiv keeps odd leading spaces), paragraphs joined by a line break and
    two spaces, the way the current format separates them."""
    if "\n" not in summary:
        return summary
    return "\n  ".join(_paragraphs(summary))


def _paragraphs(summary: str) -> list[str]:
    """A corpus abstract's paragraphs (one per line), each on one line."""
    return [_one_line(part) for part in summary.split("\n") if part.strip()] or [""]


def _inline(depth: int, tag: str, text: str, namespace: str, *attrs: tuple[str, str]) -> str:
    prefix = tag.split(":", 1)[0]
    return _el(depth, tag, text, (f"xmlns:{prefix}", namespace), *attrs)


def _legacy_head(page: FeedPage, now: datetime) -> str:
    title = f"ArXiv Query: {page.query_string}"
    link = f"http://arxiv.org/api/query?{quote(page.query_string, safe='')}"
    return "".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<feed xmlns="{ATOM_NS}">\n',
            _empty(1, "link", ("href", link), ("rel", "self"), ("type", "application/atom+xml")),
            _el(1, "title", title, ("type", "html")),
            _el(1, "id", f"http://arxiv.org/api/{feed_id(title)}"),
            _el(1, "updated", _legacy_midnight(now)),
            _inline(1, "opensearch:totalResults", str(page.total_results), OPENSEARCH_NS),
            _inline(1, "opensearch:startIndex", str(page.start), OPENSEARCH_NS),
            _inline(1, "opensearch:itemsPerPage", str(page.max_results), OPENSEARCH_NS),
        ]
    )


def _legacy_author(author: CorpusAuthor) -> str:
    lines = [_el(3, "name", author.name)]
    lines += [_inline(3, "arxiv:affiliation", one, ARXIV_NS) for one in author.affiliations]
    return "    <author>\n" + "".join(lines) + "    </author>\n"


def _legacy_entry(entry: EntryView) -> str:
    abs_url = f"http://arxiv.org/abs/{entry.versioned_id}"
    parts = ["  <entry>\n"]
    if entry.entry_id is not None:
        parts.append(_el(2, "id", entry.entry_id))
    parts.append(_el(2, "updated", entry.updated))
    if entry.published is not None:
        parts.append(_el(2, "published", entry.published))
    parts.append(_el(2, "title", _wrap_title(entry.title)))
    parts.append(_el(2, "summary", _wrap_summary(entry.summary)))
    parts += [_legacy_author(author) for author in entry.authors]
    if entry.doi is not None:
        parts.append(_inline(2, "arxiv:doi", entry.doi, ARXIV_NS))
        doi_url = f"http://dx.doi.org/{entry.doi}"
        parts.append(_empty(2, "link", ("title", "doi"), ("href", doi_url), ("rel", "related")))
    if entry.comment is not None:
        parts.append(_inline(2, "arxiv:comment", entry.comment, ARXIV_NS))
    if entry.journal_ref is not None:
        parts.append(_inline(2, "arxiv:journal_ref", entry.journal_ref, ARXIV_NS))
    parts += [
        _empty(2, "link", ("href", abs_url), ("rel", "alternate"), ("type", "text/html")),
        _empty(
            2,
            "link",
            ("title", "pdf"),
            ("href", f"http://arxiv.org/pdf/{entry.versioned_id}"),
            ("rel", "related"),
            ("type", "application/pdf"),
        ),
        _empty(
            2,
            "arxiv:primary_category",
            ("xmlns:arxiv", ARXIV_NS),
            ("term", entry.primary_category),
            ("scheme", ARXIV_SCHEME),
        ),
    ]
    scheme = ("scheme", ARXIV_SCHEME)
    parts += [_empty(2, "category", ("term", term), scheme) for term in entry.categories]
    parts.append("  </entry>\n")
    return "".join(parts)


def render_legacy_feed(page: FeedPage, now: datetime) -> bytes:
    """A page in the legacy format (serve with HTTP 200)."""
    entries = "".join(_legacy_entry(entry) for entry in page.entries)
    return (_legacy_head(page, now) + entries + "</feed>\n").encode("utf-8")


def render_legacy_error(message: str, page: FeedPage, now: datetime) -> bytes:
    """The legacy error feed, served with HTTP 200: the manual's example, every element
    carrying its own ``xmlns``. ``page`` supplies the query echoed in title and link."""
    anchor = f"http://arxiv.org/api/errors#{message.replace(' ', '_')}"
    stamp = _legacy_midnight(now)
    query = f"search_query={page.search_query}&id_list={page.id_list}"
    title = f"ArXiv Query: {query}"
    atom = ("xmlns", ATOM_NS)
    return "".join(
        [
            '<?xml version="1.0" encoding="utf-8"?>\n',
            f'<feed xmlns="{ATOM_NS}" xmlns:opensearch="{OPENSEARCH_NS}">\n',
            _empty(
                1,
                "link",
                atom,
                ("href", f"http://arxiv.org/api/query?{query}"),
                ("rel", "self"),
                ("type", "application/atom+xml"),
            ),
            _el(1, "title", title, atom),
            _el(1, "id", f"http://arxiv.org/api/{feed_id(title)}", atom),
            _el(1, "updated", stamp, atom),
            _inline(1, "opensearch:totalResults", "1", OPENSEARCH_NS),
            _inline(1, "opensearch:startIndex", "0", OPENSEARCH_NS),
            _inline(1, "opensearch:itemsPerPage", "1", OPENSEARCH_NS),
            f'  <entry xmlns="{ATOM_NS}">\n',
            _el(2, "id", anchor, atom),
            _el(2, "title", "Error", atom),
            _el(2, "summary", message, atom),
            _el(2, "updated", stamp, atom),
            _empty(2, "link", atom, ("href", anchor), ("rel", "alternate"), ("type", "text/html")),
            f'    <author xmlns="{ATOM_NS}">\n',
            _el(3, "name", ERROR_AUTHOR, atom),
            "    </author>\n",
            "  </entry>\n",
            "</feed>\n",
        ]
    ).encode("utf-8")
