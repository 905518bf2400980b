"""ArxivSource: the one place that asks arXiv for papers, through the ``arxiv`` package.

A search is an ``arxiv.Search`` (query or id list, sort criterion and order); its request
URL is built from that object's public attributes, with ``start`` and ``max_results``
the way the package pages. The package's ``Client`` has no timeout, size cap or
``Retry-After``, so the transport is ours (:class:`~harvester.source.transport.GuardedSession`)
and so is the strict page parser (:mod:`harvester.source.feed`), which builds
``arxiv.Result`` records with the package's public constructor.

Retries are owned here, by tenacity, one page at a time; paging resumes from the offset
already consumed. It hands out our own records (``RawEntry`` validated into ``Paper`` by
the caller's ``validate``), never ``arxiv.Result``.

A search is *complete* only when every page arrived and was valid and the distinct
papers agree with the final page's ``totalResults``; a total that moves between
pages restarts the search once (`arxiv.py#43 <https://github.com/lukasschwab/arxiv.py/issues/43>`_).
An incremental search (``since``) stops after the first page that reaches a paper
submitted before ``since``: sorted newest first, it is then complete from ``since`` on.
A page with an invalid entry is retried; if the entry stays invalid, the search goes
on without it and ends in :class:`~harvester.errors.EntriesRefusedError`, which
carries every valid paper (so nothing is lost) but is not a complete result.

Every request counts towards its endpoint's
:class:`~harvester.source.breaker.CircuitBreaker` (``breaker`` for the query API,
``feed_breaker`` for the author identifier feeds): once ``[arxiv]
max_consecutive_failures`` requests in a row to it failed, retries stop and further
requests to it raise :class:`~harvester.errors.CircuitOpenError` without a request.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import arxiv
import tenacity

from ..config import ArxivSettings
from ..errors import (
    CircuitOpenError,
    EmptyPageError,
    EntriesRefusedError,
    FetchError,
    InconsistentTotalError,
    InvalidPageError,
    QueryRejectedError,
    StopRequested,
    TooManyResultsError,
    TransientFetchError,
    UnknownAuthorError,
    UnreachableError,
    UnsortedAnswerError,
)
from ..logformat import SHOWN_ITEMS, cut
from ..pacer import Pacer
from ..records import Paper, RawEntry
from .authors import AuthorFeed, parse_author_feed
from .breaker import CircuitBreaker
from .feed import ParsedEntry, parse_page
from .orcid import OrcidRecords
from .retries import (
    RetryBudgets,
    StopIfBreakerOpen,
    StopIfRetryAfterExceeds,
    log_retry,
    retry_after,
)
from .transport import BodyCheck, GuardedSession

logger = logging.getLogger(__name__)

Validator = Callable[[RawEntry], Paper]
_T = TypeVar("_T")
_NOT_FOUND = re.compile(r"HTTP 40[04]\b|not found", re.IGNORECASE)
"""How arXiv says an author identifier does not exist: 404 (its help pages), or a 400
"Author ... not found" (arXiv/arxiv-browse raises ``BadRequest`` for it)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of validated papers and the ``totalResults`` it announced.

    ``refused`` lists ``(entry id, reason)`` of entries that stayed invalid, and
    ``refused_authors`` their author names where the entry could be read that far.
    """

    papers: tuple[Paper, ...]
    total_results: int
    refused: tuple[tuple[str, str], ...] = ()
    refused_authors: tuple[tuple[str, tuple[str, ...] | None], ...] = ()

    @property
    def size(self) -> int:
        """Entries on the page, valid or not: how far the offset moves."""
        return len(self.papers) + len(self.refused)


class _InvalidEntries(InvalidPageError):
    """A page with invalid entries; carries the page so a last attempt can keep the rest."""

    def __init__(self, page: Page, url: str) -> None:
        entry_id, reason = page.refused[0]
        more = f" (and {len(page.refused) - 1} more)" if len(page.refused) > 1 else ""
        super().__init__(f"invalid entry {cut(entry_id)}: {cut(reason, 400)}{more}", url=url)
        self.page = page


@dataclass(slots=True)
class _Bounds:
    """Where a search may stop early (``since``) or must refuse (``max_total``).

    With ``since`` the answer is sorted by last update, newest first, and checked to be:
    ``newest`` is the oldest ``updated`` seen so far, which no later entry may exceed.
    """

    since: datetime | None = None
    max_total: int | None = None
    newest: datetime | None = None

    def too_many(self, total: int, offset: int) -> bool:
        """A whole answer must fit in ``max_total``; one paged back to ``since`` only has to
        reach it before paging past ``max_total`` (the API fails past 10,000), however many
        older results the query matches."""
        if self.max_total is None:
            return False
        return total > self.max_total if self.since is None else offset >= self.max_total

    def reached(self, page: Page) -> bool:
        """Has paging newest-updated-first reached a paper updated before ``since``?"""
        return self.since is not None and any(p.updated < self.since for p in page.papers)

    def check_order(self, page: Page, url: str) -> None:
        """Raise :class:`UnsortedAnswerError` unless ``updated`` never increases."""
        if self.since is None:
            return
        for paper in page.papers:
            if self.newest is not None and paper.updated > self.newest:
                raise UnsortedAnswerError(
                    f"asked for the newest updates first, got {paper.arxiv_id} updated"
                    f" {paper.updated:%Y-%m-%d %H:%M} after one updated"
                    f" {self.newest:%Y-%m-%d %H:%M}",
                    url=url,
                )
            self.newest = paper.updated


@dataclass(slots=True)
class SearchResult:
    """Every distinct paper of a complete search, newest submission first."""

    papers: list[Paper] = field(default_factory=list)
    total_results: int = 0
    requests: int = 0


class ArxivSource:
    """Fetches complete, validated result sets from the arXiv API.

    ``pacer`` is shared by every source of a process so the request spacing
    holds across authors; ``stop_event`` cuts retry sleeps and waits short;
    ``breaker`` (default: one per source) counts consecutive failed requests to the query
    API, ``feed_breaker`` those to the author identifier feeds: one breaker per endpoint,
    so a feed host that keeps failing stops the feeds, not the queries of authors
    without one.
    """

    def __init__(
        self,
        settings: ArxivSettings,
        *,
        pacer: Pacer | None = None,
        stop_event: threading.Event | None = None,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        orcid: OrcidRecords | None = None,
    ) -> None:
        self.settings = settings
        self.orcid = orcid
        """Public ORCID records (:mod:`.orcid`), when an author's ``orcid`` is read."""
        self.stop_event = stop_event or threading.Event()
        self.pacer = pacer or Pacer(settings.delay_seconds, stop_event=self.stop_event)
        self.breaker = breaker or CircuitBreaker(settings.max_consecutive_failures)
        self.feed_breaker = CircuitBreaker(settings.max_consecutive_failures)
        self._rng = rng or random.Random()
        self._session = GuardedSession(
            pacer=self.pacer,
            timeout_seconds=settings.timeout_seconds,
            max_bytes=settings.max_response_bytes,
            user_agent=settings.user_agent,
        )

    @property
    def requests_sent(self) -> int:
        """Requests sent by this source so far (retries included), ORCID's too."""
        orcid = self.orcid.requests_sent if self.orcid is not None else 0
        return self._session.request_count + orcid

    def close(self) -> None:
        self._session.close()
        self.pacer.close()
        if self.orcid is not None:
            self.orcid.close()

    def orcid_claims(self, orcid: str) -> tuple[str, ...]:
        """The arXiv ids in ``orcid``'s public ORCID record (none without a reader)."""
        return () if self.orcid is None else self.orcid.arxiv_ids(orcid)

    def __enter__(self) -> ArxivSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset_breakers(self) -> None:
        """Close every breaker: a new cycle gets a fresh chance."""
        self.breaker.reset()
        self.feed_breaker.reset()

    def search(
        self,
        query: str,
        validate: Validator,
        *,
        since: datetime | None = None,
        max_total: int | None = None,
    ) -> SearchResult:
        """All papers for ``query``, newest submission first; complete or an error.

        ``since`` (an incremental harvest): sort by last update instead, newest first,
        and stop after the first page that reaches a paper updated before it; the
        result then holds every paper submitted or revised since. An answer out of that
        order raises :class:`~harvester.errors.UnsortedAnswerError`.
        ``max_total``: raise :class:`~harvester.errors.TooManyResultsError` at the first
        page when the query matches more papers than that.
        """
        sort_by = arxiv.SortCriterion.SubmittedDate
        if since is not None:
            sort_by = arxiv.SortCriterion.LastUpdatedDate
        search = arxiv.Search(
            query=query, max_results=None, sort_by=sort_by, sort_order=arxiv.SortOrder.Descending
        )
        return self._search(search, validate, lambda: _Bounds(since, max_total))

    def search_ids(self, ids: list[str], validate: Validator) -> SearchResult:
        """The papers named by ``ids`` (unknown ids are silently absent, as on arXiv)."""
        return self._search(arxiv.Search(id_list=ids, max_results=None), validate, _Bounds)

    def _search(
        self, search: arxiv.Search, validate: Validator, bounds: Callable[[], _Bounds]
    ) -> SearchResult:
        """Page through ``search``; restart once (with fresh ``bounds``) if ``totalResults``
        moves."""
        before = self.requests_sent
        try:
            return self._search_once(search, validate, before, bounds())
        except InconsistentTotalError:
            logger.info("totalResults moved during the search; starting over once")
        try:
            return self._search_once(search, validate, before, bounds())
        except InconsistentTotalError as exc:
            raise InconsistentTotalError(
                "totalResults kept changing between pages; the result set is incomplete",
                url=exc.url,
            ) from exc

    def _search_once(
        self, search: arxiv.Search, validate: Validator, before: int, bounds: _Bounds
    ) -> SearchResult:
        seen: dict[str, Paper] = {}
        refused: dict[str, str] = {}
        authors: dict[str, tuple[str, ...] | None] = {}
        page = self.fetch_page(search, 0, validate)
        total, offset = page.total_results, page.size
        if bounds.too_many(total, 0):
            raise TooManyResultsError(total, bounds.max_total or 0)
        bounds.check_order(page, search.query)
        _merge(seen, page.papers)
        refused.update(page.refused)
        authors.update(page.refused_authors)
        while offset < total and not bounds.reached(page):
            if bounds.too_many(total, offset):
                raise TooManyResultsError(total, bounds.max_total or 0)
            page = self._later_page(search, offset, validate, seen)
            if page.total_results != total:
                raise InconsistentTotalError(
                    f"totalResults changed from {total} to {page.total_results}"
                )
            bounds.check_order(page, search.query)
            _merge(seen, page.papers)
            refused.update(page.refused)
            authors.update(page.refused_authors)
            offset += page.size
        papers = sorted(seen.values(), key=lambda p: (p.published, p.arxiv_id), reverse=True)
        if refused:
            raise EntriesRefusedError(papers, sorted(refused.items()), authors=authors)
        if offset >= total and len(seen) != total:
            raise InconsistentTotalError(
                f"{len(seen)} distinct papers for {total} announced results"
            )
        return SearchResult(papers, total, self.requests_sent - before)

    def _later_page(
        self, search: arxiv.Search, start: int, validate: Validator, seen: dict[str, Paper]
    ) -> Page:
        """A page after the first; when it fails for good, the error carries the papers
        already read (:attr:`FetchError.partial`)."""
        try:
            return self.fetch_page(search, start, validate)
        except FetchError as exc:
            exc.partial = tuple(seen.values())
            raise

    def fetch_page(self, search: arxiv.Search, start: int, validate: Validator) -> Page:
        """One page, retried by tenacity on every temporary failure.

        When entries stay invalid on the last attempt, the page's valid papers are
        returned with the refused entries listed in :attr:`Page.refused`.
        """
        try:
            page: Page = self._retrying(self.breaker)(
                self._fetch_page_once, search, start, validate
            )
        except UnreachableError as exc:
            self.breaker.trip(exc)
            raise
        except _InvalidEntries as exc:
            for entry_id, reason in exc.page.refused[:SHOWN_ITEMS]:
                logger.info("refused entry %s: %s", cut(entry_id), reason)
            return exc.page
        return page

    def author_feed(self, ident: str) -> AuthorFeed:
        """The papers an author claimed: the feed ``{author_feed_url}/{ident}.atom2`` of an
        arXiv author identifier or ORCID iD, asked like a page of the query API (the same
        session, pacer, deadline and retries; a breaker of its own). An identifier arXiv
        does not know raises :class:`~harvester.errors.UnknownAuthorError`."""
        url = feed_url(self.settings.author_feed_url, ident)
        try:
            feed: AuthorFeed = self._retrying(self.feed_breaker)(
                self._counted, self.feed_breaker, self._request_feed, url, ident
            )
        except UnreachableError as exc:
            self.feed_breaker.trip(exc)
            raise
        return feed

    def request(self, url: str, parse: Callable[[bytes, str], _T], check: BodyCheck) -> _T:
        """Any other arXiv answer (OAI-PMH: :mod:`harvester.source.oai`) through this
        source's session, pacer, deadline, size cap, retries and breaker: ``check`` vets
        the raw body, ``parse`` turns it into the result (its errors are the answer's)."""

        def once() -> _T:
            return parse(self._session.fetch(url, check=check).body, url)

        try:
            result: _T = self._retrying(self.breaker)(self._counted, self.breaker, once)
        except UnreachableError as exc:
            self.breaker.trip(exc)
            raise
        return result

    def _request_feed(self, url: str, ident: str) -> AuthorFeed:
        try:
            body = self._session.fetch(url).body
        except QueryRejectedError as exc:
            if not _NOT_FOUND.search(exc.message):
                raise
            message = f"arXiv knows no author {ident!r} ({exc.message})"
            raise UnknownAuthorError(message, url=url) from exc
        return parse_author_feed(body, url)

    def _retrying(self, breaker: CircuitBreaker) -> tenacity.Retrying:
        """One request, retried on every temporary failure (the policies below) until
        ``breaker``, the endpoint's, opens."""
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientFetchError),
            stop=self._stop_policy(breaker),
            wait=self._wait_policy(),
            sleep=self._sleep,
            before_sleep=log_retry,
            reraise=True,
        )

    def _fetch_page_once(self, search: arxiv.Search, start: int, validate: Validator) -> Page:
        url = page_url(self.settings.api_url, search, start, self.settings.page_size)
        return self._counted(self.breaker, self._request_page, url, start, validate)

    def _counted(self, breaker: CircuitBreaker, request: Callable[..., _T], *args: Any) -> _T:
        """One request, counted by its endpoint's circuit breaker (an invalid entry is
        arXiv's data, not an outage); refused at once when that breaker is open."""
        if breaker.open:
            raise CircuitOpenError(breaker.failures)
        try:
            answer = request(*args)
        except InvalidPageError:
            breaker.record(failed=False)
            raise
        except FetchError as exc:
            breaker.record(failed=exc.temporary)
            raise
        breaker.record(failed=False)
        return answer

    def _request_page(self, url: str, start: int, validate: Validator) -> Page:
        """Send one request and turn its body into a :class:`Page`, or raise."""
        parsed = parse_page(self._session.fetch(url).body, url)
        if not parsed.entries and parsed.total_results > start:
            raise EmptyPageError(f"empty page at offset {start} of {parsed.total_results}", url=url)
        papers, refused = validated_papers(parsed.entries, validate)
        page = Page(
            tuple(papers),
            parsed.total_results,
            tuple((entry_id, reason) for entry_id, reason, _ in refused),
            tuple((entry_id, names) for entry_id, _, names in refused),
        )
        if refused:
            raise _InvalidEntries(page, url)
        return page

    def _stop_policy(self, breaker: CircuitBreaker) -> Any:
        s = self.settings
        return (
            tenacity.stop_before_delay(s.max_retry_seconds)
            | tenacity.stop_when_event_set(self.stop_event)
            | StopIfRetryAfterExceeds(s.max_wait_seconds)
            | StopIfBreakerOpen(breaker)
            | RetryBudgets({InvalidPageError: 2, UnreachableError: 2}, others=s.max_attempts)
        )

    def _wait_policy(self) -> Callable[[tenacity.RetryCallState], float]:
        initial = max(self.settings.delay_seconds, 0.05)
        cap = self.settings.max_wait_seconds
        backoff = tenacity.wait_exponential_jitter(multiplier=initial, max=cap, jitter=initial)

        def wait(state: tenacity.RetryCallState) -> float:
            asked = retry_after(state) or 0.0
            return float(min(cap, max(backoff(state), asked)))

        return wait

    def _sleep(self, seconds: float) -> None:
        if self.stop_event.wait(seconds):
            raise StopRequested("stop requested while waiting to retry")


