"""The run log read back: what ``harvest status`` and the daemon's start-up check need.

Runs that were skipped (another process had the author), stopped by a shutdown or are
still running are not harvests and are left out of "the last harvest" and of the failures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, inspect, select

from ..vocabulary import Membership, RunStatus
from . import schema as t
from .engine import read_session

NOT_HARVESTS = (RunStatus.RUNNING, RunStatus.SKIPPED, RunStatus.STOPPED)
"""Run statuses that are not (finished) harvests: a routine stop is not a failure."""


@dataclass(frozen=True, slots=True)
class LastHarvest:
    finished_at: datetime | None
    status: str
    new_papers: int
    new_versions: int
    events: int
    error: str | None


@dataclass(frozen=True, slots=True)
class AuthorRuns:
    """One author's harvests as the run log tells them."""

    last_harvest: LastHarvest | None
    last_complete_at: datetime | None
    #: failed, incomplete or suspect harvests since the last complete one
    consecutive_failures: int
    paper_count: int | None
    #: how the last complete harvest changed the count (None: it was the baseline)
    count_change: int | None
    #: the evidence last found the candidates split into separate bodies of work
    ambiguous: bool = False
    #: papers held for review (``harvest review``)
    held: int = 0


@contextmanager
def run_log(engine: Engine) -> Iterator[RunLog]:
    """The run log on one reading connection; a failure to read it is one line."""
    with read_session(engine, doing="cannot read the run log", rows="run") as conn:
        yield RunLog(conn)


class RunLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def exists(self) -> bool:
        """Whether the database has a run log at all (False: an empty file, or a database
        no harvest or ``harvest db upgrade`` has touched yet)."""
        return inspect(self.conn).has_table(t.run.name)

    def last_complete(self, keys: Sequence[str]) -> dict[str, datetime | None]:
        """When each author's latest complete (``ok``) harvest ended; None if never."""
        r = t.run.c
        stmt = (
            select(r.author_key, func.max(r.finished_at))
            .where(r.author_key.in_(list(keys)), r.status == RunStatus.OK)
            .group_by(r.author_key)
        )
        found = {key: finished for key, finished in self.conn.execute(stmt)}
        return {key: found.get(key) for key in keys}

    def latest_start(self, keys: Sequence[str]) -> datetime | None:
        """When the latest run of any of ``keys`` started."""
        r = t.run.c
        stmt = select(func.max(r.started_at)).where(r.author_key.in_(list(keys)))
        started: datetime | None = self.conn.execute(stmt).scalar()
        return started

    def author(self, key: str) -> AuthorRuns:
        r = t.run.c
        columns = (
            r.run_id,
            r.finished_at,
            r.status,
            r.new_papers,
            r.new_versions,
            r.events,
            r.error,
        )
        harvests = (
            select(*columns)
            .where(r.author_key == key, r.status.not_in(NOT_HARVESTS))
            .order_by(r.run_id.desc())
            .limit(1)
        )
        last = self.conn.execute(harvests).one_or_none()
        last_ok = self.conn.execute(harvests.where(r.status == RunStatus.OK)).one_or_none()
        ok_run = last_ok.run_id if last_ok is not None else None
        count, change = self._count(key, ok_run)
        return AuthorRuns(
            last_harvest=None if last is None else LastHarvest(*tuple(last)[1:]),
            last_complete_at=last_ok.finished_at if last_ok is not None else None,
            consecutive_failures=self._failures(key, ok_run or 0),
            paper_count=count,
            count_change=change,
            ambiguous=bool(
                self.conn.execute(select(t.author.c.ambiguous).where(t.author.c.key == key))
                .scalars()
                .first()
            ),
            held=self._held(key),
        )

    def _held(self, key: str) -> int:
        m = t.membership.c
        stmt = select(func.count()).where(m.author_key == key, m.status == Membership.HELD)
        held: int = self.conn.execute(stmt).scalar_one()
        return held

    def _failures(self, key: str, after_run: int) -> int:
        r = t.run.c
        stmt = (
            select(func.count())
            .select_from(t.run)
            .where(
                r.author_key == key,
                r.status.not_in((*NOT_HARVESTS, RunStatus.OK)),
                r.run_id > after_run,
            )
        )
        failures: int = self.conn.execute(stmt).scalar_one()
        return failures

    def _count(self, key: str, last_ok_run: int | None) -> tuple[int | None, int | None]:
        """The paper count now, and the change the last complete harvest made to it."""
        c = t.count_change.c
        latest = self.conn.execute(
            select(c.paper_count, c.previous_count, c.run_id)
            .where(c.author_key == key)
            .order_by(c.change_id.desc())
            .limit(1)
        ).one_or_none()
        if latest is None:
            return None, None
        if latest.run_id != last_ok_run:
            return latest.paper_count, 0
        if latest.previous_count is None:
            return latest.paper_count, None
        return latest.paper_count, latest.paper_count - latest.previous_count
