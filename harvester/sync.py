"""One harvest cycle: every configured author, fetched, matched and stored.

:func:`run_cycle` is what ``harvest --once``, the daemon and the tests all call. It plans
the cycle's queries (:mod:`harvester.batching`: authors grouped into shared queries, each
harvested fully or incrementally), claims each query's authors first
(:mod:`harvester.store.leases`), so that processes sharing a database never harvest one
author at once and split the work between them: a leased author, or one that an
overlapping run has just harvested, is skipped (a ``skipped`` run says why). The source
from :func:`open_source` paces its requests through the database
(:mod:`harvester.store.pacing`), so the request spacing holds across those processes.

:func:`harvest_group` is one query: fetch its answer (no database transaction is open
meanwhile), split it between the authors, then for each author in ONE transaction load
what the profile last saw, plan the changes (:mod:`harvester.changes`), write them, move
the author's watermark and close the run. A failed or incomplete fetch, or a suspect
plan, changes nothing but the run log; when entries stayed invalid, the valid papers are
stored too (paper rows only: no membership, event or count changes), so nothing arXiv
sent is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Connection

from .batching import FULL, MAX_GROUP_RESULTS, Group, attribute, newest_submission, plan_groups
from .changes import Observation, Plan, plan_changes
from .errors import (
    CircuitOpenError,
    EntriesRefusedError,
    FetchError,
    LeaseLostError,
    StopRequested,
    TooManyResultsError,
)
from .matching import Matcher
from .normalise import normalise_entry
from .records import Paper
from .settings import AuthorSettings, Settings
from .source import ArxivSource
from .store import RunTotals, Store
from .store.leases import Lease, Leases
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
    #: authors asked in the same query; its requests are booked on the first one
    shared_by: int = 1

    def line(self) -> str:
        """``kakade  76 papers  +1 new  2 new versions  4 requests``."""
        parts = [self.key]
        if self.status in (OK, SUSPECT) and self.paper_count is not None:
            parts.append(f"{self.paper_count} papers")
            parts.append(f"+{self.new_papers} new")
            parts.append(f"{self.new_versions} new version{'' if self.new_versions == 1 else 's'}")
        if self.status != OK:
            parts.append(f"{self.status}: {self.error}")
        parts.append(self._requests())
        return "  ".join(parts)

    def _requests(self) -> str:
        count = f"{self.requests} request{'' if self.requests == 1 else 's'}"
        if self.shared_by == 1:
            return count
        if self.requests:
            return f"{count} (one query for {self.shared_by} authors)"
        return f"in a query for {self.shared_by} authors"


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
    """Harvest one author fully, alone (see :func:`harvest_group`)."""
    return harvest_group(store, source, Group((author,), FULL), clock, lease)[0]


def harvest_group(
    store: Store,
    source: ArxivSource,
    group: Group,
    clock: Clock = utcnow,
    lease: Lease | None = None,
) -> list[AuthorReport]:
    """Harvest the authors of one query completely, or record why not; never raises
    FetchError. With ``lease``, each write transaction first confirms it is still ours."""
    runs = store.start_runs(group.keys, clock(), group.mode)
    return _harvest_group(store, source, group, runs, clock, lease, source.requests_sent)


def _harvest_group(
    store: Store,
    source: ArxivSource,
    group: Group,
    runs: dict[str, int],
    clock: Clock,
    lease: Lease | None,
    before: int,
) -> list[AuthorReport]:
    """``before``: the request count when this query (or the one it was split from) began."""
    try:
        papers = _fetch(source, group)
    except StopRequested:
        totals = RunTotals(INCOMPLETE, error="stopped")
        _finish_all(store, group, runs, clock(), totals, source.requests_sent - before)
        raise
    except EntriesRefusedError as exc:
        requests = source.requests_sent - before
        return _keep_valid_papers(store, group, exc, runs, requests, clock)
    except TooManyResultsError as exc:
        if len(group.authors) == 1:
            return _failed(store, group, runs, exc, source.requests_sent - before, clock)
        logger.info("%s; asking for half of the %d authors at a time", exc, len(group.authors))
        first, second = group.halves()
        reports = _harvest_group(store, source, first, runs, clock, lease, before)
        return reports + _harvest_group(
            store, source, second, runs, clock, lease, source.requests_sent
        )
    except FetchError as exc:
        return _failed(store, group, runs, exc, source.requests_sent - before, clock)
    requests = source.requests_sent - before
    shares = attribute(group.authors, papers)
    now = clock()
    watermark = min(newest_submission(papers) or now, now)  # a date from the future is wrong
    reports = []
    for index, author in enumerate(group.authors):
        spent = Spent(requests if index == 0 else 0, len(group.authors))
        share = shares[author.key]
        try:
            reports.append(
                _store(
                    store, author, group, share, runs[author.key], spent, watermark, clock, lease
                )
            )
        except LeaseLostError as exc:
            logger.warning("%s", exc)
            totals = RunTotals(INCOMPLETE, spent.requests, error=str(exc))
            store.finish_run(runs[author.key], clock(), totals)
            reports.append(_report(author, totals, spent, temporary=True))
    return reports


@dataclass(frozen=True, slots=True)
class Spent:
    """A query's requests, booked on its first author's run; ``shared_by``: its authors."""

    requests: int
    shared_by: int = 1


def _failed(
    store: Store,
    group: Group,
    runs: dict[str, int],
    exc: FetchError,
    requests: int,
    clock: Clock,
) -> list[AuthorReport]:
    """A fetch that failed: every author's run says why; nothing else changes."""
    logger.warning("%s: harvest not complete: %s", ", ".join(group.keys), exc)
    totals = RunTotals(INCOMPLETE if exc.temporary else FAILED, error=str(exc))
    return _finish_all(store, group, runs, clock(), totals, requests, temporary=exc.temporary)


