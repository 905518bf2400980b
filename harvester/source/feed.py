"""One API page, parsed strictly, each entry on its own, into ``arxiv.Result`` records.

The ``arxiv`` package's public API has no parser of a page it did not fetch itself, and
its private one is lenient where we must not be (lxml ``recover=True``, a missing
``totalResults`` read as 0, one bad date sinking the page), so the parsing is ours.
Here the document must be well-formed XML with an Atom ``<feed>`` root, no DTD, and a
``totalResults``; each ``<entry>`` then becomes an ``arxiv.Result`` through its public
constructor, with the package's conventions (title whitespace collapsed, summary as
written, UTC dates), and an entry that cannot be read is reported with its id and the
reason instead of sinking its page. Each entry's children are read in one walk.

An error feed (an entry whose id is ``https://arxiv.org/api/errors#...``; the legacy
API served these with HTTP 200) is a rejected query, never "no results".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import arxiv
from lxml import etree

from ..errors import HostileResponseError, IncompleteResponseError, QueryRejectedError
from ..records import Author, RawEntry

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
_ERROR_ENTRY = re.compile(r"https?://arxiv\.org/api/errors\b")
_SHOWN = 120
"""How much of a hostile value an error message repeats."""

_A, _X, _O = f"{{{ATOM}}}", f"{{{ARXIV}}}", f"{{{OPENSEARCH}}}"
_ENTRY, _ID, _AUTHOR, _NAME = _A + "entry", _A + "id", _A + "author", _A + "name"
_LINK, _CATEGORY = _A + "link", _A + "category"
_PRIMARY, _AFFILIATION = _X + "primary_category", _X + "affiliation"
_TEXT_FIELDS = {
    _ID: "entry_id",
    _A + "updated": "updated",
    _A + "published": "published",
    _A + "title": "title",
    _A + "summary": "summary",
    _X + "comment": "comment",
    _X + "journal_ref": "journal_ref",
    _X + "doi": "doi",
}
"""The entry's one-text fields, by tag; the package reads the first of each (``find``)."""
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One ``<entry>``: its ``result``, or why there is none (``problem``)."""

    entry_id: str
    result: arxiv.Result | None = None
    problem: str | None = None

    def raw(self) -> RawEntry | None:
        """The entry as our own record (the vendor type stops here); None if unreadable."""
        r = self.result
        if r is None:
            return None
        return RawEntry(
            entry_id=r.entry_id,
            title=r.title,
            summary=r.summary,
            published=r.published,
            updated=r.updated,
            authors=tuple(Author(a.name, tuple(a.affiliation)) for a in r.authors),
            primary_category=r.primary_category,
            categories=tuple(r.categories),
            comment=r.comment,
            journal_ref=r.journal_ref,
            doi=r.doi,
        )


@dataclass(frozen=True, slots=True)
class ParsedPage:
    total_results: int
    entries: tuple[ParsedEntry, ...]


def parse_page(body: bytes, url: str) -> ParsedPage:
    """Parse a complete response body; raise our own errors for anything but a feed."""
    root = document(body, url)
    entries = root.findall(_ENTRY)
    ids = [first_text(element, _ID) for element in entries]
    _refuse_error_feed(entries, ids, url)
    total = _total_results(root, url)
    if len(root.findall(f".//{_ENTRY}")) != len(entries):
        raise IncompleteResponseError("the feed has entries outside its top level", url=url)
    pairs = enumerate(zip(entries, ids, strict=True))
    return ParsedPage(
        total, tuple(_entry(element, raw_id, index) for index, (element, raw_id) in pairs)
    )


def safe_xml(body: bytes, url: str) -> Any:
    """``body`` parsed as XML that can hurt nobody: no entity resolved, no network, no DTD,
    no huge tree, no recovery from errors; a DOCTYPE is refused as hostile. The root
    element, for the caller to check (an Atom feed here, an OAI-PMH answer in
    :mod:`.oaipage`)."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=False,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise IncompleteResponseError(f"not well-formed XML: {_short(str(exc))}", url=url) from exc
    if root is None:
        raise IncompleteResponseError("empty document", url=url)
    if root.getroottree().docinfo.doctype:
        raise HostileResponseError("response declares a DOCTYPE", url=url)
    return root


