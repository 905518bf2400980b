"""One harvest cycle: every configured author, fetched, matched and stored.

:func:`harvest_author` is one author: fetch a complete result set (no database
transaction is open meanwhile), then in ONE transaction load what the profile last
saw, plan the changes (:mod:`harvester.changes`), write them and close the run.
A failed or incomplete fetch, or a suspect plan, changes nothing but the run log;
when entries stayed invalid, the valid papers are stored too (paper rows only: no
membership, event or count changes), so nothing arXiv sent is lost.

:func:`run_cycle` is what ``harvest --once``, the daemon and the tests all call. It
claims each author's lease first (:mod:`harvester.store.leases`), so that processes
sharing a database never harvest one author at once: a leased author, or one that an
overlapping run has just harvested, is skipped (a ``skipped`` run says why). The
source from :func:`open_source` paces its requests through the database
(:mod:`harvester.store.pacing`), so the request spacing holds across those processes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .changes import Observation, Plan, plan_changes
from .errors import (
    CircuitOpenError,
    EntriesRefusedError,
    FetchError,
    LeaseLostError,
    StopRequested,
)
from .matching import Matcher
from .normalise import normalise_entry
from .records import Paper
from .settings import AuthorSettings, Settings
from .source import ArxivSource
from .store import RunTotals, Store
from .store.leases import Lease, Leases, Refusal
from .store.pacing import DatabasePacer, slot_name

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

OK, INCOMPLETE, SUSPECT, FAILED, SKIPPED = "ok", "incomplete", "suspect", "failed", "skipped"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AuthorReport:
    """The outcome of one author's harvest, as printed and as exit codes see it."""

    key: str
    status: str
    paper_count: int | None = None
    new_papers: int = 0
    new_versions: int = 0
    events: int = 0
    requests: int = 0
    error: str | None = None
    temporary: bool = False

    def line(self) -> str:
        """``kakade  76 papers  +1 new  2 new versions  4 requests``."""
        parts = [self.key]
        if self.status in (OK, SUSPECT) and self.paper_count is not None:
            parts.append(f"{self.paper_count} papers")
            parts.append(f"+{self.new_papers} new")
            parts.append(f"{self.new_versions} new version{'' if self.new_versions == 1 else 's'}")
        if self.status != OK:
            parts.append(f"{self.status}: {self.error}")
        parts.append(f"{self.requests} request{'' if self.requests == 1 else 's'}")
        return "  ".join(parts)


@dataclass(slots=True)
class CycleReport:
    authors: list[AuthorReport] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """Skipped authors aside: 0 all complete; 75 nothing harvested and every failure
        temporary (or everything skipped); else 1."""
        tried = [a for a in self.authors if a.status != SKIPPED]
        if tried and all(a.status == OK for a in tried):
            return 0
        if all(a.status != OK and a.temporary for a in tried):
            return 75
        return 1


def harvest_author(
    store: Store,
    source: ArxivSource,
    author: AuthorSettings,
    clock: Clock = utcnow,
    lease: Lease | None = None,
) -> AuthorReport:
    """Harvest one author completely, or record why not; never raises FetchError.

    With ``lease``, the write transaction first confirms the lease is still ours.
    """
    run_id = store.start_run(author.key, clock())
    before = source.requests_sent
    try:
        papers = _fetch(source, author)
    except StopRequested:
        totals = RunTotals(INCOMPLETE, requests=source.requests_sent - before, error="stopped")
        store.finish_run(run_id, clock(), totals)
        raise
    except EntriesRefusedError as exc:
        return _keep_valid_papers(store, author, exc, run_id, source.requests_sent - before, clock)
    except FetchError as exc:
        logger.warning("%s: harvest not complete: %s", author.key, exc)
        status = INCOMPLETE if exc.temporary else FAILED
        totals = RunTotals(status, requests=source.requests_sent - before, error=str(exc))
        store.finish_run(run_id, clock(), totals)
        return AuthorReport(
            author.key, status, requests=totals.requests, error=str(exc), temporary=exc.temporary
        )
    requests = source.requests_sent - before
    try:
        return _store(store, author, papers, run_id, requests, clock, lease)
    except LeaseLostError as exc:
        logger.warning("%s", exc)
        store.finish_run(run_id, clock(), RunTotals(INCOMPLETE, requests, error=str(exc)))
        return AuthorReport(
            author.key, INCOMPLETE, requests=requests, error=str(exc), temporary=True
        )


def _keep_valid_papers(
    store: Store,
    author: AuthorSettings,
    exc: EntriesRefusedError,
    run_id: int,
    requests: int,
    clock: Clock,
) -> AuthorReport:
    """An incomplete harvest whose valid papers are still worth keeping (paper rows only)."""
    for entry_id, reason in exc.refused:
        logger.warning("%s: refused entry %s: %s", author.key, entry_id, reason)
    seen = len(exc.papers) + len(exc.refused)
    totals = RunTotals(INCOMPLETE, requests=requests, entries_seen=seen, error=str(exc))
    with store.transaction() as conn:
        now = clock()
        store.save_papers(conn, exc.papers, now)
        store.finish_run(run_id, now, totals, conn)
    return AuthorReport(
        author.key, INCOMPLETE, requests=requests, error=str(exc), temporary=exc.temporary
    )


