"""The look-alike's HTTP server: real sockets on 127.0.0.1, arXiv semantics, scripted faults.

``/api/query`` answers like ``export.arxiv.org/api/query`` (GET, or POST with a form body);
``/http/api/query`` answers 301 to ``/api/query`` with the same query, as plain http does on
arXiv; ``/a/{id}.atom2`` is the author identifier feed of ``id`` (an author identifier or
ORCID iD among the corpus papers' ``claimants``; 404 for one nobody has,
:mod:`arxiv_lookalike.authorfeed`); ``/orcid/{orcid}/works`` is the public ORCID record of
an ORCID iD among them (:mod:`arxiv_lookalike.orcid`); ``/oai`` is the OAI-PMH endpoint
over the same corpus (:mod:`arxiv_lookalike.oai`); anything else is 404. Scripted faults
apply to the feeds as to the query API. HTTP/1.1 with ``Content-Length``, so keep-alive
works.

Each connection is served by a daemon thread. :meth:`LookalikeServer.stop` sets a stop
event (which ends stalls early), shuts the listening socket and every open connection, and
waits briefly for the handlers, so shutting down never hangs on a stalled request.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from arxiv_lookalike.atom import FeedPage, entry_view
from arxiv_lookalike.authorfeed import AUTHOR_FEED, render_author_feed
from arxiv_lookalike.corpus import Corpus, CorpusPaper, seed_corpus
from arxiv_lookalike.exchange import (
    ATOM_CONTENT_TYPE,
    Headers,
    Reply,
    RequestRecord,
    feed_reply,
    text_reply,
)
from arxiv_lookalike.faults import Fault, FaultContext, FaultScript
from arxiv_lookalike.oai import OAI_PATH, OaiService
from arxiv_lookalike.orcid import JSON_CONTENT_TYPE, ORCID_WORKS, render_missing, render_works
from arxiv_lookalike.search import ApiError, IndexedSearch, SearchRequest

__all__ = ["LEGACY_HTTP_PATH", "QUERY_PATH", "LookalikeServer"]

logger = logging.getLogger(__name__)

QUERY_PATH = "/api/query"
LEGACY_HTTP_PATH = "/http/api/query"
IDLE_TIMEOUT = 30.0
"""Seconds an idle keep-alive connection is kept open."""
OAI_CONTENT_TYPE = "text/xml; charset=utf-8"
_SHUTDOWN_GRACE = 2.0
_SERVER_ERROR_HTML = (
    "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
    "<body><h1>Internal Server Error</h1></body></html>\n"
)


class LookalikeServer:
    """An arXiv API look-alike serving ``corpus`` over real HTTP.

    ::

        with LookalikeServer(seed_corpus()) as srv:
            client.query_url_format = srv.url + "?{}"
            srv.faults.add(Status(503))

    ``legacy`` switches every response to the legacy format; ``clock`` (returning an aware
    datetime) stamps the feeds' ``updated``.
    """

    def __init__(
        self,
        corpus: Corpus | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        legacy: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.corpus = corpus if corpus is not None else seed_corpus()
        self.faults = FaultScript()
        self.legacy = legacy
        self._search = IndexedSearch()
        #: the OAI-PMH endpoint (``srv.oai.page_size``, ``expire_tokens()``, ``shape``)
        self.oai = OaiService(self.corpus, base_url=lambda: self.oai_url)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._address = (host, port)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._requests: list[RequestRecord] = []
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> LookalikeServer:
        """Bind and serve in a background thread; returns ``self``."""
        if self._httpd is not None:
            raise RuntimeError("the look-alike server is already running")
        self._stop.clear()
        self._httpd = _HTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lookalike-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("arXiv look-alike serving %d papers at %s", len(self.corpus), self.url)
        return self

    def stop(self) -> None:
        """Stop serving: ends stalls, closes every connection, waits briefly for handlers."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        with self._lock:
            for connection in self._connections:
                _quietly(connection.shutdown, socket.SHUT_RDWR)
            self._idle.wait_for(lambda: not self._connections, timeout=_SHUTDOWN_GRACE)
        self._httpd = self._thread = None

    def __enter__(self) -> LookalikeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the look-alike server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def url(self) -> str:
        """The query endpoint, ``http://HOST:PORT/api/query``."""
        return self.base_url + QUERY_PATH

    @property
    def oai_url(self) -> str:
        """The OAI-PMH endpoint, ``http://HOST:PORT/oai``."""
        return self.base_url + OAI_PATH

    # --- request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, in order of arrival (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- answering -----------------------------------------------------------------------

    def respond(self, method: str, target: str, headers: Headers, form: str = "") -> Reply:
        """Plan the reply to one request (``target`` is path plus query) and log it."""
        return self._answer(method, target, headers, form)[0]

    def _answer(
        self, method: str, target: str, headers: Headers, form: str
    ) -> tuple[Reply, RequestRecord]:
        arrived = time.monotonic()
        parts = urlsplit(target)
        query = "&".join(part for part in (parts.query, form) if part)
        params = {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}
        record = RequestRecord(arrived, method, parts.path, query, params, headers)
        if parts.path == QUERY_PATH:
            reply = self._query_reply(record)
        elif (feed := AUTHOR_FEED.fullmatch(parts.path)) is not None:
            reply = self._author_feed_reply(record, feed.group("id"))
        elif (works := ORCID_WORKS.fullmatch(parts.path)) is not None:
            reply = self._orcid_reply(record, works.group("orcid"))
        elif parts.path == OAI_PATH:
            reply = self._oai_reply(record)
        elif parts.path == LEGACY_HTTP_PATH:
            location = f"{self.url}?{query}" if query else self.url
            reply = replace(
                text_reply(301, f"Moved to {location}\n"), headers=(("Location", location),)
            )
        else:
            reply = text_reply(404, "Not Found\n")
        status = reply.status if reply.send else None
        done = replace(record, status=status, seconds=time.monotonic() - arrived)
        with self._lock:
            self._requests.append(done)
        return reply, done

    def _ended(self, record: RequestRecord) -> None:
        """Stamp ``record`` (logged by :meth:`_answer`) with the moment its reply was out."""
        ended = time.monotonic()
        with self._lock:
            for index in range(len(self._requests) - 1, -1, -1):
                if self._requests[index] is record:
                    self._requests[index] = replace(record, ended=ended)
                    return

    def _query_reply(self, record: RequestRecord) -> Reply:
        now = self._clock()
        fault = self.faults.take(record)
        results: tuple[CorpusPaper, ...] = ()
        error: ApiError | None = None
        try:
            request = SearchRequest.from_params(record.params)
        except ApiError as exc:
            page, error = _echo(record), exc
        else:
            found = self._search(self.corpus, request)
            page, results = found.page(), found.papers
        message = error.message if error is not None else None
        ctx = FaultContext(record, now, self.url, results, page, message)
        if fault is not None and error is None:
            page = fault.shape_page(page, ctx)
            ctx = replace(ctx, page=page)
        if error is not None and error.status == 500:
            reply = text_reply(500, _SERVER_ERROR_HTML, "text/html; charset=utf-8")
        else:
            reply = feed_reply(page, message, now, legacy=self.legacy)
        return _apply(fault, reply, ctx)

    def _author_feed_reply(self, record: RequestRecord, ident: str) -> Reply:
        """The papers ``ident`` claimed (404 when nobody has that identifier); a scripted
        fault reshapes the reply as it would a query's."""
        now = self._clock()
        fault = self.faults.take(record)
        claimed = self.corpus.claimed_by(ident)
        if claimed is None:
            reply = text_reply(404, f"Author {ident} not found\n")
        else:
            reply = Reply.of(200, render_author_feed(ident, claimed, now), ATOM_CONTENT_TYPE)
        entries = tuple(entry_view(p) for p in claimed or ())
        page = FeedPage("", "", 0, len(entries), len(entries), entries)
        ctx = FaultContext(record, now, self.base_url + record.path, claimed or (), page)
        return _apply(fault, reply, ctx)

    def _orcid_reply(self, record: RequestRecord, orcid: str) -> Reply:
        """The public ORCID record's works of ``orcid`` (JSON; 404 when nobody has it)."""
        fault = self.faults.take(record)
        claimed = self.corpus.claimed_by(orcid)
        if claimed is None:
            reply = Reply.of(404, render_missing(orcid), JSON_CONTENT_TYPE)
        else:
            reply = Reply.of(200, render_works(orcid, claimed), JSON_CONTENT_TYPE)
        page = FeedPage("", "", 0, 0, 0, ())
        ctx = FaultContext(record, self._clock(), self.base_url + record.path, (), page)
        return _apply(fault, reply, ctx)

    def _oai_reply(self, record: RequestRecord) -> Reply:
        """An OAI-PMH answer (errors too are HTTP 200); scripted faults apply as to queries."""
        now = self._clock()
        fault = self.faults.take(record)
        reply = Reply.of(200, self.oai.answer(record.params, now), OAI_CONTENT_TYPE)
        ctx = FaultContext(record, now, self.oai_url, (), FeedPage("", "", 0, 0, 0))
        return _apply(fault, reply, ctx)

    # --- connection bookkeeping (called from handler threads) ----------------------------

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)
            self._idle.notify_all()

    def _mark_reset(self, connection: socket.socket) -> None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._lock:
            self._resets.add(connection)

    def _take_reset(self, connection: socket.socket) -> bool:
        with self._lock:
            if connection in self._resets:
                self._resets.discard(connection)
                return True
            return False

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` unless the server stops first."""
        if seconds > 0:
            self._stop.wait(seconds)


def _apply(fault: Fault | None, reply: Reply, ctx: FaultContext) -> Reply:
    return reply if fault is None else fault.shape_reply(reply, ctx)


def _echo(record: RequestRecord) -> FeedPage:
    params = record.params
    return FeedPage(
        params.get("search_query", ""),
        params.get("id_list", ""),
        record.start,
        record.max_results,
        0,
    )


def _quietly(action: Callable[..., object], *args: Any) -> None:
    with contextlib.suppress(OSError):
        action(*args)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its owner, logs quietly and can close with RST."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], owner: LookalikeServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("look-alike connection %s ended with an error", client_address, exc_info=True)

    def shutdown_request(self, request: Any) -> None:
        if isinstance(request, socket.socket) and self.owner._take_reset(request):
            self.close_request(request)  # no FIN first: SO_LINGER 0 makes close send RST
        else:
            super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    """Thin: reads a request, asks the owner for a :class:`Reply`, carries it out."""

    protocol_version = "HTTP/1.1"
    server_version = "arxiv-lookalike/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stall
    timeout = IDLE_TIMEOUT
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._untrack(self.connection)

    def do_GET(self) -> None:
        self._serve("")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length).decode("utf-8", "replace"))

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("look-alike %s: " + format, self.address_string(), *args)

    def _serve(self, form: str) -> None:
        owner = self.server.owner
        headers = Headers(self.headers.items())
        reply, record = owner._answer(self.command, self.path, headers, form)
        owner._wait(reply.stall)
        if not reply.send or owner._stop.is_set():
            self.close_connection = True
            return
        if reply.trickle is not None:
            self._trickle(reply, *reply.trickle)
            return
        self._send(reply)
        owner._ended(record)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.content_length is None:
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(reply.content_length))
        self.end_headers()
        self._write_body(reply)

    def _trickle(self, reply: Reply, where: str, interval: float, seconds: float) -> None:
        """One byte every ``interval``: each read succeeds within any read timeout, yet
        the headers, or the first chunk-size line, never end."""
        self.close_connection = True
        self.send_response(reply.status)
        if where == "chunk-size":
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        else:
            self.flush_headers()
            self.wfile.write(b"X-Slow: ")
        owner = self.server.owner
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not owner._stop.is_set():
            try:
                self.wfile.write(b"0" if where == "chunk-size" else b"a")
                self.wfile.flush()
            except OSError:
                return
            owner._wait(interval)

    def _write_body(self, reply: Reply) -> None:
        budget = reply.cut_at
        chunks: Iterable[bytes] = [reply.body] if isinstance(reply.body, bytes) else reply.body
        for chunk in chunks:
            piece = chunk if budget is None else chunk[:budget]
            self.wfile.write(piece)
            self.server.owner._wait(reply.drip)
            if budget is not None:
                budget -= len(piece)
                if budget <= 0:
                    break
        if reply.cut_at is not None:
            self.close_connection = True
            self.server.owner._wait(reply.pause_before_close)
            if reply.reset:
                self.server.owner._mark_reset(self.connection)
