"""One harvest cycle: every configured author, fetched, matched and stored.

:func:`run_cycle` plans the cycle's queries (:mod:`harvester.batching`: authors grouped
into shared queries, each harvested fully or incrementally) and claims each query's
authors first (:mod:`harvester.store.leases`), so that processes sharing a database never
harvest one author at once and split the work between them: a leased author, or one that
an overlapping run has just harvested, is skipped (a ``skipped`` run says why).

A query's answer is fetched with no database transaction open and split between its
authors; then decide, then write: the store reads a snapshot of what the authors hold
(:meth:`harvester.store.Store.load_snapshot`), :mod:`harvester.cycle.planning` decides each
author's plan on it, and the store writes the plans in ONE transaction
(:meth:`harvester.store.Store.write_plans`). A failed or incomplete fetch, or a
suspect plan, changes nothing but the run log; when entries stayed invalid, the valid
papers are stored too (paper rows only), so nothing arXiv sent is lost.

:func:`harvester.cycle.harvest_once` is what ``harvest --once``, the daemon, the
benchmarks and the tests call; it opens the source and runs this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..batching import AuthorState, Group, plan_groups
from ..config import AuthorSettings, NotifySettings, Settings
from ..errors import (
    CircuitOpenError,
    UnreachableError,
)
from ..source import ArxivSource, CircuitBreaker
from ..store import Lease, Leases, Store
from ..vocabulary import HarvestMode
from .query import Fetch, harvest_group, skipped, stopped
from .report import (
    DEFAULT_OPTIONS,
    AuthorReport,
    Clock,
    CycleOptions,
    CycleProgress,
    CycleReport,
    utcnow,
)

logger = logging.getLogger(__name__)


Planner = Callable[[Settings, list[AuthorSettings], dict[str, AuthorState], datetime, bool],
                   list[Group]]  # fmt: skip
"""How a cycle groups its authors (the search API's queries, or one OAI-PMH delta)."""


def run_cycle(
    settings: Settings,
    store: Store,
    source: ArxivSource,
    options: CycleOptions = DEFAULT_OPTIONS,
    progress: CycleProgress | None = None,
    *,
    plan: Planner | None = None,
    fetch: Fetch | None = None,
) -> CycleReport:
    """Harvest every configured author once; stops between queries when the source's
    stop event is set.

    The authors are asked in groups, fully or incrementally. Runs left ``running`` by a
    process that died are closed first. Each query's authors are claimed first: one
    another process holds, or that a run has harvested completely since
    ``options.done_since``, is skipped. When the query API's circuit breaker opens, the
    remaining authors get a ``skipped`` run saying why; when the identifier feeds' opens,
    the remaining authors with a feed do, and the others are harvested. ``progress``
    hears of each request and each author as they happen. ``plan`` groups the authors and
    ``fetch`` answers a group (default: the search API's queries, :mod:`harvester.batching`;
    OAI-PMH: :func:`harvester.cycle.oai.run_oai_cycle`).
    """
    chosen = [a for a in settings.authors if not options.only or a.key in options.only]
    clock = options.clock
    abandoned = store.close_abandoned_runs(clock())
    if abandoned:
        logger.warning("closed %d run(s) left running by a process that ended", abandoned)
    store.sync_authors((a.key, a.name) for a in chosen)
    source.reset_breakers()
    started = clock()
    states = store.load_states([a.key for a in chosen])
    groups = (plan or _search_groups)(settings, chosen, states, started, options.full)
    progress = progress or CycleProgress()
    progress.started(len(chosen), len(groups))
    leases = options.leases or store.leases()
    since = options.done_since or started
    cycle = _Cycle(store, source, leases, clock, since, progress, fetch, targets=settings.notify)
    reports = {r.key: r for group in groups for r in cycle.run(group)}
    for group in cycle.locked:  # rows that were only locked a moment: once more
        reports.update((r.key, r) for r in cycle.run(group, retry=False))
    cause = source.breaker.cause
    unreachable = cause if isinstance(cause, UnreachableError) else None
    # an author the plan left out of every group (OAI-PMH: nothing for them) has no line
    return CycleReport([reports[a.key] for a in chosen if a.key in reports], unreachable)


def _search_groups(
    settings: Settings,
    chosen: list[AuthorSettings],
    states: dict[str, AuthorState],
    started: datetime,
    full: bool,
) -> list[Group]:
    return plan_groups(chosen, states, settings.harvest, started, full=full)


def harvest_author(
    store: Store,
    source: ArxivSource,
    author: AuthorSettings,
    clock: Clock = utcnow,
    lease: Lease | None = None,
) -> AuthorReport:
    """Harvest one author fully, alone, under ``lease`` (None: unleased)."""
    return harvest_group(store, source, Group((author,), HarvestMode.FULL), clock, lease)[0]


@dataclass(slots=True)
class _Cycle:
    """What every query of one cycle shares."""

    store: Store
    source: ArxivSource
    leases: Leases
    clock: Clock
    done_since: datetime
    progress: CycleProgress = field(default_factory=CycleProgress)
    #: what a query's answer is (None: the group's search; OAI-PMH: :mod:`.oai`)
    fetch: Fetch | None = None
    #: groups of authors whose rows another transaction held when claimed
    locked: list[Group] = field(default_factory=list)
    #: the notification targets whose outbox items are written with the events
    targets: Sequence[NotifySettings] = ()

    def run(self, group: Group, *, retry: bool = True) -> list[AuthorReport]:
        """Claim the group's authors, harvest those won, and report on every one.

        Authors whose rows another transaction held at that moment are remembered in
        :attr:`locked` (unless ``retry`` is false): if that transaction was not a claim
        that won them, nobody else may harvest them this cycle.
        """
        reports = self._claim_andharvest_group(group, retry)
        for report in reports:
            self.progress.author_done(report)
        self.progress.query_done()
        return reports

    def _claim_andharvest_group(self, group: Group, retry: bool) -> list[AuthorReport]:
        if self.source.stop_event.is_set():
            return [stopped(a) for a in group.authors]
        if self.source.breaker.open:
            why = _why(self.source.breaker)
            return self._skip([(a, why) for a in group.authors])
        if self.source.feed_breaker.open and any(a.anchor for a in group.authors):
            why = f"author identifier feeds: {_why(self.source.feed_breaker)}"
            skipped = self._skip([(a, why) for a in group.authors if a.anchor])
            rest = group.only([a.key for a in group.authors if not a.anchor])
            return skipped + (self._claim_andharvest_group(rest, retry) if rest.authors else [])
        lease, refusals = self.leases.claim_many(group.keys, done_since=self.done_since)
        locked = [key for key, refusal in refusals.items() if refusal.locked]
        if retry and locked:
            self.locked.append(group.only(locked))
        reports = self._skip(
            [(a, refusals[a.key].reason) for a in group.authors if a.key in refusals]
        )
        if lease is None:
            return reports
        won = group.only(lease.author_keys)
        with lease:
            reports += harvest_group(
                self.store, self.source, won, self.clock, lease, self.targets, self.fetch
            )
        return reports

    def _skip(self, authors: list[tuple[AuthorSettings, str]]) -> list[AuthorReport]:
        """Another process has these authors or just harvested them, or the breaker is
        open: their ``skipped`` runs are recorded together."""
        for author, why in authors:
            logger.info("%s: skipped: %s", author.key, why)
        self.store.record_skips([(author.key, why) for author, why in authors], self.clock())
        return [skipped(author, why) for author, why in authors]


def _why(breaker: CircuitBreaker) -> str:
    """Why an open breaker skips an author: what tripped it, or the failures in a row."""
    cause = breaker.cause
    return cause.message if cause else CircuitOpenError(breaker.failures).message