def _fetch(source: ArxivSource, author: AuthorSettings) -> list[Paper]:
    """The author's query, plus ``include_ids`` the query did not return."""
    papers = source.search(author.search_query, normalise_entry).papers
    returned = {p.arxiv_id for p in papers}
    extra = [i for i in author.include_ids if i not in returned]
    if extra:
        papers += source.search_ids(extra, normalise_entry).papers
    return papers


def _store(
    store: Store,
    author: AuthorSettings,
    papers: list[Paper],
    run_id: int,
    requests: int,
    clock: Clock,
    lease: Lease | None = None,
) -> AuthorReport:
    matcher = Matcher.for_profile(
        author.key, author.name, author.aliases, author.include_ids, author.exclude_ids
    )
    observations = [Observation(p, matcher.decide(p)) for p in papers]
    with store.transaction() as conn:
        if lease is not None:
            lease.confirm(conn)
        now = clock()
        baseline_identity = store.baseline_identity(conn, author.key)
        previous = store.load_seen(conn, author.key)
        identity_changed = baseline_identity not in (None, author.identity_fingerprint)

        def still_belongs(arxiv_id: str) -> bool:
            stored = store.load_papers(conn, [arxiv_id]).get(arxiv_id)
            return stored is not None and matcher.decide(stored).accepted

        plan = plan_changes(
            previous,
            observations,
            baseline=baseline_identity is None,
            identity_changed=identity_changed,
            still_belongs=still_belongs,
        )
        totals = _totals(plan, requests, len(papers))
        if plan.suspect_reason is None:
            store.save_papers(conn, papers, now)
            store.apply_plan(conn, author.key, plan, run_id, now)
            store.set_baseline(conn, author.key, author.identity_fingerprint)
        else:
            logger.warning(
                "%s: suspect harvest, nothing changed: %s", author.key, plan.suspect_reason
            )
        store.finish_run(run_id, now, totals, conn)
    return AuthorReport(
        author.key,
        totals.status,
        plan.paper_count,
        totals.new_papers,
        totals.new_versions,
        totals.events,
        requests,
        totals.error,
    )


def _totals(plan: Plan, requests: int, entries_seen: int) -> RunTotals:
    if plan.suspect_reason is not None:
        return RunTotals(SUSPECT, requests, entries_seen, error=plan.suspect_reason)
    return RunTotals(
        OK,
        requests,
        entries_seen,
        plan.count("new_paper"),
        plan.count("new_version"),
        len(plan.events),
    )


def run_cycle(
    settings: Settings,
    store: Store,
    source: ArxivSource,
    *,
    authors: Sequence[AuthorSettings] | None = None,
    stop_event: threading.Event | None = None,
    clock: Clock = utcnow,
    leases: Leases | None = None,
) -> CycleReport:
    """Harvest every author (or ``authors``) once; stops between authors on request.

    Runs left ``running`` by a process that died are closed first. When the
    source's circuit breaker opens, the remaining authors are not attempted: each
    gets a ``skipped`` run saying why.
    """
    stop_event = stop_event or source.stop_event
    chosen = list(settings.authors if authors is None else authors)
    abandoned = store.close_abandoned_runs(clock())
    if abandoned:
        logger.warning("closed %d run(s) left running by a process that ended", abandoned)
    store.sync_authors((a.key, a.name) for a in chosen)
    source.breaker.reset()
    leases = leases or Leases(store.engine)
    started = clock()
    report = CycleReport()
    for author in chosen:
        if stop_event.is_set():
            report.authors.append(_skipped(author, "stop requested"))
            continue
        if source.breaker.open:
            report.authors.append(_breaker_skip(store, author, source, clock))
            continue
        claim = leases.claim(author.key, done_since=started)
        if isinstance(claim, Refusal):
            report.authors.append(_lease_skip(store, author, claim.reason, clock))
            continue
        with claim:
            try:
                report.authors.append(harvest_author(store, source, author, clock, claim))
            except StopRequested:
                report.authors.append(_skipped(author, "stop requested"))
    return report


def open_source(
    settings: Settings,
    store: Store,
    *,
    stop_event: threading.Event | None = None,
    on_request: Callable[[], None] | None = None,
) -> ArxivSource:
    """The source every harvest uses: its requests take turns through the database, so
    ``[arxiv] delay_seconds`` holds across every process sharing it."""
    stop_event = stop_event or threading.Event()
    pacer = DatabasePacer(
        store.engine,
        settings.arxiv.delay_seconds,
        name=slot_name(settings.arxiv.api_url),
        stop_event=stop_event,
        on_request=on_request,
    )
    return ArxivSource(settings.arxiv, pacer=pacer, stop_event=stop_event)


def _lease_skip(store: Store, author: AuthorSettings, why: str, clock: Clock) -> AuthorReport:
    """Log a ``skipped`` run: another process has the author, or just harvested it."""
    logger.info("%s: skipped: %s", author.key, why)
    now = clock()
    store.finish_run(store.start_run(author.key, now), now, RunTotals(SKIPPED, error=why))
    return _skipped(author, why)


def _breaker_skip(
    store: Store, author: AuthorSettings, source: ArxivSource, clock: Clock
) -> AuthorReport:
    """Log a ``skipped`` run: the circuit breaker is open, so the author is not attempted."""
    why = CircuitOpenError(source.breaker.failures).message
    now = clock()
    store.finish_run(store.start_run(author.key, now), now, RunTotals(SKIPPED, error=why))
    return _skipped(author, why)


def _skipped(author: AuthorSettings, why: str) -> AuthorReport:
    return AuthorReport(author.key, SKIPPED, error=why, temporary=True)
