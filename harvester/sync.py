"""One harvest cycle: every configured author, fetched, matched and stored.

:func:`run_cycle` plans the cycle's queries (:mod:`harvester.batching`: authors grouped
into shared queries, each harvested fully or incrementally) and claims each query's
authors first (:mod:`harvester.store.leases`), so that processes sharing a database never
harvest one author at once and split the work between them: a leased author, or one that
an overlapping run has just harvested, is skipped (a ``skipped`` run says why).

A query's answer is fetched with no database transaction open and split between its
authors; then decide, then write: the store reads a snapshot of what the authors hold
(:meth:`harvester.store.Store.load_snapshot`), :mod:`harvester.planning` decides each
author's plan on it, and the store writes the plans in ONE transaction
(:meth:`harvester.store.Store.write_plans`). A failed or incomplete fetch, or a
suspect plan, changes nothing but the run log; when entries stayed invalid, the valid
papers are stored too (paper rows only), so nothing arXiv sent is lost.

:func:`harvester.harvest.harvest_once` is what ``harvest --once``, the daemon, the
benchmarks and the tests call; it opens the source and runs this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .batching import (
    MAX_GROUP_RESULTS,
    Group,
    attribute,
    may_concern,
    newest_update,
    plan_groups,
)
from .errors import (
    CircuitOpenError,
    DatabaseError,
    EntriesRefusedError,
    FetchError,
    LeaseLostError,
    StopRequested,
    TooManyResultsError,
    UnreachableError,
    UnsortedAnswerError,
)
from .exits import cycle_exit_code
from .identity import Anchors, Matcher
from .normalise import claimed_ids, normalise_entry
from .planning import AuthorHarvest, decide, draft, needs
from .plans import AuthorPlan
from .records import Paper
from .settings import AuthorSettings, Settings
from .source import ArxivSource
from .store import Recorded, RunTotals, Store
from .store.leases import Lease, Leases
from .vocabulary import HarvestMode, RunStatus

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

STOP = "stop requested"
"""Why a harvest a shutdown reached is ``stopped``."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AuthorReport:
    """The outcome of one author's harvest, as printed and as exit codes see it."""

    key: str
    status: RunStatus
    paper_count: int | None = None
    new_papers: int = 0
    new_versions: int = 0
    events: int = 0
    requests: int = 0
    error: str | None = None
    temporary: bool = False
    #: authors asked in the same query; its requests are booked on the first one
    shared_by: int = 1
    #: how the author was harvested (None: it was not, skipped or stopped first)
    mode: HarvestMode | None = None

    def line(self, width: int = 0) -> str:
        """``kakade  76 papers  +1 new  2 new versions  full  4 requests``; the key is
        padded to ``width``, so that the lines of one cycle align."""
        parts = [self.key.ljust(width)]
        if self.status in (RunStatus.OK, RunStatus.SUSPECT) and self.paper_count is not None:
            parts.append(f"{self.paper_count} papers")
            parts.append(f"+{self.new_papers} new")
            parts.append(f"{self.new_versions} new version{'' if self.new_versions == 1 else 's'}")
        if self.status != RunStatus.OK:
            parts.append(f"{self.status}: {self.error}")
        if self.mode is not None:
            parts.append(str(self.mode))
        parts.append(self._requests())
        return "  ".join(parts)

    def _requests(self) -> str:
        count = f"{self.requests} request{'' if self.requests == 1 else 's'}"
        if self.shared_by == 1:
            return count
        if self.requests:
            return f"{count} (one query for {self.shared_by} authors)"
        return f"in a query for {self.shared_by} authors"

    @classmethod
    def of(
        cls,
        key: str,
        totals: RunTotals,
        shared_by: int = 1,
        *,
        temporary: bool = False,
        mode: HarvestMode | None = None,
    ) -> AuthorReport:
        return cls(
            key,
            totals.status,
            requests=totals.requests,
            error=totals.error,
            temporary=temporary,
            shared_by=shared_by,
            mode=mode,
        )


class CycleProgress:
    """What a cycle tells whoever watches it; the default hears nothing.

    :meth:`started` comes first with the numbers of authors and of queries planned, then
    :meth:`request` before each request to arXiv, :meth:`author_done` as each author's
    outcome is known, :meth:`query_done` after each query, and :meth:`close` at the end.
    """

    def started(self, authors: int, queries: int) -> None:
        """The cycle is about to ask ``queries`` queries for ``authors`` authors."""

    def request(self) -> None:
        """A request to arXiv is about to be sent."""

    def author_done(self, report: AuthorReport) -> None:
        """One author's harvest ended (harvested, failed, stopped or skipped)."""

    def query_done(self) -> None:
        """One query (one group of authors) is done."""

    def close(self) -> None:
        """The cycle's harvests are over (the derived steps may follow)."""


