"""One harvest cycle: every configured author, fetched, matched and stored.

:func:`harvest_author` is one author: fetch a complete result set (no database
transaction is open meanwhile), then in ONE transaction load what the profile last
saw, plan the changes (:mod:`harvester.changes`), write them and close the run.
A failed or incomplete fetch, or a suspect plan, changes nothing but the run log.

:func:`run_cycle` is what ``harvest --once``, the daemon and the tests all call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .changes import Observation, Plan, plan_changes
from .errors import FetchError, StopRequested
from .matching import Matcher
from .normalise import normalise_entry
from .records import Paper
from .settings import AuthorSettings, Settings
from .source import ArxivSource
from .store import RunTotals, Store

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
        """0 all complete; 75 nothing harvested and every failure temporary; else 1."""
        if all(a.status == OK for a in self.authors):
            return 0
        if all(a.status != OK and a.temporary for a in self.authors):
            return 75
        return 1


def harvest_author(
    store: Store, source: ArxivSource, author: AuthorSettings, clock: Clock = utcnow
) -> AuthorReport:
    """Harvest one author completely, or record why not; never raises FetchError."""
    run_id = store.start_run(author.key, clock())
    before = source.requests_sent
    try:
        papers = _fetch(source, author)
    except StopRequested:
        totals = RunTotals(INCOMPLETE, requests=source.requests_sent - before, error="stopped")
        store.finish_run(run_id, clock(), totals)
        raise
    except FetchError as exc:
        logger.warning("%s: harvest not complete: %s", author.key, exc)
        status = INCOMPLETE if exc.temporary else FAILED
        totals = RunTotals(status, requests=source.requests_sent - before, error=str(exc))
        store.finish_run(run_id, clock(), totals)
        return AuthorReport(
            author.key, status, requests=totals.requests, error=str(exc), temporary=exc.temporary
        )
    return _store(store, author, papers, run_id, source.requests_sent - before, clock)


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
) -> AuthorReport:
    matcher = Matcher.for_profile(
        author.key, author.name, author.aliases, author.include_ids, author.exclude_ids
    )
    observations = [Observation(p, matcher.decide(p)) for p in papers]
    with store.transaction() as conn:
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
) -> CycleReport:
    """Harvest every author (or ``authors``) once; stops between authors on request."""
    stop_event = stop_event or source.stop_event
    chosen = list(settings.authors if authors is None else authors)
    store.sync_authors((a.key, a.name) for a in chosen)
    report = CycleReport()
    for author in chosen:
        if stop_event.is_set():
            report.authors.append(_skipped(author, "stop requested"))
            continue
        try:
            report.authors.append(harvest_author(store, source, author, clock))
        except StopRequested:
            report.authors.append(_skipped(author, "stop requested"))
    return report


def _skipped(author: AuthorSettings, why: str) -> AuthorReport:
    return AuthorReport(author.key, SKIPPED, error=why, temporary=True)
