"""``harvest status``: is every tracked author's data fresh, and is harvesting working?

Per configured author: the last harvest (when it ended, its status, the paper count and
how the count changed), the failures since the last complete harvest, the next scheduled
run, and whether the data is *stale*: no complete harvest within two intervals of the
``[schedule]`` (for a crontab line, its widest gap between runs, so that a weekday-only
schedule does not raise a false alarm over the weekend). Runs that were skipped (the author
was leased by another process) or are still running are not harvests and are left out.

:attr:`StatusReport.exit_code` makes it a monitoring check: 0 healthy, 1 when any author
is stale or failing, or no harvest has run yet (no database file, an empty one, no
schema). Reads only: the database is opened read-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import exits
from .config import AuthorSettings, ScheduleSettings, Settings
from .logformat import cut
from .schedule import next_fire_time, schedule_trigger
from .store import AuthorRuns, LastHarvest, RunLog, Store
from .vocabulary import HealthState, RunStatus

STALE_INTERVALS = 2
"""Data is stale after this many schedule intervals without a complete harvest."""
NOT_COMPLETE = (RunStatus.INCOMPLETE, RunStatus.FAILED)
"""Last harvests whose error ``harvest status`` repeats under the table."""
NOTE_CHARS = 300
"""How much of that error it repeats (it names the refused entries first)."""
NEVER_HARVESTED = (
    "no harvest has run yet in this database: run 'harvest --once' or start the daemon"
    " (if one has run, check the [database] url)"
)


@dataclass(frozen=True, slots=True)
class AuthorHealth:
    """One author's line of ``harvest status``."""

    key: str
    name: str
    last_harvest: LastHarvest | None
    last_complete_at: datetime | None
    paper_count: int | None
    #: how the last complete harvest changed the paper count (None: it was the baseline)
    count_change: int | None
    consecutive_failures: int
    stale: bool
    next_run: datetime | None
    #: the evidence found separate bodies of work under this name (see harvester.identity.evidence)
    ambiguous: bool = False
    #: papers held for review (``harvest review KEY``)
    held: int = 0

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0

    @property
    def state(self) -> HealthState:
        if self.last_complete_at is None:
            return HealthState.NEVER_HARVESTED
        if self.stale:
            return HealthState.STALE
        return HealthState.FAILING if self.failing else HealthState.OK

    def to_dict(self) -> dict[str, Any]:
        last = self.last_harvest
        return {
            "key": self.key,
            "name": self.name,
            "state": self.state,
            "healthy": self.state == HealthState.OK,
            "last_harvest": None
            if last is None
            else {
                "finished_at": _iso(last.finished_at),
                "status": last.status,
                "new_papers": last.new_papers,
                "new_versions": last.new_versions,
                "events": last.events,
                "error": last.error,
            },
            "last_complete_at": _iso(self.last_complete_at),
            "paper_count": self.paper_count,
            "count_change": self.count_change,
            "consecutive_failures": self.consecutive_failures,
            "stale": self.stale,
            "failing": self.failing,
            "next_run": _iso(self.next_run),
            "ambiguous": self.ambiguous,
            "held": self.held,
        }

    def harvest_note(self) -> str | None:
        """A line naming why the last harvest was not complete (a refused entry, a feed
        not fetched), else None: what it read is recorded, and the table says no more."""
        last = self.last_harvest
        if last is None or last.error is None or last.status not in NOT_COMPLETE:
            return None
        return f"{self.key}: last harvest {last.status}: {cut(last.error, NOTE_CHARS)}"

    def identity_note(self) -> str | None:
        """A line for a profile whose identity needs a person, else None."""
        if not self.ambiguous and not self.held:
            return None
        what = "ambiguous: the papers under this name split into separate bodies of work; "
        held = f"{self.held} paper{'' if self.held == 1 else 's'} held for review"
        return f"{self.key}: {what if self.ambiguous else ''}{held} (harvest review {self.key})"


