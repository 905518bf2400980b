"""The HTTP layer: pacing, timeouts, size cap, completeness.

``arxiv.Client``'s public API sets no timeout, retries on its own, hides ``Retry-After``
and paces per object, so the transport is ours: :class:`GuardedSession`, whose
``fetch()``:

* waits for the :class:`Pacer` (one request start per ``delay_seconds``);
* applies a connect/read timeout to every socket operation and a total deadline
  (``3 x timeout_seconds``) to the whole exchange: connecting, the headers and the body,
  chunked or not. The exchange runs in a worker thread that the caller waits for no
  longer than the deadline; past it the connection is shut down and the request fails,
  so a server that drips bytes just under the read timeout (even inside a chunk-size
  line, where no read returns) cannot hold the request, or the pacer's turn, longer;
* refuses bodies over ``max_bytes`` without buffering them (the declared
  ``Content-Length`` first, then a running count), and bodies whose prolog
  declares a DOCTYPE or entities;
* turns every non-200 answer and every transport failure into our own errors,
  so no ``requests``, ``urllib3`` or ``arxiv`` exception escapes this package;
* checks the body looks like a complete Atom feed (a ``<feed`` root, ending in
  ``</feed>``); :mod:`harvester.source.feed` then parses it strictly;
* hands out our own :class:`Answer` (final URL, checked body), never a ``requests``
  object: the body is read by us, so no response is patched to carry it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from ..errors import (
    ConnectionFailedError,
    FetchError,
    HostileResponseError,
    HTTPStatusError,
    IncompleteResponseError,
    QueryRejectedError,
    ResponseTooLargeError,
    UnreachableError,
)
from ..pacer import Pacer

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses worth asking again; every other non-200 answer is the query's fault."""

ERROR_BODY_LIMIT = 64 * 1024
"""How much of a non-200 body we read to find arXiv's error message."""

CHUNK_SIZE = 64 * 1024
DEADLINE_SLACK_SECONDS = 0.5
"""How much past the deadline the caller waits for the exchange's own deadline check."""
MAX_REDIRECTS = 3
"""arXiv redirects http to https once; more than a few hops is not arXiv."""

_FEED_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?feed[\s>/]")
_ERROR_SUMMARY = re.compile(rb"<(?:\w+:)?summary[^>]*>(.*?)</(?:\w+:)?summary>", re.S)
_FEED_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?feed>\s*$")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_message(body: bytes) -> str | None:
    """The message of an arXiv error feed (its ``<summary>``), if the body is one."""
    if b"/api/errors" not in body:
        return None
    match = _ERROR_SUMMARY.search(body)
    if match is None:
        return "arXiv reported an error"
    return " ".join(match.group(1).decode("utf-8", "replace").split())


BodyCheck = Callable[[bytes, str], None]
"""Vets a complete body before anything parses it (raises our own error)."""
_OAI_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?OAI-PMH[\s>/]")
_OAI_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?OAI-PMH>\s*$")


def check_oai(body: bytes, url: str) -> None:
    """An ``OAI-PMH`` root, no DTD or entity declaration, the closing tag at the end."""
    _check_document(body, url, (_OAI_ROOT, _OAI_END), "OAI-PMH answer", "<OAI-PMH>")


