"""ArxivSource: the one place that asks arXiv for papers, through the ``arxiv`` package.

It builds an ``arxiv.Client`` with the package's own retries and delay switched off
(``num_retries=0``, ``delay_seconds=0``), points it at ``[arxiv] api_url`` and swaps
its session for a :class:`~harvester.source.transport.GuardedSession`. Retries are
owned here, by tenacity, one page at a time; paging resumes from the offset
already consumed. It hands out our own records (``RawEntry`` validated into
``Paper`` by the caller's ``validate``), never ``arxiv.Result``.

A search is *complete* only when every page arrived and was valid and the distinct
papers agree with the final page's ``totalResults``; a total that moves between
pages restarts the search once (`arxiv.py#43 <https://github.com/lukasschwab/arxiv.py/issues/43>`_).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import arxiv
import tenacity

from ..errors import (
    EmptyPageError,
    FetchError,
    HTTPStatusError,
    IncompleteResponseError,
    InconsistentTotalError,
    InvalidPageError,
    StopRequested,
    TransientFetchError,
)
from ..records import Paper, RawAuthor, RawEntry
from ..settings import ArxivSettings
from .transport import GuardedSession, Pacer

logger = logging.getLogger(__name__)

Validator = Callable[[RawEntry], Paper]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of validated papers and the ``totalResults`` it announced."""

    papers: tuple[Paper, ...]
    total_results: int


@dataclass(slots=True)
class SearchResult:
    """Every distinct paper of a complete search, newest submission first."""

    papers: list[Paper] = field(default_factory=list)
    total_results: int = 0
    requests: int = 0