@dataclass(frozen=True, slots=True)
class StatusReport:
    checked_at: datetime
    schedule: ScheduleSettings
    interval: timedelta
    next_run: datetime | None
    authors: tuple[AuthorHealth, ...]
    #: False: the database has no run log yet (no file, an empty one, no schema)
    harvested: bool = True

    @property
    def healthy(self) -> bool:
        return self.harvested and all(a.state == HealthState.OK for a in self.authors)

    @property
    def exit_code(self) -> int:
        return exits.OK if self.healthy else exits.INCOMPLETE

    def to_json(self) -> str:
        return json.dumps(
            {
                "healthy": self.healthy,
                "never_harvested": not self.harvested,
                "checked_at": _iso(self.checked_at),
                "schedule": _describe(self.schedule),
                "interval_seconds": self.interval.total_seconds(),
                "stale_after_seconds": (STALE_INTERVALS * self.interval).total_seconds(),
                "next_run": _iso(self.next_run),
                "authors": [a.to_dict() for a in self.authors],
            },
            indent=2,
        )

    def render(self) -> str:
        """A table, one author a line, then the schedule."""
        rows: list[tuple[str, ...]] = [
            ("author", "last harvest", "status", "papers", "change", "failures", "state")
        ]
        rows += [_row(a) for a in self.authors]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        right = {3, 4, 5}
        lines = [
            "  ".join(
                cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                for i, cell in enumerate(row)
            ).rstrip()
            for row in rows
        ]
        lines += [note for a in self.authors if (note := a.harvest_note()) is not None]
        lines += [note for a in self.authors if (note := a.identity_note()) is not None]
        if not self.harvested:
            lines.append(NEVER_HARVESTED)
        stale_after = _duration(STALE_INTERVALS * self.interval)
        lines.append(
            f"schedule: {_describe(self.schedule)}; next run {_when(self.next_run)}"
            f"{_jitter(self.schedule)}; stale after {stale_after} without a complete harvest"
        )
        return "\n".join(lines)


def collect_status(store: Store | None, settings: Settings, now: datetime) -> StatusReport:
    """Read the run log for every configured author (read-only). ``store`` None (no
    database file yet) or a database without a run log: no harvest has run yet, every
    author is unhealthy, and that is a report, not a database error."""
    schedule = settings.schedule
    interval = schedule.interval(now)
    if store is None:
        return _never_harvested(settings, now, interval)
    with store.run_log() as log:
        if not log.exists():
            return _never_harvested(settings, now, interval)
        next_run = _next_run(log, settings, now, interval)
        runs = log.authors([a.key for a in settings.authors])
        authors = tuple(_health(runs[a.key], a, now, interval, next_run) for a in settings.authors)
    return StatusReport(now, schedule, interval, next_run, authors)


def _never_harvested(settings: Settings, now: datetime, interval: timedelta) -> StatusReport:
    schedule = settings.schedule
    next_run = _next_run(None, settings, now, interval)
    nothing = AuthorRuns(None, None, 0, None, None)
    authors = tuple(_health(nothing, a, now, interval, next_run) for a in settings.authors)
    return StatusReport(now, schedule, interval, next_run, authors, harvested=False)


def _health(
    runs: AuthorRuns,
    author: AuthorSettings,
    now: datetime,
    interval: timedelta,
    next_run: datetime | None,
) -> AuthorHealth:
    complete_at = runs.last_complete_at
    stale = complete_at is None or now - complete_at > STALE_INTERVALS * interval
    return AuthorHealth(
        key=author.key,
        name=author.name,
        last_harvest=runs.last_harvest,
        last_complete_at=complete_at,
        paper_count=runs.paper_count,
        count_change=runs.count_change,
        consecutive_failures=runs.consecutive_failures,
        stale=stale,
        next_run=next_run,
        ambiguous=runs.ambiguous,
        held=runs.held,
    )


def _next_run(
    log: RunLog | None, settings: Settings, now: datetime, interval: timedelta
) -> datetime | None:
    """Cron: the next fire time. Interval: the latest cycle's start plus one interval."""
    schedule = settings.schedule
    if schedule.interval_seconds is None:
        return next_fire_time(schedule_trigger(schedule.cron, None, 0.0), now)
    if log is None:
        return None
    started = log.latest_start([a.key for a in settings.authors])
    return None if started is None else started + interval


def _row(a: AuthorHealth) -> tuple[str, ...]:
    last = a.last_harvest
    change = "base" if a.count_change is None else f"{a.count_change:+d}"  # base: the first
    return (
        a.key,
        _when(last.finished_at) if last is not None else "never",
        last.status if last is not None else "-",
        "-" if a.paper_count is None else str(a.paper_count),
        change if a.last_complete_at is not None else "-",
        str(a.consecutive_failures),
        a.state,
    )


def _describe(schedule: ScheduleSettings) -> str:
    if schedule.interval_seconds is not None:
        return f"every {schedule.interval_seconds:g} s"
    return f"cron {schedule.cron!r} (UTC)"


def _jitter(schedule: ScheduleSettings) -> str:
    return f" (+ up to {schedule.jitter_seconds:g} s)" if schedule.jitter_seconds else ""


def _when(moment: datetime | None) -> str:
    return "unknown" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