def feed_url(author_feed_url: str, ident: str) -> str:
    """``{author_feed_url}/{ident}.atom2`` (arXiv takes an ORCID iD in place of the id)."""
    return f"{author_feed_url.rstrip('/')}/{quote(ident, safe='')}.atom2"


def page_url(api_url: str, search: arxiv.Search, start: int, page_size: int) -> str:
    """The request for ``page_size`` results of ``search`` from ``start`` on, with the
    parameters the ``arxiv`` package sends (``tests/test_source.py`` pins them)."""
    parameters = {
        "search_query": search.query,
        "id_list": ",".join(search.id_list),
        "sortBy": search.sort_by.value,
        "sortOrder": search.sort_order.value,
        "start": str(start),
        "max_results": str(page_size),
    }
    return f"{api_url}?{urlencode(parameters)}"


Refused = tuple[str, str, tuple[str, ...] | None]
"""An entry that is not valid: its id, the reason, its author names if they were read."""


def validated_papers(
    entries: tuple[ParsedEntry, ...], validate: Validator
) -> tuple[list[Paper], list[Refused]]:
    """Valid papers, and each entry that is not (see :data:`Refused`)."""
    papers: list[Paper] = []
    refused: list[Refused] = []
    for entry in entries:
        raw = entry.raw()
        if raw is None:
            refused.append((entry.entry_id, entry.problem or "unreadable", None))
            continue
        try:
            papers.append(validate(raw))
        except ValueError as exc:
            names = tuple(a.name for a in raw.authors if a.name.strip())
            refused.append((entry.entry_id, str(exc), names or None))  # no name: anyone's
    return papers, refused


def _merge(seen: dict[str, Paper], papers: tuple[Paper, ...]) -> None:
    """Deduplicate by canonical id, keeping the highest version seen."""
    for paper in papers:
        old = seen.get(paper.arxiv_id)
        if old is None or paper.version > old.version:
            seen[paper.arxiv_id] = paper