@dataclass(slots=True)
class CycleReport:
    authors: list[AuthorReport] = field(default_factory=list)
    #: arXiv could not be reached at all (the source's breaker tripped on it)
    unreachable: UnreachableError | None = None

    @property
    def harvested_none(self) -> bool:
        """No author was harvested this cycle (each failed, was skipped or stopped)."""
        return all(a.status not in (RunStatus.OK, RunStatus.SUSPECT) for a in self.authors)

    @property
    def exit_code(self) -> int:
        return cycle_exit_code([(a.status, a.temporary) for a in self.authors])


@dataclass(frozen=True, slots=True)
class CycleOptions:
    """How one cycle runs.

    ``full`` makes every harvest a full reconciliation; ``only`` (keys) harvests those
    configured authors alone (empty: all of them). ``leases`` (default: this
    process's) and ``done_since`` (default: the cycle's start) decide which authors
    another process has, or has just harvested (:mod:`harvester.store.leases`).
    ``clock`` is injected by tests that fix the time.
    """

    full: bool = False
    only: frozenset[str] = frozenset()
    clock: Clock = utcnow
    leases: Leases | None = None
    done_since: datetime | None = None


DEFAULT_OPTIONS = CycleOptions()
"""An incremental cycle (full where due) on the wall clock, with this process's leases."""


def run_cycle(
    settings: Settings,
    store: Store,
    source: ArxivSource,
    options: CycleOptions = DEFAULT_OPTIONS,
    progress: CycleProgress | None = None,
) -> CycleReport:
    """Harvest every configured author once; stops between queries when the source's
    stop event is set.

    The authors are asked in groups, fully or incrementally. Runs left ``running`` by a
    process that died are closed first. Each query's authors are claimed first: one
    another process holds, or that a run has harvested completely since
    ``options.done_since``, is skipped. When the source's circuit breaker opens, the
    remaining authors get a ``skipped`` run saying why. ``progress`` hears of each request
    and each author as they happen.
    """
    chosen = [a for a in settings.authors if not options.only or a.key in options.only]
    clock = options.clock
    abandoned = store.close_abandoned_runs(clock())
    if abandoned:
        logger.warning("closed %d run(s) left running by a process that ended", abandoned)
    store.sync_authors((a.key, a.name) for a in chosen)
    source.breaker.reset()
    started = clock()
    states = store.load_states([a.key for a in chosen])
    groups = plan_groups(chosen, states, settings.harvest, started, full=options.full)
    progress = progress or CycleProgress()
    progress.started(len(chosen), len(groups))
    leases = options.leases or Leases(store.engine)
    cycle = _Cycle(store, source, leases, clock, options.done_since or started, progress)
    reports = {r.key: r for group in groups for r in cycle.run(group)}
    for group in cycle.locked:  # rows that were only locked a moment: once more
        reports.update((r.key, r) for r in cycle.run(group, retry=False))
    cause = source.breaker.cause
    unreachable = cause if isinstance(cause, UnreachableError) else None
    return CycleReport([reports[a.key] for a in chosen], unreachable)


def harvest_author(
    store: Store,
    source: ArxivSource,
    author: AuthorSettings,
    clock: Clock = utcnow,
    lease: Lease | None = None,
) -> AuthorReport:
    """Harvest one author fully, alone, under ``lease`` (None: unleased)."""
    return _harvest(store, source, Group((author,), HarvestMode.FULL), clock, lease)[0]


