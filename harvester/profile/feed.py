"""An Atom feed (RFC 4287) of a profile's new papers (its ``new_paper`` events).

Entry ids are the papers' arXiv pages, so a feed reader shows each paper once however
often the feed is rewritten; the feed id is a UUID derived from the profile key. The
baseline harvest records no events, so a new profile's feed starts empty.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from ..records import ABS_URL, FeedEntry

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def render_feed(key: str, name: str, entries: list[FeedEntry], updated: datetime | None) -> bytes:
    """The Atom document; ``updated`` is used when there are no entries."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(_q("feed"))
    _text(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, f"arxiv-harvester:profile:{key}").urn)
    _text(feed, "title", f"New papers on arXiv: {name}")
    newest = max((e.recorded_at for e in entries), default=updated or EPOCH)
    _text(feed, "updated", newest.isoformat())
    ET.SubElement(feed, _q("link"), rel="alternate", type="text/html", href=f"{key}.html")
    ET.SubElement(feed, _q("link"), rel="self", type="application/atom+xml", href=f"{key}.atom")
    _text(ET.SubElement(feed, _q("author")), "name", "arxiv-harvester")
    _text(feed, "generator", "arxiv-harvester")
    for entry in entries:
        _entry(feed, entry)
    ET.indent(feed)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _entry(feed: ET.Element, e: FeedEntry) -> None:
    entry = ET.SubElement(feed, _q("entry"))
    url = ABS_URL.format(e.arxiv_id)
    _text(entry, "id", url)
    _text(entry, "title", e.title)
    _text(entry, "updated", e.recorded_at.isoformat())
    _text(entry, "published", e.published.isoformat())
    ET.SubElement(entry, _q("link"), rel="alternate", type="text/html", href=url)
    for author in e.authors:
        _text(ET.SubElement(entry, _q("author")), "name", author)
    for category in e.categories:
        ET.SubElement(entry, _q("category"), term=category)
    _text(entry, "summary", e.summary)


def _q(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    element.text = value
    return element