def _finish_all(
    store: Store,
    group: Group,
    runs: dict[str, int],
    now: datetime,
    totals: RunTotals,
    requests: int,
    *,
    temporary: bool = True,
    conn: Connection | None = None,
) -> list[AuthorReport]:
    """Close every run of ``group`` with ``totals`` (the requests booked on the first)."""
    reports = []
    for index, author in enumerate(group.authors):
        spent = Spent(requests if index == 0 else 0, len(group.authors))
        mine = replace(totals, requests=spent.requests)
        store.finish_run(runs[author.key], now, mine, conn)
        reports.append(_report(author, mine, spent, temporary=temporary))
    return reports


def _report(
    author: AuthorSettings, totals: RunTotals, spent: Spent, *, temporary: bool = False
) -> AuthorReport:
    return AuthorReport(
        author.key,
        totals.status,
        requests=totals.requests,
        error=totals.error,
        temporary=temporary,
        shared_by=spent.shared_by,
    )


def _keep_valid_papers(
    store: Store,
    group: Group,
    exc: EntriesRefusedError,
    runs: dict[str, int],
    requests: int,
    clock: Clock,
) -> list[AuthorReport]:
    """An incomplete harvest whose valid papers are still worth keeping (paper rows only)."""
    for entry_id, reason in exc.refused:
        logger.warning("%s: refused entry %s: %s", ", ".join(group.keys), entry_id, reason)
    seen = len(exc.papers) + len(exc.refused)
    totals = RunTotals(INCOMPLETE, entries_seen=seen, error=str(exc))
    with store.transaction() as conn:
        now = clock()
        store.save_papers(conn, exc.papers, now)
        return _finish_all(
            store, group, runs, now, totals, requests, temporary=exc.temporary, conn=conn
        )


def _fetch(source: ArxivSource, group: Group) -> list[Paper]:
    """The group's query; a full harvest adds the ``include_ids`` the query did not return.

    An incremental harvest leaves ``include_ids`` to the full ones: they were fetched by the
    last one, and an incremental harvest never takes a paper away.
    """
    max_total = MAX_GROUP_RESULTS if len(group.authors) > 1 else None
    since = None if group.full else group.since
    papers = source.search(group.query, normalise_entry, since=since, max_total=max_total).papers
    if not group.full:
        return papers
    returned = {p.arxiv_id for p in papers}
    wanted = (i for a in group.authors for i in a.include_ids if i not in returned)
    extra = list(dict.fromkeys(wanted))
    if extra:
        papers += source.search_ids(extra, normalise_entry).papers
    return papers