@dataclass(slots=True)
class _Cycle:
    """What every query of one cycle shares."""

    store: Store
    source: ArxivSource
    leases: Leases
    clock: Clock
    done_since: datetime
    progress: CycleProgress = field(default_factory=CycleProgress)
    #: groups of authors whose rows another transaction held when claimed
    locked: list[Group] = field(default_factory=list)

    def run(self, group: Group, *, retry: bool = True) -> list[AuthorReport]:
        """Claim the group's authors, harvest those won, and report on every one.

        Authors whose rows another transaction held at that moment are remembered in
        :attr:`locked` (unless ``retry`` is false): if that transaction was not a claim
        that won them, nobody else may harvest them this cycle.
        """
        reports = self._claim_and_harvest(group, retry)
        for report in reports:
            self.progress.author_done(report)
        self.progress.query_done()
        return reports

    def _claim_and_harvest(self, group: Group, retry: bool) -> list[AuthorReport]:
        if self.source.stop_event.is_set():
            return [_stopped(a) for a in group.authors]
        if self.source.breaker.open:
            cause = self.source.breaker.cause
            why = cause.message if cause else CircuitOpenError(self.source.breaker.failures).message
            return [self._skip(a, why) for a in group.authors]
        lease, refusals = self.leases.claim_many(group.keys, done_since=self.done_since)
        locked = [key for key, refusal in refusals.items() if refusal.locked]
        if retry and locked:
            self.locked.append(group.only(locked))
        reports = [
            self._skip(a, refusals[a.key].reason) for a in group.authors if a.key in refusals
        ]
        if lease is None:
            return reports
        won = group.only(lease.author_keys)
        with lease:
            reports += _harvest(self.store, self.source, won, self.clock, lease)
        return reports

    def _skip(self, author: AuthorSettings, why: str) -> AuthorReport:
        """Another process has the author or just harvested it, or the breaker is open."""
        logger.info("%s: skipped: %s", author.key, why)
        self.store.record_skip(author.key, why, self.clock())
        return _skipped(author, why)


def _harvest(
    store: Store, source: ArxivSource, group: Group, clock: Clock, lease: Lease | None
) -> list[AuthorReport]:
    """Harvest one query's authors completely, or record why not; never raises FetchError."""
    runs = store.start_runs(group.keys, clock(), group.mode)
    try:
        return _Query(store, source, clock, lease, runs).harvest(group, source.requests_sent)
    except BaseException as exc:  # a run this process started never stays 'running'
        store.fail_running(list(runs.values()), clock(), f"the harvest ended: {exc!r}"[:500])
        raise


