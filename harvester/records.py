"""Plain records that cross module boundaries.

``RawEntry`` is what :mod:`harvester.source` hands out: one feed entry, faithful to
the wire (no vendor types). ``Paper`` is what :mod:`harvester.normalise` makes of it:
canonical id and version, collapsed whitespace, UTC datetimes, primary category first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RawAuthor:
    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One ``<entry>`` of an API page, as the feed wrote it."""

    entry_id: str
    title: str
    summary: str
    published: datetime
    updated: datetime
    authors: tuple[RawAuthor, ...]
    primary_category: str
    categories: tuple[str, ...]
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Paper:
    """A normalised paper: what the store keeps, keyed on ``arxiv_id``."""

    arxiv_id: str
    version: int
    title: str
    summary: str
    published: datetime
    updated: datetime
    authors: tuple[Author, ...]
    primary_category: str
    categories: tuple[str, ...]
    comment: str | None
    journal_ref: str | None
    doi: str | None
    withdrawn: bool
