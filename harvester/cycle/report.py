"""What a cycle reports: each author's outcome (:class:`AuthorReport`, the line ``harvest
--once`` prints), the cycle's (:class:`CycleReport`, its exit code), what it tells a watcher
as it goes (:class:`CycleProgress`) and how it is asked to run (:class:`CycleOptions`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..errors import (
    UnreachableError,
)
from ..exits import cycle_exit_code
from ..store import Leases, RunTotals
from ..vocabulary import HarvestMode, RunStatus

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
        padded to ``width``, so that the lines of one cycle align. An incomplete harvest
        that recorded what it read says so after its counts."""
        parts = [self.key.ljust(width)]
        if self.paper_count is not None:  # harvested: completely, or what it read
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