def _store(
    store: Store,
    author: AuthorSettings,
    group: Group,
    papers: list[Paper],
    run_id: int,
    spent: Spent,
    watermark: datetime,
    clock: Clock,
    lease: Lease | None = None,
) -> AuthorReport:
    """One author's share of a query's answer, planned and written in one transaction."""
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
            partial=not group.full,
        )
        totals = _totals(plan, spent.requests, len(papers))
        if plan.suspect_reason is None:
            store.save_papers(conn, papers, now)
            store.apply_plan(conn, author.key, plan, run_id, now)
            store.set_baseline(conn, author.key, author.identity_fingerprint)
            store.advance_coverage(conn, author.key, watermark, now if group.full else None)
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
        spent.requests,
        totals.error,
        shared_by=spent.shared_by,
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
    full: bool = False,
    done_since: datetime | None = None,
) -> CycleReport:
    """Harvest every author (or ``authors``) once; stops between queries on request.

    The authors are asked in groups, fully or incrementally (:mod:`harvester.batching`;
    ``full`` makes every harvest full). Runs left ``running`` by a process that died are
    closed first. Each query's authors are claimed first (:mod:`harvester.store.leases`):
    one another process holds, or that a run has harvested completely since
    ``done_since`` (default: the start of this cycle), is skipped. When the source's
    circuit breaker opens, the remaining authors are not attempted: each gets a
    ``skipped`` run saying why.
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
    states = store.load_states([a.key for a in chosen])
    groups = plan_groups(chosen, states, settings.harvest, started, full=full)
    cycle = _Cycle(store, source, leases, stop_event, clock, done_since or started)
    reports = {r.key: r for group in groups for r in cycle.run(group)}
    for group in cycle.retries():  # rows that were only locked a moment: once more
        reports.update((r.key, r) for r in cycle.run(group, retry=False))
    return CycleReport([reports[a.key] for a in chosen])


@dataclass(slots=True)
class _Cycle:
    """What every query of one cycle shares."""

    store: Store
    source: ArxivSource
    leases: Leases
    stop_event: threading.Event
    clock: Clock
    done_since: datetime
    locked: list[Group] = field(default_factory=list)

    def run(self, group: Group, *, retry: bool = True) -> list[AuthorReport]:
        """Claim the group's authors, harvest those won, and report on every one.

        Authors whose rows another transaction held at that moment are remembered for
        :meth:`retries` (unless ``retry`` is false): if that transaction was not a claim
        that won them, nobody else may harvest them this cycle.
        """
        if self.stop_event.is_set():
            return [_skipped(a, "stop requested") for a in group.authors]
        if self.source.breaker.open:
            why = CircuitOpenError(self.source.breaker.failures).message
            return [_skip(self.store, a, why, self.clock) for a in group.authors]
        lease, refusals = self.leases.claim_many(group.keys, done_since=self.done_since)
        locked = [key for key, refusal in refusals.items() if refusal.locked]
        if retry and locked:
            self.locked.append(group.only(locked))
        reports = [
            _skip(self.store, a, refusals[a.key].reason, self.clock)
            for a in group.authors
            if a.key in refusals
        ]
        if lease is None:
            return reports
        won = group.only(lease.author_keys)
        with lease:
            try:
                reports += harvest_group(self.store, self.source, won, self.clock, lease)
            except StopRequested:
                reports += [_skipped(a, "stop requested") for a in won.authors]
        return reports

    def retries(self) -> list[Group]:
        """The groups of authors found locked, to claim once more at the end of the cycle."""
        return self.locked


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


def _skip(store: Store, author: AuthorSettings, why: str, clock: Clock) -> AuthorReport:
    """Log a ``skipped`` run: another process has the author or just harvested it, or the
    circuit breaker is open."""
    logger.info("%s: skipped: %s", author.key, why)
    now = clock()
    store.finish_run(store.start_run(author.key, now), now, RunTotals(SKIPPED, error=why))
    return _skipped(author, why)


def _skipped(author: AuthorSettings, why: str) -> AuthorReport:
    return AuthorReport(author.key, SKIPPED, error=why, temporary=True)
