"""Faults that change the page before it is rendered: entries and ``totalResults``."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from arxiv_lookalike.atom import EntryView, FeedPage, entry_view
from arxiv_lookalike.faults.base import Fault, FaultContext

__all__ = ["BadEntry", "Duplicate", "EmptyPage", "Reorder", "ShortPage", "TotalDrift"]


@dataclass(frozen=True)
class EmptyPage(Fault):
    """A valid HTTP 200 page with the right ``totalResults`` but no entries."""

    kind: ClassVar[str] = "empty_page"

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        return replace(page, entries=())


@dataclass(frozen=True)
class ShortPage(Fault):
    """Only the first ``n`` entries of the page (``totalResults`` unchanged)."""

    kind: ClassVar[str] = "short_page"
    n: int

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        return replace(page, entries=page.entries[: self.n])


@dataclass(frozen=True)
class TotalDrift(Fault):
    """``totalResults`` off by ``delta`` (never below 0); the entries are unchanged."""

    kind: ClassVar[str] = "total_drift"
    delta: int

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        return replace(page, total_results=max(0, page.total_results + self.delta))


_BREAKERS: dict[str, Callable[[EntryView], EntryView]] = {
    "no_authors": lambda entry: replace(entry, authors=()),
    "bad_date": lambda entry: replace(entry, published="2024-13-45T25:61:00Z"),
    "no_id": lambda entry: replace(entry, entry_id=None),
    "empty_title": lambda entry: replace(entry, title=""),
}


@dataclass(frozen=True)
class BadEntry(Fault):
    """Break entry ``index`` of the page: ``damage`` is one of ``no_authors``,
    ``bad_date`` (an impossible ``published``), ``no_id``, ``empty_title``."""

    kind: ClassVar[str] = "bad_entry"
    damage: str
    index: int = 0

    def __post_init__(self) -> None:
        if self.damage not in _BREAKERS:
            raise ValueError(f"bad_entry kind must be one of {sorted(_BREAKERS)}")

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        if not page.entries:
            return page
        entries = list(page.entries)
        index = self.index % len(entries)
        entries[index] = _BREAKERS[self.damage](entries[index])
        return replace(page, entries=tuple(entries))


@dataclass(frozen=True)
class Reorder(Fault):
    """Shuffle the page's entries (seeded, and never left in the original order)."""

    kind: ClassVar[str] = "reorder"
    seed: int = 0

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        entries = list(page.entries)
        random.Random(self.seed).shuffle(entries)
        if len(entries) > 1 and tuple(entries) == page.entries:
            entries = entries[1:] + entries[:1]
        return replace(page, entries=tuple(entries))


@dataclass(frozen=True)
class Duplicate(Fault):
    """Relevance drift: the entry ``back`` places before this page (the last entry of the
    previous page by default; on the first page, its own first entry) is put first and,
    with ``keep_size``, the page's last entry falls off: a duplicate *and* a gap."""

    kind: ClassVar[str] = "duplicate"
    back: int = 1
    keep_size: bool = True

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        if not page.entries:
            return page
        earlier = page.start - self.back
        if 0 <= earlier < len(ctx.results):
            repeated = entry_view(ctx.results[earlier])
        else:
            repeated = page.entries[0]
        entries = (repeated, *page.entries)
        return replace(page, entries=entries[: len(page.entries)] if self.keep_size else entries)