def document(body: bytes, url: str) -> Any:
    root = safe_xml(body, url)
    if root.tag != _A + "feed":
        raise IncompleteResponseError(f"not an Atom feed (root {_short(str(root.tag))})", url=url)
    return root


def first_text(element: Any, tag: str) -> str | None:
    """The text of ``element``'s first ``tag`` child (None without one)."""
    child = next(element.iterchildren(tag), None)
    return None if child is None else child.text


def _refuse_error_feed(entries: list[Any], ids: list[str | None], url: str) -> None:
    for element, entry_id in zip(entries, ids, strict=True):
        if _ERROR_ENTRY.match(entry_id or ""):
            message = " ".join((first_text(element, _A + "summary") or "").split())
            raise QueryRejectedError(
                f"arXiv rejected the query: {_short(message) or 'no message'}", url=url
            )


def _total_results(root: Any, url: str) -> int:
    text = (first_text(root, _O + "totalResults") or "").strip()
    if not text.isascii() or not text.isdigit():
        raise IncompleteResponseError(
            f"no valid opensearch:totalResults ({_short(text) or 'missing'})", url=url
        )
    return int(text)


def _entry(element: Any, raw_id: str | None, index: int) -> ParsedEntry:
    entry_id = (raw_id or "").strip()
    shown = _short(entry_id) if entry_id else f"<entry {index + 1} without an id>"
    try:
        result = _read_result(element)
    except (ValueError, OverflowError) as exc:
        return ParsedEntry(shown, problem=f"unreadable date: {_short(str(exc))}")
    if result is None:
        return ParsedEntry(shown, problem="lacks an id, an updated or a published date")
    return ParsedEntry(shown, result=result)


def _read_result(element: Any) -> arxiv.Result | None:
    """The entry as an ``arxiv.Result``, its children read in one walk; None without an
    id, an ``updated`` or a ``published`` date; ``ValueError`` for a date that does not
    parse. The first of each one-text field counts, as in the package."""
    texts: dict[str, str | None] = {}
    authors: list[arxiv.Result.Author] = []
    links: list[arxiv.Result.Link] = []
    categories: list[str] = []
    primary: str | None = None
    for child in element:
        tag = child.tag
        if (field := _TEXT_FIELDS.get(tag)) is not None:
            texts.setdefault(field, child.text)
        elif tag == _AUTHOR:
            authors.append(_author(child))
        elif tag == _LINK:
            if (link := _link(child)) is not None:
                links.append(link)
        elif tag == _CATEGORY:
            if (term := child.get("term")) is not None:
                categories.append(term)
        elif tag == _PRIMARY and primary is None:
            primary = child.get("term") or ""
    if not texts.get("entry_id"):
        return None
    updated = _parse_datetime(texts.get("updated"))
    published = _parse_datetime(texts.get("published"))
    if updated is None or published is None:
        return None
    return arxiv.Result(
        entry_id=texts["entry_id"],
        updated=updated,
        published=published,
        title=_WHITESPACE.sub(" ", texts.get("title") or ""),
        authors=authors,
        summary=texts.get("summary") or "",
        comment=texts.get("comment"),
        journal_ref=texts.get("journal_ref"),
        doi=texts.get("doi"),
        primary_category=primary or "",
        categories=categories,
        links=links,
    )


def _parse_datetime(text: str | None) -> datetime | None:
    """An Atom (RFC 3339) timestamp as an aware UTC datetime; a naive one is UTC."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _author(element: Any) -> arxiv.Result.Author:
    name: str | None = None
    named = False
    affiliations = []
    for child in element:
        if child.tag == _NAME and not named:
            name, named = child.text, True
        elif child.tag == _AFFILIATION and child.text is not None:
            affiliations.append(child.text)
    return arxiv.Result.Author(name=name or "", affiliation=affiliations)


def _link(element: Any) -> arxiv.Result.Link | None:
    href = element.get("href")
    if href is None:
        return None
    return arxiv.Result.Link(
        href=href,
        title=element.get("title"),
        rel=element.get("rel") or "",
        content_type=element.get("type"),
    )


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
