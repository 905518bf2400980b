"""One OAI-PMH answer of arXiv, parsed strictly into our own records.

Both shapes of the service are read: 2015's (``export.arxiv.org/oai2``: two-part set
specs, a last page with an empty ``<resumptionToken cursor=... completeListSize=.../>``)
and 2025's (``oaipmh.arxiv.org/oai``: three-part set specs such as ``cs:cs:LG``, no token
on the last page). Formats: ``arXivRaw`` (every version with its date and size, the raw
author string: :mod:`harvester.source.rawauthors`) and ``arXiv`` (authors as keyname and
forenames; no version history). The XML must be well-formed, with no DTD (no entity can
expand) and an ``OAI-PMH`` root. ``noRecordsMatch`` is an empty, final page (a quiet day),
every other ``<error>`` an :class:`~harvester.errors.OaiProtocolError` with its code.
A record that cannot be read is reported with its identifier and the reason instead of
sinking its page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from ..errors import IncompleteResponseError, OaiProtocolError
from ..records import Author, OaiRecord, PaperVersion, RawEntry
from .feed import safe_xml
from .rawauthors import decode_tex, parse_raw_authors

__all__ = ["Identity", "OaiPage", "parse_identify", "parse_list"]

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RAW = "{http://arxiv.org/OAI/arXivRaw/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ABS = "http://arxiv.org/abs/"
NO_RECORDS = "noRecordsMatch"
_SIZE = re.compile(r"^\s*(\d+)\s*kb\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OaiPage:
    """A page of ``ListRecords`` (or ``GetRecord``): the records read, the token of the
    next page (None: the list is complete), the problems of unreadable records."""

    records: tuple[OaiRecord, ...]
    token: str | None = None
    problems: tuple[str, ...] = ()
    complete_size: int | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """What ``Identify`` says: the earliest datestamp and the granularity."""

    earliest: date
    granularity: str
    base_url: str


def parse_identify(body: bytes, url: str) -> Identity:
    root = _document(body, url)
    node = _verb_node(root, "Identify", url)
    earliest = _text(node, OAI + "earliestDatestamp") or ""
    return Identity(
        earliest=_day(earliest, url),
        granularity=_text(node, OAI + "granularity") or "YYYY-MM-DD",
        base_url=_text(node, OAI + "baseURL") or url,
    )


def parse_list(body: bytes, url: str, verb: str = "ListRecords") -> OaiPage:
    """A ``ListRecords`` or ``GetRecord`` answer."""
    root = _document(body, url)
    try:
        node = _verb_node(root, verb, url)
    except OaiProtocolError as exc:
        if exc.code == NO_RECORDS:
            return OaiPage(())
        raise
    records, problems = [], []
    for element in node.iterchildren(OAI + "record"):
        try:
            records.append(_record(element))
        except (ValueError, KeyError, TypeError) as exc:
            ident = element.findtext(f"{OAI}header/{OAI}identifier") or "?"
            problems.append(f"{ident}: {exc}")
    token, size = _token(node)
    return OaiPage(tuple(records), token, tuple(problems), size)


def _document(body: bytes, url: str) -> Any:
    root = safe_xml(body, url)
    if root.tag != OAI + "OAI-PMH":
        raise IncompleteResponseError(f"not an OAI-PMH answer (root {str(root.tag)[:80]})", url=url)
    return root


def _verb_node(root: Any, verb: str, url: str) -> Any:
    error = root.find(OAI + "error")
    if error is not None:
        code = error.get("code") or "unknown"
        message = " ".join((error.text or "").split())
        raise OaiProtocolError(code, message, url=url)
    node = root.find(OAI + verb)
    if node is None:
        raise IncompleteResponseError(f"the answer has no <{verb}>", url=url)
    return node


def _token(node: Any) -> tuple[str | None, int | None]:
    element = node.find(OAI + "resumptionToken")
    if element is None:
        return None, None
    size = element.get("completeListSize")
    token = (element.text or "").strip()
    return token or None, int(size) if size and size.isdigit() else None


def _record(element: Any) -> OaiRecord:
    header = element.find(OAI + "header")
    ident = (header.findtext(OAI + "identifier") or "").strip()
    arxiv_id = ident.removeprefix("oai:arXiv.org:")
    if not arxiv_id:
        raise ValueError("no identifier")
    datestamp = date.fromisoformat((header.findtext(OAI + "datestamp") or "").strip()[:10])
    sets = tuple((s.text or "").strip() for s in header.iterchildren(OAI + "setSpec"))
    if header.get("status") == "deleted":
        return OaiRecord(arxiv_id, datestamp, sets, deleted=True)
    metadata = element.find(OAI + "metadata")
    raw = metadata.find(RAW + "arXivRaw") if metadata is not None else None
    if raw is not None:
        return _raw_record(raw, arxiv_id, datestamp, sets)
    plain = metadata.find(ARXIV + "arXiv") if metadata is not None else None
    if plain is not None:
        return _arxiv_record(plain, arxiv_id, datestamp, sets)
    raise ValueError("no arXivRaw or arXiv metadata")


def _raw_record(node: Any, arxiv_id: str, datestamp: date, sets: tuple[str, ...]) -> OaiRecord:
    versions = tuple(sorted((_version(v) for v in node.iterchildren(RAW + "version")),
                            key=lambda v: v.version))  # fmt: skip
    if not versions:
        raise ValueError("no <version>")
    authors = parse_raw_authors(_text(node, RAW + "authors") or "")
    doi = _text(node, RAW + "doi")
    entry = _entry(node, RAW, arxiv_id, versions[-1].version, versions[0].submitted,
                   versions[-1].submitted, authors)  # fmt: skip
    submitter = _text(node, RAW + "submitter")
    return OaiRecord(
        arxiv_id, datestamp, sets, entry, versions,
        submitter=decode_tex(submitter) if submitter else None,
        license=_text(node, RAW + "license"),
        dois=tuple(doi.split()) if doi else (),
    )  # fmt: skip


def _arxiv_record(node: Any, arxiv_id: str, datestamp: date, sets: tuple[str, ...]) -> OaiRecord:
    created = _midnight(_text(node, ARXIV + "created"))
    updated = (
        _midnight(_text(node, ARXIV + "updated")) if _text(node, ARXIV + "updated") else created
    )
    authors = tuple(_arxiv_author(a) for a in node.iterfind(f"{ARXIV}authors/{ARXIV}author"))
    doi = _text(node, ARXIV + "doi")
    entry = _entry(node, ARXIV, arxiv_id, None, created, updated, authors)
    return OaiRecord(
        arxiv_id, datestamp, sets, entry,
        license=_text(node, ARXIV + "license"), dois=tuple(doi.split()) if doi else (),
    )  # fmt: skip


def _arxiv_author(node: Any) -> Author:
    parts = [_text(node, ARXIV + tag) for tag in ("forenames", "keyname", "suffix")]
    name = decode_tex(" ".join(p for p in parts if p))
    affiliations = tuple(decode_tex(a.text or "") for a in node.iterchildren(ARXIV + "affiliation"))
    return Author(name, affiliations)


def _entry(
    node: Any, ns: str, arxiv_id: str, version: int | None,
    published: datetime, updated: datetime, authors: tuple[Author, ...],
) -> RawEntry:  # fmt: skip
    categories = tuple((_text(node, ns + "categories") or "").split())
    if not categories:
        raise ValueError("no categories")
    suffix = f"v{version}" if version is not None else ""
    return RawEntry(
        entry_id=f"{ABS}{arxiv_id}{suffix}",
        title=_text(node, ns + "title") or "",
        summary=_text(node, ns + "abstract") or "",
        published=published,
        updated=updated,
        authors=authors,
        primary_category=categories[0],
        categories=categories,
        comment=_text(node, ns + "comments"),
        journal_ref=_text(node, ns + "journal-ref"),
        doi=_text(node, ns + "doi"),
    )


def _version(node: Any) -> PaperVersion:
    label = (node.get("version") or "").strip()
    if not label.startswith("v") or not label[1:].isdigit():
        raise ValueError(f"version {label!r}")
    submitted = parsedate_to_datetime(_text(node, RAW + "date") or "")
    if submitted.tzinfo is None:
        submitted = submitted.replace(tzinfo=UTC)
    size = _SIZE.match(_text(node, RAW + "size") or "")
    return PaperVersion(int(label[1:]), submitted.astimezone(UTC), int(size[1]) if size else None)


def _midnight(text: str | None) -> datetime:
    return datetime.combine(date.fromisoformat((text or "").strip()), datetime.min.time(), UTC)


def _text(node: Any, tag: str) -> str | None:
    child = node.find(tag)
    return child.text if child is not None and child.text is not None else None


def _day(text: str, url: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise IncompleteResponseError(f"not a date: {text[:40]!r}", url=url) from None
