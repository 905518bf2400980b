"""When the daemon harvests: ``[schedule]`` turned into an APScheduler 3 trigger, in UTC.

A schedule is a 5-field crontab line (``minute hour day month day-of-week``, in UTC) or a
plain interval. Two traps of APScheduler 3's ``CronTrigger.from_crontab`` are avoided here
(see its docstring and https://github.com/agronholm/apscheduler/issues/286):

- APScheduler 3 counts weekdays from 0 = Monday, crontab from 0 = Sunday (7 is Sunday too).
  :func:`crontab_trigger` expands the day-of-week field with crontab's numbering and hands
  APScheduler weekday *names*, which mean the same in both.
- crontab fires when *either* a restricted day of month *or* a restricted day of week
  matches; APScheduler requires both. A line restricting both is refused rather than
  silently read the other way.

Everything here is pure (no clock, no I/O): callers pass ``now``.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

__all__ = [
    "crontab_trigger",
    "next_fire_time",
    "nominal_interval",
    "schedule_trigger",
]

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_ITEM = re.compile(r"(\*|\w+)(?:-(\w+))?(?:/(\d+))?")
_SAMPLED_FIRES = 8
"""How many upcoming fire times :func:`nominal_interval` looks at."""


def crontab_trigger(expr: str, *, jitter_seconds: float = 0.0) -> CronTrigger:
    """A UTC trigger for a 5-field crontab line, read as cron(8) reads it.

    Raises :class:`ValueError` with a one-line reason for anything else (``@daily``,
    six fields, bad values, or both day fields restricted).
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day month day-of-week), got {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ValueError(
            "restricts both day of month and day of week (cron ORs them, APScheduler ANDs"
            " them); restrict one of them"
        )
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday),
            timezone="UTC",
            jitter=_jitter(jitter_seconds),
        )
    except ValueError as exc:
        raise ValueError(" ".join(str(exc).split())) from None


def schedule_trigger(
    cron: str | None, interval_seconds: float | None, jitter_seconds: float
) -> BaseTrigger:
    """The trigger of a ``[schedule]``: the interval when given, else the crontab line."""
    if interval_seconds is not None:
        return IntervalTrigger(
            seconds=interval_seconds, timezone="UTC", jitter=_jitter(jitter_seconds)
        )
    if cron is None:
        raise ValueError("a schedule needs a cron line or an interval")
    return crontab_trigger(cron, jitter_seconds=jitter_seconds)


def next_fire_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The trigger's next fire time after ``now`` (without jitter only if built without)."""
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire


def nominal_interval(cron: str | None, interval_seconds: float | None, now: datetime) -> timedelta:
    """The longest gap between two runs of the schedule (jitter left out).

    For a crontab line, the widest gap among the next few fire times: ``0 2 * * 1-5``
    gives three days (Friday to Monday), so "two intervals" is never a false alarm.
    """
    if interval_seconds is not None:
        return timedelta(seconds=interval_seconds)
    trigger = schedule_trigger(cron, None, 0.0)
    fires: list[datetime] = []
    previous: datetime | None = None
    moment = now
    for _ in range(_SAMPLED_FIRES):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        fires.append(fire)
        previous, moment = fire, fire
    gaps = [later - earlier for earlier, later in itertools.pairwise(fires)]
    if not gaps:
        raise ValueError("the schedule fires fewer than twice")
    return max(gaps)


def _jitter(seconds: float) -> int | None:
    """APScheduler takes whole seconds; 0 means none."""
    return round(seconds) or None


def _weekdays(field: str) -> str:
    """Crontab's day-of-week field as APScheduler weekday names (``1-5`` -> ``mon,...,fri``)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        days |= _weekday_item(item)
    if len(days) == 7:
        return "*"
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday_item(item: str) -> set[int]:
    match = _WEEKDAY_ITEM.fullmatch(item.strip().lower())
    if match is None:
        raise ValueError(f"invalid day of week {item!r}")
    first, last, step = match.groups()
    if first == "*":
        if last is not None:
            raise ValueError(f"invalid day of week {item!r}")
        low, high = 0, 6
    else:
        low = _weekday(first)
        high = low if last is None and not step else 6
        if last is not None:
            high = 7 if last == "7" else _weekday(last)  # 7 is Sunday, as the end of a range
    if high < low:
        raise ValueError(f"day-of-week range {item!r} runs backwards")
    return {day % 7 for day in range(low, high + 1, int(step or 1))}


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text) % 7
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"invalid day of week {text!r} (0-7 or sun-sat)")