class ArxivSource:
    """Fetches complete, validated result sets from the arXiv API.

    ``pacer`` is shared by every source of a process so the request spacing
    holds across authors; ``stop_event`` cuts retry sleeps and waits short.
    """

    def __init__(
        self,
        settings: ArxivSettings,
        *,
        pacer: Pacer | None = None,
        stop_event: threading.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.stop_event = stop_event or threading.Event()
        self.pacer = pacer or Pacer(settings.delay_seconds, stop_event=self.stop_event)
        self._rng = rng or random.Random()
        self._session = GuardedSession(
            pacer=self.pacer,
            timeout_seconds=settings.timeout_seconds,
            max_bytes=settings.max_response_bytes,
            user_agent=settings.user_agent,
        )
        self._client = arxiv.Client(page_size=settings.page_size, delay_seconds=0.0, num_retries=0)
        self._client.query_url_format = settings.api_url + "?{}"
        self._client._session = self._session

    @property
    def requests_sent(self) -> int:
        """Requests sent by this source so far (retries included)."""
        return self._session.request_count

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ArxivSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, query: str, validate: Validator) -> SearchResult:
        """All papers for ``query``, newest submission first; complete or an error."""
        return self._search(
            arxiv.Search(
                query=query,
                max_results=None,
                sort_by=arxiv.SortCriterion.SubmittedDate,
                sort_order=arxiv.SortOrder.Descending,
            ),
            validate,
        )

    def search_ids(self, ids: list[str], validate: Validator) -> SearchResult:
        """The papers named by ``ids`` (unknown ids are silently absent, as on arXiv)."""
        return self._search(arxiv.Search(id_list=ids, max_results=None), validate)

    def _search(self, search: arxiv.Search, validate: Validator) -> SearchResult:
        """Page through ``search``; restart once if ``totalResults`` moves."""
        before = self.requests_sent
        try:
            return self._search_once(search, validate, before)
        except InconsistentTotalError:
            logger.info("totalResults moved during the search; starting over once")
        try:
            return self._search_once(search, validate, before)
        except InconsistentTotalError as exc:
            raise InconsistentTotalError(
                "totalResults kept changing between pages; the result set is incomplete",
                url=exc.url,
            ) from exc

    def _search_once(self, search: arxiv.Search, validate: Validator, before: int) -> SearchResult:
        seen: dict[str, Paper] = {}
        first = self.fetch_page(search, 0, validate)
        total, offset = first.total_results, len(first.papers)
        _merge(seen, first.papers)
        while offset < total:
            page = self.fetch_page(search, offset, validate)
            if page.total_results != total:
                raise InconsistentTotalError(
                    f"totalResults changed from {total} to {page.total_results}"
                )
            _merge(seen, page.papers)
            offset += len(page.papers)
        if len(seen) != total:
            raise InconsistentTotalError(
                f"{len(seen)} distinct papers for {total} announced results"
            )
        papers = sorted(seen.values(), key=lambda p: (p.published, p.arxiv_id), reverse=True)
        return SearchResult(papers, total, self.requests_sent - before)

    def fetch_page(self, search: arxiv.Search, start: int, validate: Validator) -> Page:
        """One page, retried by tenacity on every temporary failure."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientFetchError),
            stop=self._stop_policy(),
            wait=self._wait_policy(),
            sleep=self._sleep,
            before_sleep=tenacity.before_sleep_log(logger, logging.WARNING),
            reraise=True,
        )
        page: Page = retrying(self._fetch_page_once, search, start, validate)
        return page

    def _fetch_page_once(self, search: arxiv.Search, start: int, validate: Validator) -> Page:
        url = self._client._format_url(search, start, self.settings.page_size)
        try:
            feed = self._client._parse_feed(url, first_page=True)
        except FetchError:
            raise
        except (ValueError, TypeError) as exc:
            raise InvalidPageError(f"unparseable page: {exc}", url=url) from exc
        if feed.malformed:
            raise IncompleteResponseError(f"malformed feed: {feed.error}", url=url)
        if len(feed.results) != self._session.last_entry_count:
            raise InvalidPageError(
                f"{self._session.last_entry_count - len(feed.results)} entries lack an id or "
                "a date",
                url=url,
            )
        if not feed.results and feed.header.total_results > start:
            raise EmptyPageError(
                f"empty page at offset {start} of {feed.header.total_results}", url=url
            )
        return Page(tuple(_validated(feed.results, validate, url)), feed.header.total_results)

    def _stop_policy(self) -> Any:
        s = self.settings
        return (
            tenacity.stop_after_attempt(s.max_attempts)
            | tenacity.stop_before_delay(s.max_retry_seconds)
            | tenacity.stop_when_event_set(self.stop_event)
            | _stop_if_retry_after_exceeds(s.max_wait_seconds)
        )

    def _wait_policy(self) -> Callable[[tenacity.RetryCallState], float]:
        initial = max(self.settings.delay_seconds, 0.05)
        cap = self.settings.max_wait_seconds
        backoff = tenacity.wait_exponential_jitter(multiplier=initial, max=cap, jitter=initial)

        def wait(state: tenacity.RetryCallState) -> float:
            asked = _retry_after(state) or 0.0
            return float(min(cap, max(backoff(state), asked)))

        return wait

    def _sleep(self, seconds: float) -> None:
        if self.stop_event.wait(seconds):
            raise StopRequested("stop requested while waiting to retry")


def _retry_after(state: tenacity.RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return exc.retry_after if isinstance(exc, HTTPStatusError) else None


class _stop_if_retry_after_exceeds(tenacity.stop.stop_base):
    """Give up rather than ask again before a ``Retry-After`` longer than our cap."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        asked = _retry_after(retry_state)
        return asked is not None and asked > self.cap


def _validated(results: list[arxiv.Result], validate: Validator, url: str) -> list[Paper]:
    papers = []
    for result in results:
        try:
            papers.append(validate(_raw_entry(result)))
        except ValueError as exc:
            raise InvalidPageError(f"invalid entry {result.entry_id}: {exc}", url=url) from exc
    return papers


def _raw_entry(result: arxiv.Result) -> RawEntry:
    """Copy an ``arxiv.Result`` into our record: the vendor type stops here."""
    return RawEntry(
        entry_id=result.entry_id,
        title=result.title,
        summary=result.summary,
        published=result.published,
        updated=result.updated,
        authors=tuple(RawAuthor(a.name, tuple(a.affiliation)) for a in result.authors),
        primary_category=result.primary_category,
        categories=tuple(result.categories),
        comment=result.comment,
        journal_ref=result.journal_ref,
        doi=result.doi,
    )


def _merge(seen: dict[str, Paper], papers: tuple[Paper, ...]) -> None:
    """Deduplicate by canonical id, keeping the highest version seen."""
    for paper in papers:
        old = seen.get(paper.arxiv_id)
        if old is None or paper.version > old.version:
            seen[paper.arxiv_id] = paper
