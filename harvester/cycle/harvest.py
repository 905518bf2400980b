"""The one-shot job: :func:`harvest_once`, what ``harvest --once``, the daemon's scheduled
job, the benchmarks and the tests all run.

It opens the production source (the search API, or OAI-PMH with ``[harvest] source =
"oai"``: :mod:`.oai`) (requests paced through the database, so ``[arxiv]
delay_seconds`` and the one-connection rule hold across every process sharing it), runs
one cycle (:func:`harvester.cycle.run_cycle`), delivers the notifications its commits left
in the outbox (:func:`harvester.alerts.after_cycle`: never fatal), then the derived steps
(similar authors and the static site: :func:`harvester.profile.after_cycle`) unless a stop
was requested. Processes that harvest the same database at once (workers) leave those
steps to the one whose cycle ends last (:mod:`harvester.store.sharing`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..config import Settings
from ..errors import DatabaseError
from ..source import ArxivSource, OrcidRecords
from ..store import SharedCycle, Store, slot_name
from ..vocabulary import HarvestSource
from .oai import run_oai_cycle
from .report import DEFAULT_OPTIONS, CycleOptions, CycleProgress, CycleReport
from .run import run_cycle

__all__ = ["CycleOptions", "CycleProgress", "harvest_once", "open_source"]

logger = logging.getLogger(__name__)


def harvest_once(
    settings: Settings,
    store: Store,
    options: CycleOptions = DEFAULT_OPTIONS,
    *,
    stop: threading.Event | None = None,
    progress: CycleProgress | None = None,
    derive: bool = True,
) -> CycleReport:
    """Harvest every configured author once (:class:`~harvester.sync.CycleOptions` says
    how); then, with ``derive`` and unless ``stop`` was set, refresh the derived data.
    The schema must be current (:meth:`Store.upgrade`)."""
    progress = progress or CycleProgress()
    source = open_source(settings, store, stop_event=stop, on_request=progress.request)
    cycle = run_oai_cycle if settings.harvest.source == HarvestSource.OAI else run_cycle
    shared = store.shared_cycle()
    try:
        try:
            with shared.harvesting():
                report = cycle(settings, store, source, options, progress)
            stopped = source.stop_event.is_set()
        finally:
            source.close()
            progress.close()
        _tidy_tables(store)
        if settings.notify and not stopped:
            from ..alerts import after_cycle as notify  # apprise is imported only when needed

            notify(settings, store, options.clock)
        if derive and not stopped:
            _derive(settings, store, shared, source.stop_event)
    finally:
        shared.close()
    return report


def _tidy_tables(store: Store) -> None:
    """A cold harvest's rows get the planner's statistics before anything reads them, and
    the rows a cycle rewrites are vacuumed where nothing else does it; an optimisation, so
    a failure is one line and the cycle goes on."""
    try:
        store.tidy_if_stale()
    except DatabaseError as exc:
        logger.warning("tables not vacuumed or analyzed: %s", exc)


def _derive(settings: Settings, store: Store, shared: SharedCycle, stop: threading.Event) -> None:
    """The derived steps, by this process unless a cycle sharing the database has not
    ended yet: the last one to end refreshes once for all (:mod:`harvester.store.sharing`)."""
    with shared.refresh_turn(stop) as mine:
        if mine:
            from ..profile import after_cycle  # the renderers are not needed to harvest

            after_cycle(settings, store)


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
    pacer = store.pacer(
        settings.arxiv.delay_seconds,
        name=slot_name(settings.arxiv.api_url),
        stop_event=stop_event,
        on_request=on_request,
    )
    orcid = OrcidRecords(
        settings.orcid,
        settings.arxiv,
        pacer=store.pacer(
            settings.orcid.delay_seconds,
            name=slot_name(settings.orcid.api_url),
            stop_event=stop_event,
            on_request=on_request,
        ),
        stop_event=stop_event,
    )
    return ArxivSource(settings.arxiv, pacer=pacer, stop_event=stop_event, orcid=orcid)
