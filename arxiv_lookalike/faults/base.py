"""The fault machinery: the :class:`Fault` interface, its context, and the script queue."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from arxiv_lookalike.atom import FeedPage
from arxiv_lookalike.corpus import CorpusPaper
from arxiv_lookalike.exchange import Reply, RequestRecord

__all__ = [
    "Chain",
    "Fault",
    "FaultContext",
    "FaultScript",
    "Predicate",
    "ScriptedFault",
    "first_page",
    "later_pages",
]


@dataclass(frozen=True, slots=True)
class FaultContext:
    """What a fault may look at: the request, the clock, the full result list, the page.

    ``page`` is the page about to be served (an empty echo when the request itself was
    refused, in which case ``error`` holds the API's message).
    """

    request: RequestRecord
    now: datetime
    query_url: str
    results: tuple[CorpusPaper, ...]
    page: FeedPage
    error: str | None = None


class Fault:
    """Base of all faults; the defaults change nothing."""

    kind: ClassVar[str] = "none"

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        return page

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        return reply


@dataclass(frozen=True)
class Chain(Fault):
    """Several faults on one request, applied in order (e.g. legacy format + short page)."""

    kind: ClassVar[str] = "chain"
    faults: tuple[Fault, ...]

    def shape_page(self, page: FeedPage, ctx: FaultContext) -> FeedPage:
        for fault in self.faults:
            page = fault.shape_page(page, replace(ctx, page=page))
        return page

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        for fault in self.faults:
            reply = fault.shape_reply(reply, ctx)
        return reply


Predicate = Callable[[RequestRecord], bool]


def later_pages(request: RequestRecord) -> bool:
    """``when`` filter: requests for a page after the first (``start > 0``)."""
    return request.start > 0


def first_page(request: RequestRecord) -> bool:
    """``when`` filter: requests for the first page (``start == 0``)."""
    return request.start == 0


def _predicate(when: Predicate | Mapping[str, str] | None) -> Predicate:
    if when is None:
        return lambda request: True
    if isinstance(when, Mapping):
        wanted = {key: str(value) for key, value in when.items()}
        return lambda request: all(request.params.get(k) == v for k, v in wanted.items())
    return when


@dataclass
class ScriptedFault:
    """A queued fault; ``applied`` counts the requests it has been applied to so far."""

    fault: Fault
    times: int | None
    when: Predicate
    applied: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times


class FaultScript:
    """The server's queue of faults (thread-safe). ``history`` lists the kinds applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[ScriptedFault] = []
        self.history: list[str] = []

    def add(
        self,
        fault: Fault,
        times: int | None = 1,
        when: Predicate | Mapping[str, str] | None = None,
    ) -> ScriptedFault:
        """Apply ``fault`` to the next ``times`` requests accepted by ``when`` (a predicate
        on :class:`RequestRecord`, or a mapping of parameters that must be equal)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        scripted = ScriptedFault(fault, times, _predicate(when))
        with self._lock:
            self._queue.append(scripted)
        return scripted

    def take(self, request: RequestRecord) -> Fault | None:
        """The fault for ``request`` (used up by one), or ``None``."""
        with self._lock:
            for scripted in self._queue:
                if scripted.when(request):
                    scripted.applied += 1
                    if scripted.exhausted:
                        self._queue.remove(scripted)
                    self.history.append(scripted.fault.kind)
                    return scripted.fault
        return None

    def pending(self) -> tuple[ScriptedFault, ...]:
        with self._lock:
            return tuple(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)
