"""Faults that replace the whole reply: statuses, non-feeds, odd feeds, redirects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import ClassVar

from arxiv_lookalike.atom import render_feed
from arxiv_lookalike.exchange import ATOM_CONTENT_TYPE, Reply, feed_reply, text_reply
from arxiv_lookalike.faults.base import Fault, FaultContext

__all__ = [
    "BillionLaughs",
    "Html200",
    "Huge",
    "LegacyError200",
    "LegacyFormat",
    "Raw",
    "Redirect",
    "Status",
    "Xxe",
]

_CHUNK = 64 * 1024
_FEED_TAIL = b"</feed>\n"


@dataclass(frozen=True)
class Status(Fault):
    """Answer ``code`` (429, 503, 500, 502, 408, 404, ...) instead of the feed.

    ``retry_after`` adds a ``Retry-After`` header: seconds (int), an HTTP date (str, sent
    verbatim) or an aware datetime; ``None`` sends none (arXiv's 429s usually have none).
    """

    kind: ClassVar[str] = "status"
    code: int
    retry_after: int | str | datetime | None = None
    body: str | None = None
    content_type: str = "text/plain; charset=utf-8"

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        body = self.body if self.body is not None else f"{self.code} {_phrase(self.code)}\n"
        answer = text_reply(self.code, body, self.content_type)
        if self.retry_after is None:
            return answer
        return replace(answer, headers=(*answer.headers, ("Retry-After", self._retry_after())))

    def _retry_after(self) -> str:
        if isinstance(self.retry_after, datetime):
            return format_datetime(self.retry_after.astimezone(UTC), usegmt=True)
        return str(self.retry_after)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True)
class Html200(Fault):
    """An HTML error page with HTTP 200 (a proxy or maintenance page, not a feed)."""

    kind: ClassVar[str] = "html_200"
    html: str = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><title>arXiv: service unavailable</title>'
        "</head>\n<body><h1>Service temporarily unavailable</h1>\n"
        "<p>Please try again later.</p></body>\n</html>\n"
    )

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        return text_reply(200, self.html, "text/html; charset=utf-8")


@dataclass(frozen=True)
class LegacyError200(Fault):
    """A legacy-format error feed with HTTP 200: to arxiv.py it looks like zero results.

    The message is ``message``, else the request's own API error, else an invalid-query one.
    """

    kind: ClassVar[str] = "legacy_error_200"
    message: str | None = None

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        message = self.message or ctx.error or f"Invalid query string: '{ctx.page.search_query}'"
        return feed_reply(ctx.page, message, ctx.now, legacy=True)


@dataclass(frozen=True)
class LegacyFormat(Fault):
    """Serve this response in the legacy format (errors then come with HTTP 200)."""

    kind: ClassVar[str] = "legacy_format"

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        return feed_reply(ctx.page, ctx.error, ctx.now, legacy=True)


@dataclass(frozen=True)
class Redirect(Fault):
    """Redirect (302 by default) to ``location``, default the same query on ``/api/query``.

    Used once, it sends the client round and the repeated request is answered normally.
    """

    kind: ClassVar[str] = "redirect"
    status: int = 302
    location: str | None = None

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        location = self.location or _same_query(ctx)
        answer = text_reply(self.status, f"Redirecting to {location}\n")
        return replace(answer, headers=(*answer.headers, ("Location", location)))


def _same_query(ctx: FaultContext) -> str:
    query = ctx.request.query
    return f"{ctx.query_url}?{query}" if query else ctx.query_url


@dataclass(frozen=True)
class Huge(Fault):
    """A plausible feed padded to ``n_bytes`` (entries repeated), streamed in 64 KiB chunks
    with an exact ``Content-Length`` (none with ``declare_length=False``: the client only
    learns the size by reading), so the server never holds it in memory."""

    kind: ClassVar[str] = "huge"
    n_bytes: int
    declare_length: bool = True

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        body = render_feed(ctx.page, ctx.now)
        head = body[: -len(_FEED_TAIL)]
        start = head.find(b"  <entry>")
        unit = head[start:] if start >= 0 else b"  <!-- padding -->\n"
        unit = unit[: unit.find(b"  </entry>\n") + 11] if start >= 0 else unit
        size = max(self.n_bytes, len(head) + len(_FEED_TAIL))
        stream = _padded(head, unit, size - len(head) - len(_FEED_TAIL))
        length = size if self.declare_length else None
        return Reply(200, (("Content-Type", ATOM_CONTENT_TYPE),), stream, length)


@dataclass(frozen=True)
class Raw(Fault):
    """Answer exactly ``body`` (any bytes) with ``status`` and ``content_type``."""

    kind: ClassVar[str] = "raw"
    body: bytes
    status: int = 200
    content_type: str = ATOM_CONTENT_TYPE

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        return Reply.of(self.status, self.body, self.content_type)


def _padded(head: bytes, unit: bytes, room: int) -> Iterator[bytes]:
    yield head
    block = unit * max(1, _CHUNK // len(unit))
    for piece in (block, unit):
        while room >= len(piece):
            yield piece
            room -= len(piece)
    while room > 0:
        yield b" " * min(room, _CHUNK)
        room -= min(room, _CHUNK)
    yield _FEED_TAIL


def _with_doctype(ctx: FaultContext, doctype: str, reference: str) -> Reply:
    """The page with ``doctype`` after the declaration and the first entry title (else the
    feed title) replaced by the entity ``reference``."""
    text = render_feed(ctx.page, ctx.now).decode("utf-8")
    declaration, rest = text.split("\n", 1)
    entry = rest.find("<entry>")
    opening = rest.find("<title>", max(entry, 0))
    closing = rest.find("</title>", opening) + len("</title>")
    rest = f"{rest[:opening]}<title>{reference}</title>{rest[closing:]}"
    return Reply.of(200, f"{declaration}\n{doctype}{rest}".encode(), ATOM_CONTENT_TYPE)


@dataclass(frozen=True)
class Xxe(Fault):
    """A feed whose first entry title is an external entity pointing at a local file.
    A safe parser leaves it unexpanded; an unsafe one leaks the file into the title."""

    kind: ClassVar[str] = "xxe"
    path: str = "/etc/passwd"

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        doctype = f'<!DOCTYPE feed [\n  <!ENTITY xxe SYSTEM "file://{self.path}">\n]>\n'
        return _with_doctype(ctx, doctype, "&xxe;")


@dataclass(frozen=True)
class BillionLaughs(Fault):
    """A feed whose first entry title expands to 10**depth "lol"s (exponential entities)."""

    kind: ClassVar[str] = "billion_laughs"
    depth: int = 10

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        lines = ['  <!ENTITY lol0 "lol">']
        lines += [f'  <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, self.depth)]
        doctype = "<!DOCTYPE feed [\n" + "\n".join(lines) + "\n]>\n"
        return _with_doctype(ctx, doctype, f"&lol{self.depth - 1};")
