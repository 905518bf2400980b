"""Progress of a long cycle on a terminal: authors done of total, requests, time left.

Shown with ``tqdm`` on stderr only when a person watches: stderr is a terminal, the
command was not asked to be quiet, and systemd does not run us; and only for a cycle that
lasts more than :data:`SHOW_AFTER_SECONDS`. The time left is estimated at the configured
``delay_seconds`` per request: a query still to ask costs at least one request, and the
queries asked so far tell how many pages one takes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from ..cycle import AuthorReport, CycleProgress, CycleReport
from ..logformat import under_systemd
from ..vocabulary import RunStatus

if TYPE_CHECKING:
    from tqdm import tqdm

SHOW_AFTER_SECONDS = 3.0
"""A cycle shorter than this shows nothing."""


def wants_progress(stream: TextIO, environ: Mapping[str, str], *, quiet: bool) -> bool:
    """Whether a person is watching ``stream``: a terminal, not ``-q``, not systemd."""
    return not quiet and stream.isatty() and not under_systemd(environ)


class TerminalProgress(CycleProgress):
    """A ``tqdm`` bar: ``harvest  12/40 authors [00:36<01:24, 17 requests, ~84 s left]``."""

    def __init__(self, delay_seconds: float, stream: TextIO | None = None) -> None:
        self.delay = delay_seconds
        self.stream = stream or sys.stderr
        self.requests = 0
        self.queries = 0
        self.queries_done = 0
        #: requests the finished queries took, for the estimate
        self.requests_done = 0
        self._started = time.monotonic()
        self._bar: tqdm[None] | None = None

    def started(self, authors: int, queries: int) -> None:
        from tqdm import tqdm  # only a terminal run needs it

        self.queries = queries
        self._started = time.monotonic()
        self._bar = tqdm(
            total=authors,
            desc="harvest",
            unit=" authors",
            file=self.stream,
            delay=SHOW_AFTER_SECONDS,
            leave=False,
            dynamic_ncols=True,
            bar_format="{desc} {n_fmt}/{total_fmt}{unit} [{elapsed}{postfix}]",
        )

    def request(self) -> None:
        self.requests += 1
        self._show()

    def author_done(self, report: AuthorReport) -> None:
        if self._bar is not None:
            self._bar.update(1)
        self._show()

    def query_done(self) -> None:
        self.queries_done += 1
        self.requests_done = self.requests

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def write(self, line: str, stream: TextIO) -> None:
        """``line`` on ``stream`` with the bar cleared first and redrawn after."""
        from tqdm import tqdm

        with tqdm.external_write_mode(file=stream):
            print(line, file=stream, flush=True)

    def seconds_left(self) -> float:
        """Requests still to come, at the configured delay each: a query costs what the
        finished ones took on average, and at least one request."""
        done = self.queries_done
        per_query = self.requests_done / done if done else 1.0
        return max(self.queries - done, 0) * max(per_query, 1.0) * self.delay

    def _show(self) -> None:
        if self._bar is None:
            return
        left = f", ~{self.seconds_left():.0f} s left" if self.delay else ""
        requests = f"{self.requests} request{'' if self.requests == 1 else 's'}"
        shown = time.monotonic() - self._started >= SHOW_AFTER_SECONDS  # tqdm's delay too
        self._bar.set_postfix_str(requests + left, refresh=shown)


def terminal_progress(delay_seconds: float, *, quiet: bool) -> TerminalProgress | None:
    """A :class:`TerminalProgress` when a person watches stderr, else None."""
    if not wants_progress(sys.stderr, os.environ, quiet=quiet):
        return None
    return TerminalProgress(delay_seconds)


class LinePrinter(CycleProgress):
    """``harvest --once``: each author's line as its harvest ends, the key padded to
    ``width``; harvested authors on stdout (not with ``quiet``), the others on stderr.

    Lines that are not a success wait for the first harvested author: when arXiv cannot
    be reached at all, the command says so in one line instead (:meth:`finish` drops them).
    Skipped and stopped authors wait for the end, where the cycle's exit code tells
    whether they are a problem. ``inner`` (a terminal's bar) hears everything too.
    """

    def __init__(self, width: int, *, quiet: bool, inner: CycleProgress | None = None) -> None:
        self.width = width
        self.quiet = quiet
        self.inner = inner or CycleProgress()
        self.harvested = False
        self.held: list[AuthorReport] = []

    def started(self, authors: int, queries: int) -> None:
        self.inner.started(authors, queries)

    def request(self) -> None:
        self.inner.request()

    def query_done(self) -> None:
        self.inner.query_done()

    def close(self) -> None:
        self.inner.close()

    def author_done(self, report: AuthorReport) -> None:
        self.inner.author_done(report)
        if report.status in NOT_YET or not (self.harvested or report.status == RunStatus.OK):
            self.held.append(report)
            return
        if report.status == RunStatus.OK and not self.harvested:
            self.harvested = True
            failures = [r for r in self.held if r.status not in NOT_YET]
            self.held = [r for r in self.held if r.status in NOT_YET]
            for failed in failures:
                self._print(failed, fine=False)
        self._print(report, fine=report.status == RunStatus.OK)

    def finish(self, report: CycleReport) -> None:
        """The lines still held, once the cycle's outcome is known (none if arXiv could
        not be reached and nobody was harvested: the caller says that instead)."""
        if report.unreachable and report.harvested_none:
            return
        for held in self.held:
            fine = held.status == RunStatus.SKIPPED and report.exit_code == 0
            self._print(held, fine=fine)
        self.held = []

    def _print(self, report: AuthorReport, *, fine: bool) -> None:
        if fine and self.quiet:
            return
        stream = sys.stdout if fine else sys.stderr
        line = report.line(self.width)
        if isinstance(self.inner, TerminalProgress):
            self.inner.write(line, stream)
        else:
            print(line, file=stream, flush=True)


NOT_YET = (RunStatus.SKIPPED, RunStatus.STOPPED)
"""Lines held to the end of the cycle: whether they are a problem depends on the rest."""
