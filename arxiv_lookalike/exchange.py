"""The two halves of one HTTP exchange: the request as logged, the reply as planned.

A :class:`Reply` is a plan, not bytes on the wire: besides status, headers and body it
carries transport directives (stall first, send nothing, stop after ``cut_at`` body bytes,
close with a TCP reset) that the server carries out. Faults build or reshape replies;
only :mod:`arxiv_lookalike.server` touches sockets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from arxiv_lookalike.atom import (
    FeedPage,
    render_error,
    render_feed,
    render_legacy_error,
    render_legacy_feed,
)

__all__ = ["ATOM_CONTENT_TYPE", "Headers", "Reply", "RequestRecord", "feed_reply", "text_reply"]

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"


class Headers(Mapping[str, str]):
    """Request headers, looked up case-insensitively (``headers["user-agent"]`` and
    ``headers.get("User-Agent")`` agree); iteration yields the names as sent."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._items = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the server saw it: ``time`` is ``time.monotonic()`` at arrival,
    ``params`` the decoded query (first value of each), ``headers`` case-insensitive,
    ``status`` what was sent (``None``: nothing, e.g. a stall that ended in a close),
    ``seconds`` how long the server took to search and render the reply (what a benchmark
    takes away from a client's wall time to get the client's own time), ``ended`` the
    ``time.monotonic()`` at which the reply was written out (``None`` while it is being
    written, or when the connection failed first): with ``time``, whether two requests
    overlapped."""

    time: float
    method: str
    path: str
    query: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    status: int | None = None
    seconds: float = 0.0
    ended: float | None = None

    @property
    def start(self) -> int:
        """The ``start`` parameter (0 when absent or not an integer)."""
        return _int_or(self.params.get("start"), 0)

    @property
    def max_results(self) -> int:
        return _int_or(self.params.get("max_results"), 10)


def _int_or(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send. ``content_length=None`` means no header and close after the body;
    ``drip`` is a pause (seconds) after each chunk of an iterable body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | Iterable[bytes] = b""
    content_length: int | None = None
    stall: float = 0.0
    send: bool = True
    cut_at: int | None = None
    reset: bool = False
    pause_before_close: float = 0.0
    drip: float = 0.0
    #: a slow loris: ``(where, interval, seconds)`` with ``where`` "headers" (a header
    #: line one byte at a time) or "chunk-size" (a chunked body whose first chunk-size
    #: line never ends), each byte ``interval`` apart, for ``seconds``, then close
    trickle: tuple[str, float, float] | None = None

    @classmethod
    def of(cls, status: int, body: bytes, content_type: str, *extra: tuple[str, str]) -> Reply:
        """A complete reply with ``Content-Type`` and ``Content-Length``."""
        headers = (("Content-Type", content_type), *extra)
        return cls(status, headers, body, len(body))

    @property
    def body_bytes(self) -> bytes:
        """The body as bytes (joins a streamed body: avoid for huge ones)."""
        return self.body if isinstance(self.body, bytes) else b"".join(self.body)


def text_reply(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply.of(status, text.encode("utf-8"), content_type)


def feed_reply(page: FeedPage, error: str | None, now: datetime, *, legacy: bool) -> Reply:
    """The normal answer: a feed (200), an error feed (400; legacy: 200)."""
    if error is None:
        body = render_legacy_feed(page, now) if legacy else render_feed(page, now)
        return Reply.of(200, body, ATOM_CONTENT_TYPE)
    if legacy:
        return Reply.of(200, render_legacy_error(error, page, now), ATOM_CONTENT_TYPE)
    return Reply.of(400, render_error(error, now), ATOM_CONTENT_TYPE)
