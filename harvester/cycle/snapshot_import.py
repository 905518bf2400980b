"""``harvest import FILE``: a cold start from arXiv's public metadata snapshot.

The file (JSON lines, plain or gzip; :mod:`harvester.source.snapshot`) is streamed, never
read whole, parsed a batch at a time in a worker process while this one stores the batch
before, and stored in batches: each batch's papers (with every version's date) and the
import's position are written in one transaction, so an import killed at any moment
resumes after the last batch stored, and one run twice stores nothing twice. A line that
is not a paper is counted and skipped (the first few are logged); a file whose first
records are all unreadable is not a snapshot, and nothing is stored from it.

Once the whole file is stored, each configured OAI-PMH set's window (``[oai] sets``; none:
all of arXiv) starts a day before the snapshot's newest ``update_date``, so the next
``source = "oai"`` cycle asks only what changed since. Matching the imported papers
against the tracked authors is :func:`match_stored`'s: a cycle whose answer is the stored
papers that name a tracked author, decided as any other.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..batching import AuthorState, Group
from ..config import AuthorSettings, Settings
from ..errors import SnapshotInputError
from ..names import fold_name
from ..records import Paper
from ..source import ArxivSource, snapshot_lines, snapshot_paper
from ..store import ImportPosition, Store
from ..vocabulary import HarvestMode
from .fetch import Answer
from .report import DEFAULT_OPTIONS, Clock, CycleOptions, CycleProgress, CycleReport, utcnow
from .run import run_cycle

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["BATCH_SIZE", "ImportReport", "import_snapshot", "match_stored"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
"""Papers stored per transaction."""
PROBE_LINES = 20
"""A file whose first this many lines are all unreadable is not a snapshot."""
LOGGED_REFUSALS = 5


@dataclass
class ImportReport:
    source: str
    lines: int = 0
    records: int = 0
    refused: int = 0
    resumed_at: int = 0
    newest: date | None = None
    finished: bool = False
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        resumed = f", resumed at line {self.resumed_at}" if self.resumed_at else ""
        newest = f"; newest update {self.newest}" if self.newest else ""
        return (
            f"imported {self.records} papers from {self.lines} lines"
            f" ({self.refused} refused{resumed}) in {self.seconds:.1f} s{newest}"
        )


def import_snapshot(
    settings: Settings,
    store: Store,
    path: Path,
    *,
    batch_size: int = BATCH_SIZE,
    clock: Clock = utcnow,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Store every paper of the snapshot at ``path`` (resuming where a former import of
    the same file stopped), then start the OAI-PMH windows at its newest update."""
    started = time.monotonic()
    source = _source_of(path)
    position = store.import_position(source) or ImportPosition(0, 0, None, False)
    report = ImportReport(source, position.lines, position.records, 0, position.lines,
                          position.newest, position.finished)  # fmt: skip
    if not position.finished:
        _read(store, path, report, batch_size, clock, on_batch)
    for spec in settings.oai.sets or ("",):
        store.record_oai_window(spec, report.newest, clock())
    report.seconds = time.monotonic() - started
    return report


def _source_of(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SnapshotInputError(str(path), exc.strerror or str(exc)) from exc
    if not path.is_file():
        raise SnapshotInputError(str(path), "not a regular file")
    return f"{path.resolve()} ({size} bytes)"


def _read(
    store: Store,
    path: Path,
    report: ImportReport,
    batch_size: int,
    clock: Clock,
    on_batch: Callable[[ImportReport], None] | None,
) -> None:
    """Lines in chunks of ``batch_size``, parsed by a worker process while this one stores
    the chunk before (two cores, two halves of the work), stored in file order."""
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing: only to import

    pending: deque[Future[Parsed]] = deque()
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            for first, chunk in _chunks(snapshot_lines(path), report.lines, batch_size):
                pending.append(pool.submit(parse_chunk, chunk, first))
                if len(pending) > 1:
                    _store(store, report, pending.popleft().result(), clock, on_batch)
        except (OSError, EOFError) as exc:  # unreadable, or a gzip cut short
            raise SnapshotInputError(str(path), f"{type(exc).__name__}: {exc}") from exc
        while pending:
            _store(store, report, pending.popleft().result(), clock, on_batch)
    _store(store, report, Parsed(0, [], [], None), clock, on_batch, finished=True)


def _chunks(lines: Iterable[bytes], skip: int, size: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(number of its first line, lines)`` after the first ``skip`` lines."""
    chunk: list[bytes] = []
    first = skip
    for number, line in enumerate(lines):
        if number < skip:
            continue
        chunk.append(line)
        if len(chunk) >= size:
            yield first, chunk
            first, chunk = number + 1, []
    if chunk:
        yield first, chunk


@dataclass
class Parsed:
    """One chunk parsed: its lines, its papers, why lines were refused, its newest update."""

    lines: int
    papers: list[Paper]
    refused: list[str]
    newest: date | None


def parse_chunk(lines: list[bytes], first: int) -> Parsed:
    """Every line of a chunk made a paper, or the reason it cannot be (in a worker)."""
    papers: list[Paper] = []
    refused: list[str] = []
    newest: date | None = None
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            paper, updated = snapshot_paper(line)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            refused.append(f"line {first + offset + 1} refused: {str(exc)[:200]}")
            continue
        papers.append(paper)
        if updated is not None and (newest is None or updated > newest):
            newest = updated
    return Parsed(len(lines), papers, refused, newest)


def _store(
    store: Store,
    report: ImportReport,
    parsed: Parsed,
    clock: Clock,
    on_batch: Callable[[ImportReport], None] | None,
    *,
    finished: bool = False,
) -> None:
    """Store one parsed chunk and the position after it (one transaction)."""
    for reason in parsed.refused[: max(0, LOGGED_REFUSALS - report.refused)]:
        logger.warning("%s", reason)
    report.refused += len(parsed.refused)
    if report.records == 0 and not parsed.papers and len(parsed.refused) >= PROBE_LINES:
        raise SnapshotInputError(
            report.source, f"the first {PROBE_LINES} records are not papers ({parsed.refused[0]})"
        )
    if parsed.newest is not None and (report.newest is None or parsed.newest > report.newest):
        report.newest = parsed.newest
    lines = report.lines + parsed.lines
    position = ImportPosition(lines, report.records + len(parsed.papers), report.newest, finished)
    store.import_batch(report.source, parsed.papers, position, clock())
    report.lines, report.records, report.finished = lines, position.records, finished
    if on_batch is not None and (parsed.lines or finished):
        on_batch(report)


def match_stored(
    settings: Settings,
    store: Store,
    source: ArxivSource,
    options: CycleOptions = DEFAULT_OPTIONS,
    progress: CycleProgress | None = None,
) -> CycleReport:
    """Every tracked author matched against the stored papers that name one of them: one
    full cycle (the profiles' baseline) through the same attribution, evidence, anchors and
    plans as a harvest; no request but an anchored author's identifier feed."""
    names = sorted({folded for a in settings.authors for n in a.names if (folded := fold_name(n))})

    def fetch(
        source: ArxivSource, group: Group, claimed: dict[str, frozenset[str]] | None
    ) -> Answer:
        return Answer(store.papers_naming(names))

    def plan(
        settings: Settings,
        chosen: list[AuthorSettings],
        states: dict[str, AuthorState],
        started: datetime,
        full: bool,
    ) -> list[Group]:
        return [Group(tuple(chosen), HarvestMode.FULL)] if chosen else []

    return run_cycle(settings, store, source, options, progress, plan=plan, fetch=fetch)