@dataclass(slots=True)
class _Query:
    """One query's harvest: its runs, and where its outcome is recorded."""

    store: Store
    source: ArxivSource
    clock: Clock
    lease: Lease | None
    runs: dict[str, int]
    #: the ids of each anchored author's identifier feed, asked once per query
    claimed: dict[str, frozenset[str]] | None = None

    def harvest(self, group: Group, before: int) -> list[AuthorReport]:
        """``before``: the request count when this query (or the one it was split from)
        began; its requests are booked on the first author's run."""
        if self.claimed is None:
            spent: dict[str, int] = {}
            try:
                claims = _claims(self.source, group, spent)
            except StopRequested:
                return self._close(group, RunTotals(RunStatus.STOPPED, error=STOP), before)
            self.claimed = {k: ids for k, ids in claims.items() if not isinstance(ids, FetchError)}
            failed = {k: exc for k, exc in claims.items() if isinstance(exc, FetchError)}
            if failed:
                return self._without(group, failed, before, spent)
        claimed = self.claimed
        try:
            papers = _fetch(self.source, group, claimed)
        except StopRequested:
            return self._close(group, RunTotals(RunStatus.STOPPED, error=STOP), before)
        except EntriesRefusedError as exc:
            return self._keep_valid_papers(group, exc, before)
        except TooManyResultsError as exc:
            if len(group.authors) == 1:
                return self._failed(group, exc, before)
            logger.info("%s; asking for half of the %d authors at a time", exc, len(group.authors))
            first, second = group.halves()
            reports = self.harvest(first, before)
            return reports + self.harvest(second, self.source.requests_sent)
        except UnsortedAnswerError as exc:
            if group.full:
                return self._failed(group, exc, before)
            logger.warning("%s: %s; harvesting them in full instead", ", ".join(group.keys), exc)
            self.store.set_mode(list(self.runs.values()), HarvestMode.FULL)
            return self.harvest(group.as_full(), before)
        except FetchError as exc:
            return self._failed(group, exc, before)
        return self._record(group, papers, self.source.requests_sent - before)

    def _without(
        self, group: Group, failed: dict[str, FetchError], before: int, spent: dict[str, int]
    ) -> list[AuthorReport]:
        """Authors whose identifier feed failed are not harvested (their anchors are
        unknown, so nothing can be decided); the others of the query are. A failed author
        is booked the requests of its own feed (``spent``), the others the rest."""
        reports = []
        for key, exc in failed.items():
            reports += self._failed(group.only([key]), exc, self.source.requests_sent - spent[key])
        rest = group.only([key for key in group.keys if key not in failed])
        if rest.authors:
            reports += self.harvest(rest, before + sum(spent[key] for key in failed))
        order = {key: i for i, key in enumerate(group.keys)}
        return sorted(reports, key=lambda r: order[r.key])

    def _record(
        self,
        group: Group,
        papers: list[Paper],
        requests: int,
    ) -> list[AuthorReport]:
        claimed = self.claimed or {}
        shares = attribute(group.authors, papers, claimed)
        watermark = min(newest_update(papers) or self.clock(), self.clock())  # never future
        harvests = [
            AuthorHarvest(
                key=author.key,
                run_id=self.runs[author.key],
                identity=author.identity_fingerprint,
                papers=shares[author.key],
                decide=anchors.matcher.decide,
                full=group.full,
                watermark=watermark,
                requests=requests if index == 0 else 0,
                anchors=anchors,
            )
            for index, author in enumerate(group.authors)
            for anchors in [_anchors(author, claimed.get(author.key, frozenset()))]
        ]
        shared = len(group.authors)
        try:
            outcomes = self.store.write_plans(self._decide(harvests), self.clock, self.lease)
        except LeaseLostError as exc:
            logger.warning("%s", exc)
            before = self.source.requests_sent - requests
            return self._close(group, RunTotals(RunStatus.INCOMPLETE, error=str(exc)), before)
        return [
            _reported(h, outcome, shared) for h, outcome in zip(harvests, outcomes, strict=True)
        ]

    def _decide(self, harvests: Sequence[AuthorHarvest]) -> list[AuthorPlan]:
        """Decide, then write: the store reads what the decisions need, the decisions
        (:mod:`harvester.planning`, pure) plan each author on it."""
        snapshot = self.store.load_snapshot([h.wanted for h in harvests])
        drafts = [draft(h, snapshot) for h in harvests]
        extras = self.store.load_extras(needs(drafts))
        return [decide(d, extras) for d in drafts]

    def _failed(self, group: Group, exc: FetchError, before: int) -> list[AuthorReport]:
        """A fetch that failed: every author's run says why; nothing else changes."""
        level = logging.INFO if isinstance(exc, UnreachableError) else logging.WARNING
        logger.log(level, "%s: harvest not complete: %s", ", ".join(group.keys), exc.message)
        status = RunStatus.INCOMPLETE if exc.temporary else RunStatus.FAILED
        return self._close(group, RunTotals(status, error=str(exc)), before, exc.temporary)

    def _keep_valid_papers(
        self, group: Group, exc: EntriesRefusedError, before: int
    ) -> list[AuthorReport]:
        """Entries refused: the authors they may belong to are incomplete (their valid
        papers kept, paper rows only); the others of a shared query are harvested."""
        for entry_id, reason in exc.refused:
            logger.warning("%s: refused entry %s: %s", ", ".join(group.keys), entry_id, reason)
        touched = group.only([a.key for a in group.authors if _touched(a, exc)])
        untouched = group.only([a.key for a in group.authors if a.key not in touched.keys])
        reports = []
        if untouched.authors:
            reports += self._record(untouched, list(exc.papers), self.source.requests_sent - before)
            before = self.source.requests_sent  # the requests are booked already
        seen = len(exc.papers) + len(exc.refused)
        totals = RunTotals(RunStatus.INCOMPLETE, entries_seen=seen, error=str(exc))
        reports += self._close(touched, totals, before, exc.temporary, exc.papers)
        order = {key: i for i, key in enumerate(group.keys)}
        return sorted(reports, key=lambda r: order[r.key])

    def _close(
        self,
        group: Group,
        totals: RunTotals,
        before: int,
        temporary: bool = True,
        papers: Sequence[Paper] = (),
    ) -> list[AuthorReport]:
        """Close every run of ``group`` with ``totals``, the requests booked on the first."""
        requests = self.source.requests_sent - before
        each = [
            RunTotals(**{**totals.values(), "requests": requests if i == 0 else 0})
            for i in range(len(group.authors))
        ]
        runs = [(self.runs[a.key], mine) for a, mine in zip(group.authors, each, strict=True)]
        self.store.record_incomplete(runs, self.clock(), papers)
        shared = len(group.authors)
        return [
            AuthorReport.of(a.key, mine, shared, temporary=temporary, mode=group.mode)
            for a, mine in zip(group.authors, each, strict=True)
        ]


