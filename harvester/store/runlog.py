"""The run log read back: what ``harvest status`` and the daemon's start-up check need.

Runs that were skipped (another process had the author), stopped by a shutdown or are
still running are not harvests and are left out of "the last harvest" and of the failures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Select,
    bindparam,
    func,
    inspect,
    select,
)

from ..vocabulary import Membership, RunStatus
from . import schema as t
from .engine import among, read_session

NOT_HARVESTS = (RunStatus.RUNNING, RunStatus.SKIPPED, RunStatus.STOPPED)
_HELD: BindParameter[str] = bindparam("held", Membership.HELD.value, literal_execute=True)
"""Written into the statement, not bound: SQLite uses the partial index
``ix_membership_held`` only for a constant it can match against the index's own WHERE."""
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
            .where(among(self.conn, r.author_key, list(keys)), r.status == RunStatus.OK)
            .group_by(r.author_key)
        )
        found = {key: finished for key, finished in self.conn.execute(stmt)}
        return {key: found.get(key) for key in keys}

    def latest_start(self, keys: Sequence[str]) -> datetime | None:
        """When the latest run of any of ``keys`` started."""
        r = t.run.c
        stmt = select(func.max(r.started_at)).where(among(self.conn, r.author_key, list(keys)))
        started: datetime | None = self.conn.execute(stmt).scalar()
        return started

    def authors(self, keys: Sequence[str]) -> dict[str, AuthorRuns]:
        """Every one of ``keys``' harvests as the run log tells them, in six statements
        whatever the number of authors (``harvest status`` at 10,000 authors)."""
        wanted = _Keys(keys)
        last = self._latest_runs(wanted, r_status=None)
        last_ok = self._latest_runs(wanted, r_status=RunStatus.OK)
        failures = self._failures(wanted)
        counts = self._counts(wanted)
        ambiguous = self._ambiguous(wanted)
        held = self._held(wanted)
        found: dict[str, AuthorRuns] = {}
        for key in keys:
            ok = last_ok.get(key)
            ok_run = ok.run_id if ok is not None else None
            latest = last.get(key)
            found[key] = AuthorRuns(
                last_harvest=None if latest is None else _last_harvest(latest),
                last_complete_at=ok.finished_at if ok is not None else None,
                consecutive_failures=failures.get(key, 0),
                paper_count=(count := _count(counts.get(key), ok_run))[0],
                count_change=count[1],
                ambiguous=bool(ambiguous.get(key)),
                held=held.get(key, 0),
            )
        return found

    def _latest_runs(self, wanted: _Keys, *, r_status: RunStatus | None) -> dict[str, Any]:
        """Each author's latest harvest (``r_status`` None) or latest one of ``r_status``."""
        r = t.run.c
        harvest = r.status == r_status if r_status is not None else r.status.not_in(NOT_HARVESTS)
        newest = wanted.where(
            select(func.max(r.run_id).label("run_id")).where(harvest), r.author_key
        ).group_by(r.author_key)
        stmt = select(
            r.author_key, r.run_id, r.finished_at, r.status, r.new_papers, r.new_versions,
            r.events, r.error,
        ).where(r.run_id.in_(newest))  # fmt: skip
        return {row.author_key: row for row in self.conn.execute(stmt)}

    def _failures(self, wanted: _Keys) -> dict[str, int]:
        """Failed, incomplete or suspect harvests after each author's latest complete one."""
        r, ok = t.run.c, t.run.alias("ok")
        last_ok = (
            select(ok.c.author_key, func.max(ok.c.run_id).label("run_id"))
            .where(ok.c.status == RunStatus.OK)
            .group_by(ok.c.author_key)
            .subquery()
        )
        stmt = wanted.where(
            select(r.author_key, func.count())
            .select_from(t.run.outerjoin(last_ok, last_ok.c.author_key == r.author_key))
            .where(
                r.status.not_in((*NOT_HARVESTS, RunStatus.OK)),
                r.run_id > func.coalesce(last_ok.c.run_id, 0),
            ),
            r.author_key,
        ).group_by(r.author_key)
        return {key: n for key, n in self.conn.execute(stmt)}

    def _counts(self, wanted: _Keys) -> dict[str, Any]:
        """Each author's latest paper count and the count before it, with its run."""
        c = t.count_change.c
        newest = wanted.where(select(func.max(c.change_id)), c.author_key).group_by(c.author_key)
        stmt = select(c.author_key, c.paper_count, c.previous_count, c.run_id).where(
            c.change_id.in_(newest)
        )
        return {row.author_key: row for row in self.conn.execute(stmt)}

    def _ambiguous(self, wanted: _Keys) -> dict[str, bool]:
        a = t.author.c
        stmt = wanted.where(select(a.key, a.ambiguous), a.key)
        return {key: bool(flag) for key, flag in self.conn.execute(stmt)}

    def _held(self, wanted: _Keys) -> dict[str, int]:
        m = t.membership.c
        stmt = wanted.where(
            select(m.author_key, func.count()).where(m.status == _HELD), m.author_key
        ).group_by(m.author_key)
        return {key: n for key, n in self.conn.execute(stmt)}


class _Keys:
    """The authors a run-log read is about: named in the statement while they are few,
    else every author read and the rest left out in Python (a statement of 10,000 bound
    parameters costs more than the rows it saves)."""

    NAMED_AT_MOST = 500

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(dict.fromkeys(keys))

    def where(self, stmt: Select[Any], column: ColumnElement[str]) -> Select[Any]:
        if len(self.keys) > self.NAMED_AT_MOST:
            return stmt
        return stmt.where(column.in_(self.keys))


def _last_harvest(run: Any) -> LastHarvest:
    return LastHarvest(
        run.finished_at, run.status, run.new_papers, run.new_versions, run.events, run.error
    )


def _count(latest: Any, last_ok_run: int | None) -> tuple[int | None, int | None]:
    """The paper count now, and the change the last complete harvest made to it."""
    if latest is None:
        return None, None
    if latest.run_id != last_ok_run:
        return latest.paper_count, 0
    if latest.previous_count is None:
        return latest.paper_count, None
    return latest.paper_count, latest.paper_count - latest.previous_count
