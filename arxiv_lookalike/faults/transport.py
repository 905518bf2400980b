"""Faults at the transport: cut bodies, TCP resets, stalls (the server carries them out)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from arxiv_lookalike.exchange import Reply
from arxiv_lookalike.faults.base import Fault, FaultContext

__all__ = ["Drip", "Reset", "Stall", "Trickle", "Truncate"]


@dataclass(frozen=True)
class Truncate(Fault):
    """Send only part of the body, then close.

    ``n_bytes`` (else ``fraction`` of the body) is how much gets through. With
    ``keep_length`` the full ``Content-Length`` is announced (clients notice: incomplete
    read); without it there is no ``Content-Length`` and the cut body *looks* complete,
    which only a completeness check (the body must end in ``</feed>``) catches.
    """

    kind: ClassVar[str] = "truncate"
    fraction: float = 0.5
    n_bytes: int | None = None
    keep_length: bool = True

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        body = reply.body_bytes
        cut = self.n_bytes if self.n_bytes is not None else int(len(body) * self.fraction)
        if self.keep_length:
            return replace(reply, body=body, content_length=len(body), cut_at=cut)
        return replace(reply, body=body[:cut], content_length=None)


@dataclass(frozen=True)
class Reset(Fault):
    """Send the headers and ``fraction`` of the body, wait ``pause`` seconds (so the client
    has read them), then abort the connection with a TCP reset (``SO_LINGER`` 0)."""

    kind: ClassVar[str] = "reset"
    fraction: float = 0.5
    pause: float = 0.05

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        body = reply.body_bytes
        cut = int(len(body) * self.fraction)
        return replace(
            reply,
            body=body,
            content_length=len(body),
            cut_at=cut,
            reset=True,
            pause_before_close=self.pause,
        )


@dataclass(frozen=True)
class Drip(Fault):
    """Send the body ``piece`` bytes at a time, ``interval`` seconds apart: each read
    succeeds within a read timeout, yet the whole body takes very long (a slow loris)."""

    kind: ClassVar[str] = "drip"
    interval: float
    piece: int = 64

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        body = reply.body_bytes
        pieces = [body[i : i + self.piece] for i in range(0, len(body), self.piece)]
        return replace(reply, body=pieces, content_length=len(body), drip=self.interval)


@dataclass(frozen=True)
class Trickle(Fault):
    """A slow loris one byte at a time: ``where`` is "headers" (a header line that never
    ends) or "chunk-size" (a chunked body whose chunk-size line never ends). Every byte
    comes within a read timeout; only a total deadline ends the request."""

    kind: ClassVar[str] = "trickle"
    where: str = "chunk-size"
    interval: float = 0.2
    seconds: float = 30.0

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        return replace(reply, trickle=(self.where, self.interval, self.seconds))


@dataclass(frozen=True)
class Stall(Fault):
    """Read the request, then send nothing for ``seconds`` (a hung keep-alive connection).

    Afterwards the connection is closed without a response, or, with ``then_respond``,
    the normal response is sent late. Server shutdown interrupts a stall.
    """

    kind: ClassVar[str] = "stall"
    seconds: float
    then_respond: bool = False

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        return replace(reply, stall=self.seconds, send=self.then_respond)
