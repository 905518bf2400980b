"""One query's harvest and its failure policy: fetch the group's answer with no transaction
open (:mod:`.fetch`), split it between the authors, decide, write (:class:`_Query`); a
failed fetch, an answer too large (split the group), an unsorted one (harvest it in full),
an answer incomplete for some authors (record what it read for them, take nothing away),
a lost lease or a stop each end the query's runs as they should.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..batching import (
    Group,
    attribute,
    newest_update,
)
from ..config import AuthorSettings, NotifySettings
from ..errors import (
    DatabaseError,
    FetchError,
    LeaseLostError,
    StopRequested,
    TooManyResultsError,
    UnreachableError,
    UnsortedAnswerError,
)
from ..identity import Anchors, Matcher
from ..logformat import listed
from ..normalise import claimed_ids
from ..plans import AuthorPlan
from ..source import ArxivSource
from ..store import Lease, Recorded, RunTotals, Store
from ..vocabulary import HarvestMode, RunStatus
from .fetch import Answer
from .fetch import fetch as search_fetch
from .planning import AuthorHarvest, decide, draft, needs
from .report import STOP, AuthorReport, Clock

logger = logging.getLogger(__name__)


Fetch = Callable[[ArxivSource, Group, dict[str, frozenset[str]] | None], Answer]
"""What a query's answer is: the group's search (:func:`.fetch.fetch`), or the papers an
OAI-PMH harvest brought (:mod:`harvester.cycle.oai`)."""


def harvest_group(
    store: Store,
    source: ArxivSource,
    group: Group,
    clock: Clock,
    lease: Lease | None,
    targets: Sequence[NotifySettings] = (),
    fetch: Fetch | None = None,
) -> list[AuthorReport]:
    """Harvest one query's authors completely, or record why not; never raises FetchError.
    ``targets``: the notification targets whose outbox items go with the events; ``fetch``
    answers the group (default: its search, :mod:`.fetch`)."""
    runs = store.start_runs(group.keys, clock(), group.mode)
    query = _Query(store, source, clock, lease, runs, fetch or search_fetch, targets=targets)
    try:
        return query.harvest(group, source.requests_sent)
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
    fetch: Fetch
    #: the ids of each anchored author's identifier feed, asked once per query
    claimed: dict[str, frozenset[str]] | None = None
    targets: Sequence[NotifySettings] = ()

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
            answer = self.fetch(self.source, group, claimed)
        except StopRequested:
            return self._close(group, RunTotals(RunStatus.STOPPED, error=STOP), before)
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
            if not exc.partial:
                return self._failed(group, exc, before)
            answer = Answer(list(exc.partial), dict.fromkeys(group.keys, exc))
        return self._record(group, answer, self.source.requests_sent - before)

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

    def _record(self, group: Group, answer: Answer, requests: int) -> list[AuthorReport]:
        """Decide and write every author's harvest; an author the answer is incomplete for
        (:attr:`Answer.shortfalls`) gets what it read and nothing taken away."""
        claimed = self.claimed or {}
        papers = answer.papers
        shares = attribute(group.authors, papers, claimed)
        watermark = min(newest_update(papers) or self.clock(), self.clock())  # never future
        harvests = [
            AuthorHarvest(
                key=author.key,
                run_id=self.runs[author.key],
                identity=author.identity_fingerprint,
                papers=shares[author.key],
                decide=anchors.matcher.decide,
                full=group.full and shortfall is None,
                watermark=watermark,
                requests=requests if index == 0 else 0,
                anchors=anchors,
                shortfall=shortfall,
            )
            for index, author in enumerate(group.authors)
            for anchors in [_anchors(author, claimed.get(author.key, frozenset()))]
            for shortfall in [answer.shortfall(author.key)]
        ]
        shared = len(group.authors)
        try:
            outcomes = self.store.write_plans(
                self._decide(harvests), self.clock, self.lease, self.targets
            )
        except LeaseLostError as exc:
            logger.warning("%s", exc)
            before = self.source.requests_sent - requests
            return self._close(group, RunTotals(RunStatus.INCOMPLETE, error=str(exc)), before)
        return [
            _reported(h, outcome, shared, group.mode, answer.shortfalls.get(h.key))
            for h, outcome in zip(harvests, outcomes, strict=True)
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

    def _close(
        self,
        group: Group,
        totals: RunTotals,
        before: int,
        temporary: bool = True,
    ) -> list[AuthorReport]:
        """Close every run of ``group`` with ``totals``, the requests booked on the first."""
        requests = self.source.requests_sent - before
        each = [
            RunTotals(**{**totals.values(), "requests": requests if i == 0 else 0})
            for i in range(len(group.authors))
        ]
        runs = [(self.runs[a.key], mine) for a, mine in zip(group.authors, each, strict=True)]
        self.store.record_incomplete(runs, self.clock())
        shared = len(group.authors)
        return [
            AuthorReport.of(a.key, mine, shared, temporary=temporary, mode=group.mode)
            for a, mine in zip(group.authors, each, strict=True)
        ]


def _reported(
    harvest: AuthorHarvest,
    outcome: Recorded | DatabaseError,
    shared_by: int,
    mode: HarvestMode,
    shortfall: FetchError | None = None,
) -> AuthorReport:
    """An author's line from what the store wrote for it, or from why it wrote nothing."""
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
    if shortfall is not None:
        logger.warning("%s: harvest not complete: %s", harvest.key, shortfall.message)
    return AuthorReport(
        harvest.key,
        totals.status,
        plan.paper_count,
        totals.new_papers,
        totals.new_versions,
        totals.events,
        harvest.requests,
        totals.error,
        temporary=shortfall is not None and shortfall.temporary,
        shared_by=shared_by,
        mode=mode,
    )


def _claims(
    source: ArxivSource, group: Group, spent: dict[str, int]
) -> dict[str, frozenset[str] | FetchError]:
    """The ids in each anchored author's identifier feed and, with ``orcid`` set, public
    ORCID record (one request each, retries aside), or why they are not known; ``spent``
    gets each author's requests. A shutdown (StopRequested) ends the query."""
    claims: dict[str, frozenset[str] | FetchError] = {}
    for author in group.authors:
        if author.anchor is None:
            continue
        before = source.requests_sent
        try:
            feed = source.author_feed(author.anchor)
            orcid = source.orcid_claims(author.orcid) if author.orcid else ()
        except FetchError as exc:
            claims[author.key] = exc
            continue
        finally:
            spent[author.key] = source.requests_sent - before
        ids, refused = claimed_ids((*feed.entry_ids, *orcid))
        if refused:
            logger.warning(
                "%s: %d author feed entries without an arXiv id: %s",
                author.key,
                len(refused),
                listed(refused),
            )
        claims[author.key] = ids
    return claims


def _anchors(author: AuthorSettings, claimed: frozenset[str]) -> Anchors:
    return Anchors(
        _matcher(author),
        claimed=claimed,
        include=frozenset(author.include_ids),
        exclude=frozenset(author.exclude_ids),
    )


def _matcher(author: AuthorSettings) -> Matcher:
    return Matcher.for_profile(
        author.key, author.name, author.aliases, author.include_ids, author.exclude_ids
    )


def skipped(author_key: str, why: str) -> AuthorReport:
    return AuthorReport(author_key, RunStatus.SKIPPED, error=why, temporary=True)


def stopped(author: AuthorSettings) -> AuthorReport:
    """An author a shutdown reached before its harvest began (it has no run)."""
    return AuthorReport(author.key, RunStatus.STOPPED, error=STOP, temporary=True)
