"""One API page, parsed strictly, each entry on its own.

``arxiv``'s own ``_feed.parse`` runs lxml with ``recover=True`` (a cut or broken
document still "parses"), reads a missing ``totalResults`` as 0 (an HTML page or an
error feed looks like zero results) and lets one bad date in one entry raise for
the whole page. Here the document must be well-formed XML with an Atom ``<feed>``
root, no DTD, and a ``totalResults``; each ``<entry>`` then goes through the
package's own entry parser (``arxiv._feed._build_result``), and an entry it cannot
read is reported with its id and the reason instead of sinking its page.

An error feed (an entry whose id is ``https://arxiv.org/api/errors#...``; the legacy
API served these with HTTP 200) is a rejected query, never "no results".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import arxiv
from arxiv import _feed
from lxml import etree

from ..errors import HostileResponseError, IncompleteResponseError, QueryRejectedError

ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
_ERROR_ENTRY = re.compile(r"https?://arxiv\.org/api/errors\b")
_SHOWN = 120
"""How much of a hostile value an error message repeats."""


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One ``<entry>``: its ``result``, or why there is none (``problem``)."""

    entry_id: str
    result: arxiv.Result | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedPage:
    total_results: int
    entries: tuple[ParsedEntry, ...]


def parse_page(body: bytes, url: str) -> ParsedPage:
    """Parse a complete response body; raise our own errors for anything but a feed."""
    root = _document(body, url)
    entries = root.findall(f"{{{ATOM}}}entry")
    _refuse_error_feed(entries, url)
    total = _total_results(root, url)
    if len(root.findall(f".//{{{ATOM}}}entry")) != len(entries):
        raise IncompleteResponseError("the feed has entries outside its top level", url=url)
    return ParsedPage(total, tuple(_entry(element, index) for index, element in enumerate(entries)))


def _document(body: bytes, url: str) -> Any:
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
    if root.tag != f"{{{ATOM}}}feed":
        raise IncompleteResponseError(f"not an Atom feed (root {_short(str(root.tag))})", url=url)
    return root


def _refuse_error_feed(entries: list[Any], url: str) -> None:
    for element in entries:
        if _ERROR_ENTRY.match(_feed._text(element, "atom:id") or ""):
            message = " ".join((_feed._text(element, "atom:summary") or "").split())
            raise QueryRejectedError(
                f"arXiv rejected the query: {_short(message) or 'no message'}", url=url
            )


def _total_results(root: Any, url: str) -> int:
    text = (_feed._text(root, "opensearch:totalResults") or "").strip()
    if not text.isascii() or not text.isdigit():
        raise IncompleteResponseError(
            f"no valid opensearch:totalResults ({_short(text) or 'missing'})", url=url
        )
    return int(text)


def _entry(element: Any, index: int) -> ParsedEntry:
    entry_id = (_feed._text(element, "atom:id") or "").strip()
    shown = _short(entry_id) if entry_id else f"<entry {index + 1} without an id>"
    try:
        result = _feed._build_result(element)
    except (ValueError, OverflowError) as exc:
        return ParsedEntry(shown, problem=f"unreadable date: {_short(str(exc))}")
    if result is None:
        return ParsedEntry(shown, problem="lacks an id, an updated or a published date")
    return ParsedEntry(shown, result=result)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
