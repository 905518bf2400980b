"""``harvest daemon``: the one-shot harvest on a timer, as a well-behaved systemd service.

The scheduled job runs what ``harvest --once`` runs, :func:`harvester.cycle.harvest_once`;
it adds only bookkeeping (progress for the watchdog, a status line). Decisions, with the
reasons in the project's operations notes:

- **APScheduler 3**, a ``BackgroundScheduler`` with one worker thread and explicit job
  defaults (:data:`JOB_DEFAULTS`: the library's 1 s misfire grace silently drops late runs),
  in UTC. The job lives in memory; the run history lives in our own tables. On start the
  daemon harvests at once if some author's last complete harvest is older than one
  interval of the schedule (or never happened), or when asked to (``--run-now``).
- **Signals** only set flags: the main thread polls them every :data:`POLL_SECONDS`
  (setting a ``threading.Event`` from a handler can deadlock the thread it interrupts).
  SIGTERM/SIGINT stop: no new author starts; pacer waits and retry sleeps wake at once
  (:class:`~harvester.errors.StopRequested`); the author in flight commits or rolls back.
  A request in flight cannot be cut from outside (its socket read lasts up to ``[arxiv]
  timeout_seconds``): after :data:`STOP_GRACE_SECONDS` the daemon closes that run as
  ``incomplete``, releases its leases and leaves. No transaction is ever open across HTTP,
  so nothing is half-written either way. Exit status 0.
- **SIGHUP** reloads the configuration; a bad one is logged and the old one kept.
- **sd_notify** (:mod:`harvester.notify`): READY=1 once the database is migrated and the
  scheduler runs, STATUS= after each cycle, WATCHDOG=1 every half ``WatchdogSec`` while the
  daemon is idle or its cycle shows progress (a request at least every
  :meth:`Daemon.stuck_after` seconds), STOPPING=1.
- **SQLite readers**: the daemon keeps one connection open, so the WAL index (``-shm``)
  exists while it runs and members of the database's group can read it with
  ``sqlite3 -readonly`` without write access to the state directory.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, NoReturn

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from .config import Settings
from .cycle import AuthorReport, CycleOptions, CycleProgress, CycleReport, harvest_once, utcnow
from .errors import HarvesterError
from .notify import Notifier
from .store import Held, Store, default_owner

logger = logging.getLogger(__name__)

JOB_ID = "harvest"
JOB_DEFAULTS: dict[str, Any] = {"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1}
"""A run up to an hour late still happens; missed runs collapse into one; never two at once."""

STOP_GRACE_SECONDS = 5.0
"""How long a stop waits for the cycle in flight before leaving without it (systemd and
the issue ask for a stop within 10 s)."""

POLL_SECONDS = 0.2
"""How often the main thread looks at the signal flags."""

Clock = Callable[[], datetime]


@dataclass
class _Database:
    """An open store; for SQLite, plus the connection that keeps the WAL index in place."""

    store: Store
    keeper: Held | None = None
    url: str = ""

    @classmethod
    def open(cls, url: str) -> _Database:
        store = Store.open(url)
        try:
            store.upgrade()
            keeper = store.hold_open()
        except BaseException:
            store.close()
            raise
        return cls(store, keeper, url)

    def close(self) -> None:
        if self.keeper is not None:
            self.keeper.close()
        self.store.close()


@dataclass
class _Flags:
    """What the signal handlers tell the main thread."""

    stop: int | None = None
    reload: bool = False
    retired: list[_Database] = field(default_factory=list)


class Daemon:
    """Harvest on ``settings.schedule`` until a signal says stop; see the module docstring.

    ``load`` re-reads the configuration on SIGHUP; ``on_reload`` applies what the daemon
    does not own itself (the log level).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        load: Callable[[], Settings],
        on_reload: Callable[[Settings], None] = lambda settings: None,
        notifier: Notifier | None = None,
        run_now: bool = False,
        first_progress: CycleProgress | None = None,
        clock: Clock = utcnow,
        exit_now: Callable[[int], NoReturn] = os._exit,
    ) -> None:
        self.settings = settings
        self.notifier = notifier or Notifier()
        self.run_now = run_now
        #: shown on a terminal during the first cycle (``--run-now``), then dropped
        self._first_progress = first_progress
        #: ``--run-now``: the first cycle harvests even authors harvested lately
        self._eager_since: datetime | None = None
        self.stop_event = threading.Event()
        self.owner = default_owner()
        self._load = load
        self._on_reload = on_reload
        self._clock = clock
        self._exit_now = exit_now
        self._flags = _Flags()
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._last_progress = time.monotonic()
        self._stalled_logged = False
        self._database: _Database | None = None
        self._scheduler: BackgroundScheduler | None = None

    # -- the main thread --------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0 on a clean stop. Call from the main thread."""
        previous = self._install_signal_handlers()
        try:
            self._database = _Database.open(self.settings.database.url)
            _warm_up()
            scheduler = self._start_scheduler()
            self.notifier.ready(self._waiting_status())
            logger.info("daemon started: %s", self._waiting_status())
            self._serve(scheduler)
            return self._shutdown(scheduler)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._close_databases()

    def stuck_after(self) -> float:
        """Seconds without a request after which a running cycle counts as stuck: the
        longest legitimate gap is a capped backoff plus a slow request (``3 x timeout``
        to read the body) plus the wait for a request slot shared with others."""
        a = self.settings.arxiv
        return a.max_wait_seconds + 4 * a.timeout_seconds + 10 * a.delay_seconds + 120

    def _start_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults=JOB_DEFAULTS,
            executors={"default": ThreadPoolExecutor(1)},
        )
        first: dict[str, Any] = {}
        due = "asked to (--run-now)" if self.run_now else self._overdue()
        if self.run_now:
            self._eager_since = self._clock()
        if due:
            logger.info("harvesting at once: %s", due)
            first["next_run_time"] = datetime.now(UTC)
        scheduler.add_job(
            self._cycle,
            trigger=self.settings.schedule.trigger(),
            id=JOB_ID,
            name="harvest cycle",
            **first,
        )
        self._scheduler = scheduler
        scheduler.start()
        return scheduler

    def _overdue(self) -> str:
        """Why a harvest is due now ("" if not): some author's last complete harvest is
        older than one interval of the schedule, or never happened."""
        assert self._database is not None
        now = self._clock()
        keys = [a.key for a in self.settings.authors]
        with self._database.store.run_log() as log:
            last = log.last_complete(keys)
        never = [key for key, finished in last.items() if finished is None]
        if never:
            return f"never completely harvested: {', '.join(never)}"
        oldest = min(finished for finished in last.values() if finished is not None)
        interval = self.settings.schedule.interval(now)
        if now - oldest < interval:
            return ""
        return f"the oldest complete harvest ended {_stamp(oldest)}, over {interval} ago"

    def _serve(self, scheduler: BackgroundScheduler) -> None:
        next_ping = 0.0
        while self._flags.stop is None:
            time.sleep(POLL_SECONDS)
            if self._flags.reload:
                self._flags.reload = False
                self._reload(scheduler)
            watchdog = self.notifier.watchdog_seconds
            if watchdog and time.monotonic() >= next_ping:
                next_ping = time.monotonic() + watchdog / 2
                if self._progressing():
                    self.notifier.watchdog()
        logger.info("stop requested (%s)", signal.Signals(self._flags.stop).name)

    def _shutdown(self, scheduler: BackgroundScheduler) -> int:
        self.stop_event.set()
        busy = not self._idle.is_set()
        self.notifier.stopping("stopping" + (": ending the harvest in flight" if busy else ""))
        scheduler.shutdown(wait=False)
        if self._idle.wait(STOP_GRACE_SECONDS):
            logger.info("stopped")
            return 0
        self._leave_without_the_cycle()
        return 0

    def _leave_without_the_cycle(self) -> None:
        """A request is still in flight: close its run, free its leases, exit at once."""
        logger.warning(
            "the harvest in flight did not end within %g s (a request is still open);"
            " closing its run as incomplete and leaving",
            STOP_GRACE_SECONDS,
        )
        assert self._database is not None
        try:
            leases = self._database.store.leases(self.owner)
            keys = leases.abandon(self._clock(), "stopped: shut down during a request")
            logger.info("closed the runs of %s", ", ".join(keys) or "no author")
        except HarvesterError as exc:  # leaving anyway: the leases expire on their own
            logger.warning("could not close the run in flight: %s", exc)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        self._exit_now(0)

    def _reload(self, scheduler: BackgroundScheduler) -> None:
        try:
            new = self._load()
            database = self._database
            if database is None or new.database.url != database.url:
                database = _Database.open(new.database.url)
        except HarvesterError as exc:
            logger.error("SIGHUP: keeping the old configuration: %s", exc)
            return
        with self._lock:
            old, self.settings = self.settings, new
            if database is not self._database and self._database is not None:
                self._flags.retired.append(self._database)
                self._database = database
        if new.schedule != old.schedule:
            scheduler.reschedule_job(JOB_ID, trigger=new.schedule.trigger())
        self._on_reload(new)
        self._close_retired()
        logger.info(
            "SIGHUP: configuration reloaded from %s (%d authors)", new.path, len(new.authors)
        )

    def _close_retired(self) -> None:
        with self._lock:
            if not self._idle.is_set():
                return
            retired, self._flags.retired = self._flags.retired, []
        for database in retired:
            database.close()

    def _close_databases(self) -> None:
        with self._lock:
            databases = [*self._flags.retired, *([self._database] if self._database else [])]
            self._flags.retired, self._database = [], None
        for database in databases:
            database.close()

    def _install_signal_handlers(self) -> dict[int, Any]:
        handlers = {
            signal.SIGTERM: self._on_stop_signal,
            signal.SIGINT: self._on_stop_signal,
            signal.SIGHUP: self._on_reload_signal,
        }
        return {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._flags.stop is None:
            self._flags.stop = signum

    def _on_reload_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._flags.reload = True

    # -- the scheduler's worker thread ------------------------------------------------

    def _cycle(self) -> None:
        """The scheduled job: :func:`~harvester.harvest.harvest_once`, as ``harvest --once``."""
        with self._lock:
            if self.stop_event.is_set() or self._database is None:
                return
            settings, store = self.settings, self._database.store
            done_since = self._eager_since or cycle_window_start(settings, self._clock())
            self._eager_since = None
            shown, self._first_progress = self._first_progress, None
            self._idle.clear()
        self._progress()
        self.notifier.status(f"harvesting {len(settings.authors)} authors")
        try:
            options = CycleOptions(leases=store.leases(self.owner), done_since=done_since)
            report = harvest_once(
                settings,
                store,
                options,
                stop=self.stop_event,
                progress=_Watchdog(self._progress, shown),
            )
        except HarvesterError as exc:
            logger.error("harvest cycle failed: %s", exc)
            self.notifier.status(f"last cycle {_stamp(self._clock())} failed: {exc}")
        else:
            self._report(report)
        finally:
            self._progress()
            self._idle.set()
            self._close_retired()

    def _report(self, report: CycleReport) -> None:
        for author in report.authors:
            logger.info("%s", author.line())
        counts: dict[str, int] = {}
        for author in report.authors:
            counts[author.status] = counts.get(author.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        status = f"last cycle {_stamp(self._clock())}: {summary}; {self._waiting_status()}"
        logger.info("%s", status)
        self.notifier.status(status)

    def _waiting_status(self) -> str:
        job = self._scheduler.get_job(JOB_ID) if self._scheduler is not None else None
        when = getattr(job, "next_run_time", None)
        return "next harvest " + (_stamp(when) if when is not None else "not scheduled")

    def _progress(self) -> None:
        self._last_progress = time.monotonic()
        self._stalled_logged = False

    def _progressing(self) -> bool:
        if self._idle.is_set():
            return True
        quiet = time.monotonic() - self._last_progress
        if quiet < self.stuck_after():
            return True
        if not self._stalled_logged:
            logger.error("no progress for %.0f s: not feeding the systemd watchdog", quiet)
            self._stalled_logged = True
        return False


class _Watchdog(CycleProgress):
    """Every request and every author done counts as progress for the systemd watchdog;
    ``shown`` (a terminal's progress display) hears of the cycle too."""

    def __init__(self, progressed: Callable[[], None], shown: CycleProgress | None) -> None:
        self.progressed = progressed
        self.shown = shown or CycleProgress()

    def started(self, authors: int, queries: int) -> None:
        self.shown.started(authors, queries)

    def request(self) -> None:
        self.progressed()
        self.shown.request()

    def author_done(self, report: AuthorReport) -> None:
        self.progressed()
        self.shown.author_done(report)

    def query_done(self) -> None:
        self.shown.query_done()

    def close(self) -> None:
        self.shown.close()


SCHEDULE_SLACK = timedelta(seconds=60)
"""How far apart daemons on one schedule may start beyond the configured jitter."""


def cycle_window_start(settings: Settings, now: datetime) -> datetime:
    """Since when a harvest counts as this scheduled cycle's.

    Every daemon sharing a database fires on the same schedule, up to ``jitter_seconds``
    (plus a minute of slack) apart; an author one of them harvested since then is not
    harvested again by the others. Never more than half an interval back, so the
    previous cycle's harvests do not count.
    """
    schedule = settings.schedule
    back = timedelta(seconds=schedule.jitter_seconds) + SCHEDULE_SLACK
    return now - min(back, schedule.interval(now) / 2)


def _warm_up() -> None:
    """Import scikit-learn once at start-up, so no cycle pays its second of import time."""
    import harvester.profile.similar  # noqa: F401


def _stamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"