def _check_document(
    body: bytes, url: str, tags: tuple[re.Pattern[bytes], re.Pattern[bytes]], what: str, root: str
) -> None:
    """A complete body of ``what`` (an Atom feed, an OAI-PMH answer): its ``root``
    element opened (``tags[0]``) with no DTD before it and no entity declared anywhere, and
    closed at the end (``tags[1]``): a cut answer or a hostile one is refused before any
    parser sees it."""
    opening, closing = tags
    found = opening.search(body)
    if found is None:
        raise IncompleteResponseError(
            f"response is not an {what} ({len(body)} bytes, no {root} element)", url=url
        )
    if b"<!DOCTYPE" in body[: found.start()] or b"<!ENTITY" in body:
        raise HostileResponseError("response declares a DOCTYPE or entities", url=url)
    if not closing.search(body[-256:]):
        raise IncompleteResponseError(
            f"response is not a complete {what} ({len(body)} bytes)", url=url
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """One complete, checked answer: the URL it came from (after redirects) and its body."""

    url: str
    body: bytes


class GuardedSession:
    """HTTP GETs (through a ``requests.Session`` of its own) that never hang, never
    over-read and never lie.

    ``request_count`` counts requests sent; a redirect (at most ``MAX_REDIRECTS``,
    followed here so that its body is read within bounds too) is part of its request.
    """

    def __init__(
        self,
        *,
        pacer: Pacer,
        timeout_seconds: float,
        max_bytes: int,
        user_agent: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = requests.Session()
        self.pacer = pacer
        self.timeout_seconds = timeout_seconds
        self.deadline_seconds = 3 * timeout_seconds
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.request_count = 0
        self._clock = clock
        #: the response being read, for :meth:`_abandon`
        self._current: requests.Response | None = None

    def fetch(self, url: str, *, check: BodyCheck | None = None) -> Answer:
        """GET ``url`` paced and bounded; its body read whole and checked as a feed (or by
        ``check``: an OAI-PMH answer, :func:`check_oai`)."""
        answer = self.fetch_body(url)
        (check or self._check_feed)(answer.body, answer.url)
        return answer

    def fetch_body(self, url: str, accept: str | None = None) -> Answer:
        """GET ``url`` paced and bounded, its body read whole (the caller checks it);
        ``accept``: the ``Accept`` header (ORCID answers JSON when asked for it)."""
        headers = {"User-Agent": self.user_agent, **({"Accept": accept} if accept else {})}
        kwargs: dict[str, Any] = {
            "headers": headers,
            "timeout": self.timeout_seconds,
            "stream": True,
            "allow_redirects": False,
        }
        with self.pacer.turn():  # the whole exchange, redirects and body included
            self.request_count += 1
            body, url = self._within_deadline("GET", url, **kwargs)
        return Answer(url, body)

    def close(self) -> None:
        """Close the pooled connections (a later fetch opens new ones)."""
        self._http.close()

    def _within_deadline(
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> tuple[bytes, str]:
        """:meth:`_exchange` in a worker thread, waited for at most the deadline."""
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                outcome["value"] = self._exchange(method, url, *args, **kwargs)
            except BaseException as exc:  # handed to the caller's thread as it is
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="arxiv-request", daemon=True).start()
        if not done.wait(self.deadline_seconds + DEADLINE_SLACK_SECONDS):
            self._abandon()
            raise ConnectionFailedError(
                f"no complete answer within {self.deadline_seconds:g} s", url=url
            )
        if "error" in outcome:
            raise outcome["error"]
        value: tuple[bytes, str] = outcome["value"]
        return value

    def _abandon(self) -> None:
        """Shut the connection of an exchange past its deadline, so its worker's blocked
        read ends, and drop the pooled connections."""
        response = self._current
        connection = getattr(response.raw, "connection", None) if response is not None else None
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.close()

    def _exchange(self, method: str, url: str, *args: Any, **kwargs: Any) -> tuple[bytes, str]:
        """Send, follow redirects, read the body within bounds: the body and the final URL."""
        started = self._clock()
        response = self._send(method, url, *args, **kwargs)
        for _ in range(MAX_REDIRECTS):
            if not response.is_redirect:
                break
            with response:  # drain a bounded part of the redirect's body
                self._read(response, url, started, True)
            target = urljoin(response.url, response.headers["Location"])
            if not _same_server(url, target):
                raise FetchError(
                    f"arXiv redirected to {target[:200]}, not to the same host",
                    url=url,
                    hint="only redirects to the same host (or http to https) are followed;"
                    " check [arxiv] api_url",
                )
            url = target
            response = self._send(method, url, *args, **kwargs)
        if response.is_redirect:
            response.close()
            raise FetchError(
                f"more than {MAX_REDIRECTS} redirects", url=url, hint="check [arxiv] api_url"
            )
        with response:
            if response.status_code != 200:
                raise _status_error(response, url, self._read(response, url, started, True))
            return self._read(response, url, started, False), url

    def _send(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        self._current = None
        try:
            self._current = self._http.request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            raise _transport_error(exc, url) from exc
        return self._current

    def _read(
        self, response: requests.Response, url: str, started: float, error_body: bool
    ) -> bytes:
        """Read the body within the size cap and the total deadline.

        ``read1`` returns after at most one socket read (each bounded by the read
        timeout), so the deadline is checked between reads however slowly the
        bytes arrive.
        """
        limit = ERROR_BODY_LIMIT if error_body else self.max_bytes
        declared = response.headers.get("Content-Length", "")
        if not error_body and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                f"response of {declared} bytes exceeds the cap of {limit} bytes", url=url
            )
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(CHUNK_SIZE, decode_content=True):
                size += len(chunk)
                if size > limit:
                    if error_body:
                        break
                    raise ResponseTooLargeError(
                        f"response exceeds the cap of {limit} bytes", url=url
                    )
                chunks.append(chunk)
                if self._clock() - started > self.deadline_seconds:
                    raise ConnectionFailedError(
                        f"response not complete after {self.deadline_seconds:g} s", url=url
                    )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            timeouts = TimeoutError | urllib3.exceptions.TimeoutError
            kind = "timed out" if isinstance(exc, timeouts) else "failed"
            raise ConnectionFailedError(
                f"reading the response {kind}: {type(exc).__name__}: {exc}", url=url
            ) from exc
        return b"".join(chunks)

    def _check_feed(self, body: bytes, url: str) -> None:
        """A feed root, no DTD before it, and the closing tag at the end."""
        _check_document(body, url, (_FEED_ROOT, _FEED_END), "Atom feed", "<feed>")


def _same_server(origin: str, target: str) -> bool:
    """A redirect worth following: the same host, by the same scheme or from http to
    https (what arXiv does); never to another host or another kind of URL."""
    before, after = urlsplit(origin), urlsplit(target)
    if (before.hostname or "").lower() != (after.hostname or "").lower():
        return False
    if after.scheme == before.scheme:
        return before.port == after.port
    return (before.scheme, after.scheme) == ("http", "https")


def _transport_error(exc: requests.RequestException, url: str) -> FetchError:
    """Map a ``requests`` failure to ours; certificate problems are not retried."""
    if isinstance(exc, requests.exceptions.SSLError):
        return FetchError(
            f"TLS failed: {exc}", url=url, hint="check the certificate of [arxiv] api_url"
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return QueryRejectedError(f"invalid request URL: {exc}", url=url)
    problem = _unreachable(exc)
    if problem:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2] or url
        return UnreachableError(host, problem, url=url)
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return ConnectionFailedError(f"request {kind}: {type(exc).__name__}: {exc}", url=url)


def _unreachable(exc: BaseException) -> str | None:
    """What makes the host unreachable, when ``exc`` (or what it wraps) is a name that does
    not resolve or a refused connection; None for every other failure (a timeout, a reset:
    the host exists and may answer later)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return "the name does not resolve"
        if isinstance(current, ConnectionRefusedError):
            return "the connection was refused"
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [*wrapped, *current.args]
    return None


def _status_error(response: requests.Response, url: str, body: bytes) -> FetchError:
    """A non-200 answer: retryable statuses carry Retry-After, the rest reject the query."""
    status = response.status_code
    if status in RETRYABLE_STATUSES:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return HTTPStatusError(status, url=url, retry_after=retry_after)
    message = error_message(body) or f"HTTP {status}"
    return QueryRejectedError(f"arXiv rejected the request: {message}", url=url)
