"""An Atom feed (RFC 4287) of a profile's new papers (its ``new_paper`` events), and
one of every profile's (:func:`render_site_feed`, the site's ``all.atom``).

Entry ids are the papers' arXiv pages, so a feed reader shows each paper once however
often the feed is rewritten; the feed id is a UUID derived from the profile key. The
baseline harvest records no events, so a new profile's feed starts empty. In the feed of
every profile, an entry names the profiles it joined: in its title, and as categories
of the scheme :data:`PROFILE_SCHEME` (term: the key, label: the name).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime

from ..records import ABS_URL, FeedEntry

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROFILE_SCHEME = "arxiv-harvester:profile"
SITE_FEED = "all.atom"


def render_feed(key: str, name: str, entries: list[FeedEntry], updated: datetime | None) -> bytes:
    """The Atom document; ``updated`` is used when there are no entries."""
    feed = _feed(f"{PROFILE_SCHEME}:{key}", f"New papers on arXiv: {name}", f"{key}.atom")
    ET.SubElement(feed, _q("link"), rel="alternate", type="text/html", href=f"{key}.html")
    return _document(feed, entries, updated, {})


def render_site_feed(entries: list[FeedEntry], names: Mapping[str, str]) -> bytes:
    """The feed of every profile's new papers, newest first; ``names``: profile names
    by key. Its ``updated`` is its newest entry's, so equal entries give equal bytes."""
    feed = _feed("arxiv-harvester:site", "New papers on arXiv: every profile", SITE_FEED)
    ET.SubElement(feed, _q("link"), rel="alternate", type="text/html", href="index.html")
    return _document(feed, entries, None, names)


def _feed(name: str, title: str, href: str) -> ET.Element:
    ET.register_namespace("", ATOM)
    feed = ET.Element(_q("feed"))
    _text(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, name).urn)
    _text(feed, "title", title)
    ET.SubElement(feed, _q("link"), rel="self", type="application/atom+xml", href=href)
    return feed


def _document(
    feed: ET.Element, entries: list[FeedEntry], updated: datetime | None, names: Mapping[str, str]
) -> bytes:
    newest = max((e.recorded_at for e in entries), default=updated or EPOCH)
    _text(feed, "updated", newest.isoformat())
    _text(ET.SubElement(feed, _q("author")), "name", "arxiv-harvester")
    _text(feed, "generator", "arxiv-harvester")
    for entry in entries:
        _entry(feed, entry, names)
    ET.indent(feed)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _entry(feed: ET.Element, e: FeedEntry, names: Mapping[str, str]) -> None:
    entry = ET.SubElement(feed, _q("entry"))
    url = ABS_URL.format(e.arxiv_id)
    _text(entry, "id", url)
    profiles = [names.get(key, key) for key in e.profiles] if names else []
    _text(entry, "title", f"[{', '.join(profiles)}] {e.title}" if profiles else e.title)
    _text(entry, "updated", e.recorded_at.isoformat())
    _text(entry, "published", e.published.isoformat())
    ET.SubElement(entry, _q("link"), rel="alternate", type="text/html", href=url)
    for author in e.authors:
        _text(ET.SubElement(entry, _q("author")), "name", author)
    for category in e.categories:
        ET.SubElement(entry, _q("category"), term=category)
    for key in e.profiles if names else ():
        ET.SubElement(
            entry, _q("category"), scheme=PROFILE_SCHEME, term=key, label=names.get(key, key)
        )
    _text(entry, "summary", e.summary)


def _q(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    element.text = value
    return element
