"""arXiv's public metadata snapshot: JSON lines, one record per paper (plain or gzip).

The snapshot (about 2.7 million records, 4.5 GB; the OAI-PMH ``arXiv`` metadata of every
paper as one JSON object a line) carries ``id``, ``authors`` (the raw string),
``authors_parsed`` (``[last, first, suffix, affiliation...]``, TeX already decoded),
``title``, ``abstract``, ``categories`` (space separated, primary first), ``comments``,
``journal-ref``, ``doi``, ``license``, ``versions`` (``[{"version": "v1", "created":
RFC 2822 date}, ...]``) and ``update_date`` (``YYYY-MM-DD``). :func:`snapshot_lines`
streams the lines of a file (gzip recognised by its magic bytes, never read whole);
:func:`snapshot_paper` makes one line a paper with its version history, through the same
normalisation as every other source (a record that cannot be one raises ``ValueError``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from ..normalise import normalise_entry
from ..records import Author, Paper, PaperVersion, RawEntry
from .rawauthors import decode_tex, parse_raw_authors

__all__ = ["snapshot_lines", "snapshot_paper"]

GZIP_MAGIC = b"\x1f\x8b"


def snapshot_lines(path: Path) -> Iterator[bytes]:
    """Every line of the file, decompressed as it is read."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    if gzipped:
        with gzip.open(path, "rb") as unpacked:
            yield from unpacked
    else:
        with path.open("rb") as plain:
            yield from plain


def snapshot_paper(line: bytes) -> tuple[Paper, date | None]:
    """One record: the paper (with every version's date) and its ``update_date``."""
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    arxiv_id = _text(record, "id")
    versions = _versions(record.get("versions"))
    if not arxiv_id or not versions:
        raise ValueError(f"record {arxiv_id or '?'}: no id or no versions")
    categories = tuple((record.get("categories") or "").split())
    if not categories:
        raise ValueError(f"record {arxiv_id}: no categories")
    entry = RawEntry(
        entry_id=f"http://arxiv.org/abs/{arxiv_id}v{versions[-1].version}",
        title=_text(record, "title"),
        summary=_text(record, "abstract"),
        published=versions[0].submitted,
        updated=versions[-1].submitted,
        authors=_authors(record),
        primary_category=categories[0],
        categories=categories,
        comment=record.get("comments") or None,
        journal_ref=record.get("journal-ref") or None,
        doi=record.get("doi") or None,
    )
    paper = normalise_entry(entry)
    updated = record.get("update_date")
    day = date.fromisoformat(updated) if isinstance(updated, str) and updated else None
    return replace(paper, history=versions), day


def _authors(record: dict[str, Any]) -> tuple[Author, ...]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        return tuple(_parsed_author(item) for item in parsed if isinstance(item, list) and item)
    return parse_raw_authors(_text(record, "authors"))


def _parsed_author(item: list[Any]) -> Author:
    last, first, suffix = [*map(str, item[:3]), "", "", ""][:3]
    name = " ".join(part for part in (first, last, suffix) if part.strip())
    affiliations = tuple(decode_tex(str(a)) for a in item[3:] if str(a).strip())
    return Author(decode_tex(name), affiliations)


def _versions(listed: object) -> tuple[PaperVersion, ...]:
    if not isinstance(listed, list):
        return ()
    found = []
    for item in listed:
        label = str(item.get("version", "")) if isinstance(item, dict) else ""
        if not label.startswith("v") or not label[1:].isdigit():
            raise ValueError(f"version {label!r}")
        created = parsedate_to_datetime(str(item.get("created", "")))
        created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
        found.append(PaperVersion(int(label[1:]), created.astimezone(UTC)))
    return tuple(sorted(found, key=lambda v: v.version))


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""
