"""A cycle through arXiv's OAI-PMH service (``[harvest] source = "oai"``).

Instead of a search query per author (group), the cycle asks ``ListRecords`` (format
``arXivRaw``) once per configured set (``[oai] sets``; none: all of arXiv), ``from`` a day
before the newest datestamp the set's last complete harvest saw (its first harvest: ``[oai]
from_date``, else the service's earliest date), through every resumption token
(:class:`harvester.source.OaiClient`). Its cost is the delta's pages, whatever the number of
authors tracked.

The records become papers with their whole version history, and every tracked author is
one group of one incremental query whose answer is that delta: each author's share is what
the author's own search would return (:func:`harvester.batching.attribute`), then the same
identity evidence, anchors (an anchored author's identifier feed is still asked, one request
each), review and plans as with the search API decide and write it
(:mod:`harvester.cycle.query`). A paper that went v1 -> v3 between two cycles records one
``new_version`` event per version, each with its date (:mod:`harvester.changes`).

A set's window moves (``oai_window``) only when its harvest was complete and every author's
run was written: a failed or stopped cycle asks the same window again next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..batching import AuthorState, Group, attribute
from ..config import AuthorSettings, OaiSettings, Settings
from ..errors import FetchError
from ..normalise import InvalidEntryError, normalise_entry
from ..records import OaiRecord, Paper
from ..source import ArxivSource, OaiClient, WindowReport
from ..store import Store
from ..vocabulary import HarvestMode, RunStatus
from .fetch import Answer
from .report import DEFAULT_OPTIONS, AuthorReport, CycleOptions, CycleProgress, CycleReport
from .run import run_cycle

__all__ = ["OaiDelta", "paper_of", "run_oai_cycle"]

logger = logging.getLogger(__name__)


def run_oai_cycle(
    settings: Settings,
    store: Store,
    source: ArxivSource,
    options: CycleOptions = DEFAULT_OPTIONS,
    progress: CycleProgress | None = None,
) -> CycleReport:
    """One cycle over OAI-PMH: the delta of every configured set, matched locally against
    every chosen author; the windows move once everything was written."""
    delta = OaiDelta(OaiClient(source, settings.oai.url), store, settings.oai)
    started = options.clock()
    report = run_cycle(settings, store, source, options, progress, plan=delta.plan, fetch=delta)
    if delta.quiet:
        store.record_quiet_runs(delta.quiet, started, options.clock())
        quiet = {key: _quiet(key, len(delta.quiet)) for key in delta.quiet}
        report.authors = [*report.authors, *quiet.values()]
        order = {a.key: i for i, a in enumerate(settings.authors)}
        report.authors.sort(key=lambda r: order.get(r.key, len(order)))
    written = all(r.status in (RunStatus.OK, RunStatus.SUSPECT) for r in report.authors)
    if delta.complete and written:
        now = options.clock()
        for window in delta.windows:
            store.record_oai_window(window.set_spec or "", window.newest, now)
    return report


@dataclass
class OaiDelta:
    """The papers of every configured set's window, harvested once per cycle (the first
    time a group asks; a group split later gets the same answer)."""

    client: OaiClient
    store: Store
    settings: OaiSettings
    windows: list[WindowReport] = field(default_factory=list)
    papers: list[Paper] | None = None
    refused: list[str] = field(default_factory=list)
    #: authors the delta holds nothing for: a quiet run each, no decision, no write
    quiet: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.papers is not None and all(w.complete for w in self.windows)

    @property
    def first(self) -> bool:
        """No set was harvested completely yet and none starts at a date of its own: the
        windows begin at the service's earliest date, so they hold every paper."""
        specs = self.settings.sets or ("",)
        never = all(self.store.oai_window_start(spec) is None for spec in specs)
        return never and self.settings.from_date is None

    def plan(
        self,
        settings: Settings,
        chosen: list[AuthorSettings],
        states: dict[str, AuthorState],
        started: datetime,
        full: bool,
    ) -> list[Group]:
        """Every author in one group, the delta being everybody's answer: a full harvest
        (the baseline) when the windows start at the earliest date, else incremental."""
        if not chosen:
            return []
        if self.first:
            return [Group(tuple(chosen), HarvestMode.FULL)]
        try:
            self.papers = self._harvest()
        except FetchError:  # asked again by the group's query, which records the failure
            return [Group(tuple(chosen), HarvestMode.INCREMENTAL)]
        touched = _touched(chosen, self.papers)
        self.quiet = [a.key for a in chosen if a.key not in touched]
        group = tuple(a for a in chosen if a.key in touched)
        return [Group(group, HarvestMode.INCREMENTAL)] if group else []

    def __call__(
        self, source: ArxivSource, group: Group, claimed: dict[str, frozenset[str]] | None
    ) -> Answer:
        if self.papers is None:
            self.papers = self._harvest()
        return Answer(self.papers)

    def _harvest(self) -> list[Paper]:
        papers: dict[str, Paper] = {}
        self.windows = []
        for spec in self.settings.sets or (None,):
            start = self.store.oai_window_start(spec or "") or self.settings.from_date
            window = WindowReport(spec, start)
            self.windows.append(window)
            for record in self.client.list_records(window):
                paper = self._paper(record)
                if paper is not None and _newer(paper, papers.get(paper.arxiv_id)):
                    papers[paper.arxiv_id] = paper
            logger.info(
                "OAI-PMH %s from %s: %d records in %d pages (%d repeated, %d restarts)",
                spec or "all of arXiv", window.start, window.records, window.pages,
                window.repeated, window.restarts,
            )  # fmt: skip
        return list(papers.values())

    def _paper(self, record: OaiRecord) -> Paper | None:
        try:
            return paper_of(record)
        except InvalidEntryError as exc:
            self.refused.append(f"{record.arxiv_id}: {exc}")
            logger.warning("OAI-PMH record %s refused: %s", record.arxiv_id, exc)
            return None


def _touched(chosen: list[AuthorSettings], papers: list[Paper]) -> set[str]:
    """The authors a delta may change: a paper in their share (as their own search would
    return it), or an identifier feed whose claims only a request can tell."""
    shares = attribute(chosen, papers)
    return {a.key for a in chosen if shares[a.key] or a.anchor is not None}


def _quiet(key: str, shared_by: int) -> AuthorReport:
    return AuthorReport(key, RunStatus.OK, shared_by=shared_by, mode=HarvestMode.INCREMENTAL)


def paper_of(record: OaiRecord) -> Paper | None:
    """The paper of a record, with its version history (None: a deleted record). Withdrawn
    as with the API when the comment says so, and also when the latest version, after
    others, is empty (``0kb``: a withdrawal notice has no content)."""
    if record.deleted or record.entry is None:
        return None
    paper = normalise_entry(record.entry)
    last = record.versions[-1] if record.versions else None
    emptied = last is not None and len(record.versions) > 1 and last.size_kb == 0
    return replace(paper, history=record.versions, withdrawn=paper.withdrawn or emptied)


def _newer(paper: Paper, held: Paper | None) -> bool:
    return held is None or paper.version >= held.version