def _reported(
    harvest: AuthorHarvest, outcome: Recorded | DatabaseError, shared_by: int
) -> AuthorReport:
    """An author's line from what the store wrote for it, or from why it wrote nothing."""
    mode = HarvestMode.FULL if harvest.full else HarvestMode.INCREMENTAL
    if isinstance(outcome, DatabaseError):  # this author's write alone was rolled back
        logger.error("%s: not stored: %s", harvest.key, outcome)
        totals = RunTotals(RunStatus.FAILED, harvest.requests, error=f"not stored: {outcome}")
        return AuthorReport.of(harvest.key, totals, shared_by, mode=mode)
    plan, totals = outcome.plan, outcome.totals
    if plan.stale:
        logger.warning(
            "%s: %d stale entries (an older version than stored; kept as stored), e.g. %s",
            harvest.key,
            len(plan.stale),
            ", ".join(plan.stale[:3]),
        )
    if plan.suspect_reason is not None:
        logger.warning("%s: suspect harvest, nothing changed: %s", harvest.key, plan.suspect_reason)
    return AuthorReport(
        harvest.key,
        totals.status,
        plan.paper_count,
        totals.new_papers,
        totals.new_versions,
        totals.events,
        harvest.requests,
        totals.error,
        shared_by=shared_by,
        mode=mode,
    )


def _claims(
    source: ArxivSource, group: Group, spent: dict[str, int]
) -> dict[str, frozenset[str] | FetchError]:
    """The ids in each anchored author's identifier feed (one request each, retries aside),
    or why they are not known; ``spent`` gets each author's requests. A shutdown
    (StopRequested) ends the query."""
    claims: dict[str, frozenset[str] | FetchError] = {}
    for author in group.authors:
        if author.anchor is None:
            continue
        before = source.requests_sent
        try:
            feed = source.author_feed(author.anchor)
        except FetchError as exc:
            claims[author.key] = exc
            continue
        finally:
            spent[author.key] = source.requests_sent - before
        ids, refused = claimed_ids(feed.entry_ids)
        if refused:
            logger.warning("%s: author feed entries without an arXiv id: %s", author.key, refused)
        claims[author.key] = ids
    return claims


def _anchors(author: AuthorSettings, claimed: frozenset[str]) -> Anchors:
    return Anchors(
        _matcher(author),
        claimed=claimed,
        include=frozenset(author.include_ids),
        exclude=frozenset(author.exclude_ids),
    )


def _fetch(
    source: ArxivSource, group: Group, claimed: dict[str, frozenset[str]] | None = None
) -> list[Paper]:
    """The group's query; a full harvest adds the ``include_ids`` and the papers of the
    authors' identifier feeds that the query did not return.

    An incremental harvest leaves those to the full ones: they were fetched by the last
    one, and an incremental harvest never takes a paper away.
    """
    max_total = MAX_GROUP_RESULTS if len(group.authors) > 1 else None
    since = None if group.full else group.since
    papers = source.search(group.query, normalise_entry, since=since, max_total=max_total).papers
    if not group.full:
        return papers
    returned = {p.arxiv_id for p in papers}
    listed = [
        i for a in group.authors for i in (*a.include_ids, *sorted((claimed or {}).get(a.key, ())))
    ]
    wanted = (i for i in listed if i not in returned)
    extra = list(dict.fromkeys(wanted))
    if extra:
        papers += source.search_ids(extra, normalise_entry).papers
    return papers


def _touched(author: AuthorSettings, exc: EntriesRefusedError) -> bool:
    """May a refused entry be this author's? Then the harvest is not complete for them.
    An author with ``include_ids`` is always touched: those were never fetched."""
    if author.include_ids:
        return True
    return any(may_concern(author, exc.authors.get(entry_id)) for entry_id, _ in exc.refused)


def _matcher(author: AuthorSettings) -> Matcher:
    return Matcher.for_profile(
        author.key, author.name, author.aliases, author.include_ids, author.exclude_ids
    )


def _skipped(author: AuthorSettings, why: str) -> AuthorReport:
    return AuthorReport(author.key, RunStatus.SKIPPED, error=why, temporary=True)


def _stopped(author: AuthorSettings) -> AuthorReport:
    """An author a shutdown reached before its harvest began (it has no run)."""
    return AuthorReport(author.key, RunStatus.STOPPED, error=STOP, temporary=True)
