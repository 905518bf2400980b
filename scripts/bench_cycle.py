"""Benchmark harvest cycles against the look-alike: requests, throughput, memory, blind window.

Five parts, each on a synthetic corpus (:mod:`arxiv_lookalike.synthetic`: one tracked
author per paper, no namesakes), the first three measured against a baseline from the
same run:

1. **requests** per cycle for N authors x P papers: the harvester's cold, steady, few-new
   (a few new papers by random authors) and full cycles, against the naive script most
   people run every cycle (``arxiv.Client(page_size=100)`` and one ``au:"name"`` search
   per author, every result consumed). Wall time at arXiv's rule is requests x 3 s.
2. **throughput** of a cold import into SQLite: our strict parse + normalise + store, one
   transaction per page of 200, against a bare lxml parse of the same bytes (the document
   and each entry's children walked once: the least any parser does). The pages are
   fetched from the look-alike first, so neither side pays for HTTP.
3. **peak memory** (RSS) of a cold import of 100,000 papers, read at 10k, 50k and 100k
   papers in a child process. The parent renders the pages with the look-alike's own Atom
   renderer and streams them through a pipe, so the child never holds the corpus. (The
   look-alike cannot serve 100,000 papers over HTTP: one query pages to 10,000 at most.)
4. **harvest-memory**: peak RSS of a real cold harvest (``run_cycle`` over HTTP from the
   look-alike, grouped queries, into SQLite) in a child process, for 10k, 50k and 100k
   papers (100 papers an author): what ``harvest --once`` holds while importing.
5. **window**: how late an incremental harvest records a change. 100 authors x P papers,
   default ``[harvest]`` settings, one cycle a simulated day (a fixed clock passed to
   ``run_cycle``); before each, a few *old* papers (submitted more than ``overlap_days``
   before the newest) get a new version and a few new papers appear. Incremental
   harvests page by last update, so both should be recorded by the day's own cycle; the
   bound for what paging cannot see is the author's next full harvest, within
   ``full_every_days`` cycles.

A sixth part, **scale** (``scripts/bench_scale.py``), runs only when named: a cycle's
local time, memory, render time and database size at N authors (2,000 x 20 by default,
10,000 x 100 for the million-paper run), on SQLite or PostgreSQL. A seventh, **workers**
(``scripts/bench_workers.py``), also only by name: a cold import by 1, 2 and 4
``harvest --once`` processes sharing one PostgreSQL database and the request slot.

::

    .venv/bin/python scripts/bench_cycle.py                # a few minutes
    .venv/bin/python scripts/bench_cycle.py --quick        # smoke run, seconds
    .venv/bin/python scripts/bench_cycle.py --parts requests --authors 1 10 100 --markdown
    .venv/bin/python scripts/bench_cycle.py --parts window --days 21
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import arxiv
import requests
from lxml import etree
from sqlalchemy import text

from arxiv_lookalike import Corpus, FeedPage, LookalikeServer, render_feed
from arxiv_lookalike.atom import entry_view
from arxiv_lookalike.corpus import split_version
from arxiv_lookalike.synthetic import (
    END,
    START,
    SyntheticAuthor,
    add_new_papers,
    author_config,
    synthetic_corpus,
)
from harvester.config import ArxivSettings, HarvestSettings, Settings, load_settings
from harvester.cycle import Clock, CycleOptions, harvest_once, utcnow
from harvester.normalise import normalise_entry
from harvester.source.api import validated_papers
from harvester.source.feed import parse_page
from harvester.store import Store

ARXIV_DELAY = 3.0
"""Seconds between requests under arXiv's API terms of use."""
NAIVE_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = ArxivSettings().page_size
PAGE_SIZE = 200
THROUGHPUT_TARGET = 0.5
MEMORY_TARGET_MB = 200
_WINDOW = f"submittedDate:[{START:%Y%m%d%H%M} TO {END:%Y%m%d%H%M}]"
"""A query matching every paper of a synthetic corpus with the default dates."""
_PAGE_URL = "http://lookalike/api/query"
_LENGTH = struct.Struct(">I")


# --- tables -------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, markdown: bool) -> str:
    """Rows under headers: aligned plain text, or a markdown table."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "|:---|" + "|".join("---:" for _ in headers[1:]) + "|")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells
    )


def at_arxiv_pace(requests_made: int) -> str:
    """The wall time of ``requests_made`` requests 3 s apart, in readable units."""
    seconds = requests_made * ARXIV_DELAY
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --- part 1: requests per cycle -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NaiveCycle:
    requests: int
    found: frozenset[str]


def naive_cycle(server: LookalikeServer, authors: Sequence[SyntheticAuthor]) -> NaiveCycle:
    """What most scripts do every cycle: every result of ``au:"name"``, for every author."""
    server.clear_requests()
    client = arxiv.Client(page_size=NAIVE_PAGE_SIZE, delay_seconds=0, num_retries=0)
    client.query_url_format = server.url + "?{}"
    found: set[str] = set()
    for author in authors:
        search = arxiv.Search(
            query=f'au:"{author.name}"',
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
        )
        found.update(split_version(r.get_short_id())[0] for r in client.results(search))
    return NaiveCycle(len(server.requests), frozenset(found))


def write_config(
    workdir: Path,
    server_url: str,
    authors: Sequence[SyntheticAuthor],
    page_size: int = DEFAULT_PAGE_SIZE,
    *,
    database_url: str | None = None,
) -> Path:
    """A harvester TOML for ``authors`` against ``server_url``: no delay, SQLite in workdir
    (or ``database_url``), the default ``[harvest]`` settings written out."""
    sections: dict[str, dict[str, object]] = {
        "database": {"url": database_url or f"sqlite:///{workdir / 'harvester.db'}"},
        "arxiv": {"api_url": server_url, "delay_seconds": 0, "page_size": page_size},
        "harvest": asdict(HarvestSettings()),
    }
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    for entry in author_config(authors):
        lines.append("[[authors]]")
        lines += [f"{key} = {_toml(value)}" for key, value in entry.items()]
    path = workdir / "harvester.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def one_harvest(
    settings: Settings, *, full: bool = False, clock: Clock = utcnow
) -> tuple[int, int]:
    """One harvest as ``harvest --once`` runs it, the derived data aside: (requests sent,
    new papers recorded)."""
    store = Store.open(settings.database.url)
    try:
        options = CycleOptions(full=full, clock=clock)
        report = harvest_once(settings, store, options, derive=False)
        sent = sum(a.requests for a in report.authors)
    finally:
        store.close()
    if report.exit_code != 0:
        problems = [a.line() for a in report.authors if a.status != "ok"][:5]
        raise RuntimeError("harvest cycle not complete: " + "; ".join(problems))
    return sent, sum(a.new_papers for a in report.authors)


def new_database(settings: Settings) -> None:
    """Create the schema of the settings' database."""
    store = Store.open(settings.database.url)
    try:
        store.upgrade()
    finally:
        store.close()


def harvester_cycles(
    authors: Sequence[SyntheticAuthor],
    server_url: str,
    workdir: Path,
    *,
    add_papers: Callable[[], list[str]],
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict[str, int]:
    """Requests of the harvester's cold, steady, few-new and full cycles, one after the other.

    ``add_papers`` adds the few new papers (returning their ids) between the steady and the
    few-new cycle; ``new_found`` is how many new papers the few-new cycle recorded. Settings
    come from a TOML in ``workdir``, as in production.
    """
    settings = load_settings(write_config(workdir, server_url, authors, page_size), {})
    new_database(settings)
    cold, _ = one_harvest(settings)
    steady, _ = one_harvest(settings)
    new_ids = add_papers()
    few_new, new_found = one_harvest(settings)
    full, _ = one_harvest(settings, full=True)
    return {
        "cold": cold,
        "steady": steady,
        "few_new": few_new,
        "full": full,
        "new_added": len(new_ids),
        "new_found": new_found,
    }


@dataclass(frozen=True, slots=True)
class RequestRow:
    authors: int
    ours: dict[str, int]
    naive_cold: int
    naive_steady: int
    naive_few_new: int
    naive_found_new: int
    seconds: float

    def cells(self) -> list[object]:
        ours = self.ours
        ratio = self.naive_steady / ours["steady"] if ours["steady"] else float("inf")
        return [
            self.authors,
            ours["cold"],
            ours["steady"],
            ours["few_new"],
            ours["full"],
            self.naive_cold,
            self.naive_steady,
            self.naive_few_new,
            f"{ratio:.1f}",
            at_arxiv_pace(ours["steady"]),
            at_arxiv_pace(self.naive_steady),
        ]


REQUEST_HEADERS = (
    "N",
    "cold",
    "steady",
    "few-new",
    "full",
    "naive cold",
    "naive steady",
    "naive few-new",
    "steady ratio (naive/ours)",
    "steady @3s",
    "naive steady @3s",
)


def measure_requests(n_authors: int, args: argparse.Namespace) -> RequestRow:
    """Naive cold and steady, the harvester's four cycles, then naive few-new."""
    started = time.perf_counter()
    corpus, authors = synthetic_corpus(n_authors, args.papers_per_author, seed=args.seed)
    rng_seed = args.seed + n_authors
    recent = datetime.now(UTC) - timedelta(hours=1)

    def add_papers() -> list[str]:
        return add_new_papers(corpus, authors, args.new_papers, published=recent, seed=rng_seed)

    with LookalikeServer(corpus) as server, tempfile.TemporaryDirectory() as tmp:
        naive_cold = naive_cycle(server, authors)
        naive_steady = naive_cycle(server, authors)
        server.clear_requests()
        ours = harvester_cycles(
            authors, server.url, Path(tmp), add_papers=add_papers, page_size=args.page_size
        )
        _check_logged(ours, len(server.requests))
        naive_new = naive_cycle(server, authors)
    new_ids = {p.arxiv_id for p in corpus if p.published >= recent}
    return RequestRow(
        n_authors,
        ours,
        naive_cold.requests,
        naive_steady.requests,
        naive_new.requests,
        len(new_ids & naive_new.found),
        time.perf_counter() - started,
    )


def _check_logged(ours: dict[str, int], logged: int) -> None:
    counted = sum(ours[k] for k in ("cold", "steady", "few_new", "full"))
    if counted != logged:
        raise RuntimeError(f"the harvester counted {counted} requests, the look-alike {logged}")


def run_requests(args: argparse.Namespace) -> None:
    rows = []
    for n_authors in args.authors:
        row = measure_requests(n_authors, args)
        rows.append(row)
        print(f"  N={n_authors}: {row.seconds:.1f} s", file=sys.stderr, flush=True)
    print(
        f"\nRequests per cycle, N authors x {args.papers_per_author} papers "
        f"(ours: page_size={args.page_size}; naive: arxiv.Client page_size={NAIVE_PAGE_SIZE}, "
        f"one au: search per author; few-new: {args.new_papers} new papers by random authors)"
    )
    print(table(REQUEST_HEADERS, [row.cells() for row in rows], markdown=args.markdown))
    for row in rows:
        ours = row.ours
        print(
            f"N={row.authors}: few-new papers recorded by the harvester "
            f"{ours['new_found']}/{ours['new_added']}, found by the naive script "
            f"{row.naive_found_new}/{ours['new_added']}"
        )


# --- part 2: throughput of a cold import ----------------------------------------------------


@dataclass(slots=True)
class ImportTimes:
    """Seconds spent per stage of :func:`import_page`, and papers stored."""

    papers: int = 0
    parse: float = 0.0
    validate: float = 0.0
    store: float = 0.0

    @property
    def total(self) -> float:
        return self.parse + self.validate + self.store


def import_page(store: Store, body: bytes, now: datetime, times: ImportTimes) -> None:
    """One page the way ArxivSource and the sync read it: strict parse, the source's
    validation (``RawEntry`` + ``normalise_entry``), ``save_papers`` in one transaction."""
    began = time.perf_counter()
    parsed = parse_page(body, _PAGE_URL)
    parsed_at = time.perf_counter()
    papers, refused = validated_papers(parsed.entries, normalise_entry)
    if refused:
        raise RuntimeError(f"refused entries: {refused[:3]}")
    validated_at = time.perf_counter()
    with store.transaction() as conn:
        store.save_papers(conn, papers, now)
    stored_at = time.perf_counter()
    times.papers += len(papers)
    times.parse += parsed_at - began
    times.validate += validated_at - parsed_at
    times.store += stored_at - validated_at


def fetch_pages(server_url: str, expected: int) -> list[bytes]:
    """Every paper of the served corpus as raw pages of 200 (at most 10,000 papers)."""
    pages = []
    with requests.Session() as session:
        for start in range(0, expected, PAGE_SIZE):
            params: dict[str, str | int] = {
                "search_query": _WINDOW,
                "start": start,
                "max_results": PAGE_SIZE,
                "sortBy": "submittedDate",
                "sortOrder": "descending",
            }
            response = session.get(server_url, params=params, timeout=60)
            response.raise_for_status()
            pages.append(response.content)
    return pages


def cold_import(pages: Iterable[bytes], url: str) -> ImportTimes:
    """Import ``pages`` into a new database at ``url``; the schema is made first, untimed."""
    store = Store.open(url)
    times = ImportTimes()
    try:
        store.upgrade()
        now = datetime.now(UTC)
        for body in pages:
            import_page(store, body, now, times)
    finally:
        store.close()
    return times


def bare_parse(pages: Sequence[bytes]) -> tuple[int, float]:
    """(entries, seconds) of a bare lxml parse over ``pages``: each document parsed and
    each entry's children walked once."""
    entry = "{http://www.w3.org/2005/Atom}entry"
    began = time.perf_counter()
    results = 0
    for body in pages:
        for element in etree.fromstring(body).iterchildren(entry):
            results += sum(1 for _ in element) > 0
    return results, time.perf_counter() - began


def run_throughput(args: argparse.Namespace) -> None:
    total = args.throughput_papers
    if not 0 < total <= 10_000:
        raise SystemExit("--throughput-papers must be between 1 and 10000 (one query's paging)")
    authors = max(1, total // args.papers_per_author)
    corpus, _ = synthetic_corpus(authors, total // authors, seed=args.seed)
    with LookalikeServer(corpus) as server:
        pages = fetch_pages(server.url, len(corpus))
    best_ours: ImportTimes | None = None
    best_bare = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):
            results, seconds = bare_parse(pages)
            best_bare = min(best_bare, seconds)
            times = cold_import(pages, f"sqlite:///{Path(tmp) / f'cold{attempt}.db'}")
            if times.papers != results or results != len(corpus):
                raise RuntimeError(f"{times.papers} stored, {results} parsed, {len(corpus)} sent")
            if best_ours is None or times.total < best_ours.total:
                best_ours = times
    assert best_ours is not None
    _print_throughput(best_ours, best_bare, len(pages), args)


def _print_throughput(ours: ImportTimes, bare: float, pages: int, args: argparse.Namespace) -> None:
    papers = ours.papers
    rows = [
        ["bare lxml parse", f"{papers / bare:,.0f}", f"{1000 * bare / pages:.1f}"],
        ["ours: parse + normalise + store", f"{papers / ours.total:,.0f}", _ms(ours.total, pages)],
        ["  parse_page (strict lxml + entries)", "", _ms(ours.parse, pages)],
        ["  validated_papers (RawEntry + normalise)", "", _ms(ours.validate, pages)],
        ["  save_papers + commit (SQLite)", "", _ms(ours.store, pages)],
    ]
    ratio = bare / ours.total
    verdict = "meets" if ratio >= THROUGHPUT_TARGET else "BELOW"
    print(
        f"\nThroughput of a cold import, {papers:,} papers in {pages} pages of {PAGE_SIZE} "
        f"(best of {args.repeat})"
    )
    print(table(("", "papers/s", "ms/page"), rows, markdown=args.markdown))
    print(f"ours / bare: {ratio:.2f} ({verdict} the target of {THROUGHPUT_TARGET})")


def _ms(seconds: float, pages: int) -> str:
    return f"{1000 * seconds / pages:.1f}"


# --- part 3: peak memory of a cold import ---------------------------------------------------


def render_pages(corpus: Corpus, now: datetime) -> Iterator[bytes]:
    """The corpus as the look-alike would page ``_WINDOW`` by submission date, newest first."""
    papers = sorted(corpus, key=lambda p: (p.published, p.arxiv_id), reverse=True)
    for start in range(0, len(papers), PAGE_SIZE):
        chunk = papers[start : start + PAGE_SIZE]
        entries = tuple(entry_view(paper) for paper in chunk)
        page = FeedPage(_WINDOW, "", start, PAGE_SIZE, len(papers), entries)
        yield render_feed(page, now)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    Linux's ``VmHWM`` belongs to the process image, whereas ``ru_maxrss`` survives
    ``execve``: a child forked from a big parent would report the parent's size.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def import_child(db_url: str, checkpoints: Sequence[int], stream: IO[bytes]) -> None:
    """The child's loop: length-prefixed pages on ``stream``; a line per checkpoint reached."""
    store = Store.open(db_url)
    store.upgrade()
    times, now = ImportTimes(), datetime.now(UTC)
    pending = sorted(checkpoints)
    print(f"0 {peak_rss_mb():.1f} 0", flush=True)
    try:
        while header := stream.read(_LENGTH.size):
            import_page(store, stream.read(_LENGTH.unpack(header)[0]), now, times)
            while pending and times.papers >= pending[0]:
                print(f"{pending.pop(0)} {peak_rss_mb():.1f} {times.total:.2f}", flush=True)
    finally:
        store.close()


def run_memory(args: argparse.Namespace) -> None:
    sizes = sorted(args.memory_papers)
    per_author = 100
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            os.path.abspath(__file__),
            "--import-child",
            f"sqlite:///{Path(tmp) / 'memory.db'}",
            "--memory-papers",
            *map(str, sizes),
        ]
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert child.stdin is not None and child.stdout is not None
        authors = max(1, -(-sizes[-1] // per_author))
        corpus, _ = synthetic_corpus(authors, per_author, seed=args.seed)
        with child.stdin:
            for body in render_pages(corpus, datetime.now(UTC)):
                child.stdin.write(_LENGTH.pack(len(body)) + body)
        del corpus
        lines = child.stdout.read().decode().split("\n")
        if child.wait() != 0:
            raise RuntimeError(f"the import child failed with exit code {child.returncode}")
    _print_memory([line.split() for line in lines if line.strip()], args)


def _print_memory(points: list[list[str]], args: argparse.Namespace) -> None:
    rows = []
    for papers, rss, seconds in points:
        rate = f"{int(papers) / float(seconds):,.0f}" if float(seconds) > 0 else ""
        rows.append([f"{int(papers):,}", rss, rate])
    print("\nPeak RSS of a cold import into SQLite (child process; 0 = after imports + schema)")
    print(table(("papers", "peak RSS (MB)", "papers/s so far"), rows, markdown=args.markdown))
    peak = float(points[-1][1])
    verdict = "under" if peak < MEMORY_TARGET_MB else "OVER"
    print(f"peak {peak:.0f} MB ({verdict} the target of {MEMORY_TARGET_MB} MB)")


def harvest_child(config: str) -> None:
    """The child of ``harvest-memory``: one cold ``run_cycle``, then its peak RSS and time."""
    settings = load_settings(Path(config), {})
    new_database(settings)
    started = time.perf_counter()
    requests_sent, _ = one_harvest(settings)
    print(f"{peak_rss_mb():.1f} {time.perf_counter() - started:.2f} {requests_sent}", flush=True)


def run_harvest_memory(args: argparse.Namespace) -> None:
    """Peak RSS of a real cold harvest (``run_cycle`` over HTTP, grouped queries) in a child
    process, for corpora of each ``--memory-papers`` size: what ``harvest --once`` holds."""
    per_author, rows = 100, []
    for size in sorted(args.memory_papers):
        corpus, authors = synthetic_corpus(max(1, size // per_author), per_author, seed=args.seed)
        with tempfile.TemporaryDirectory() as tmp, LookalikeServer(corpus) as server:
            config = write_config(Path(tmp), server.url, authors)
            command = [sys.executable, os.path.abspath(__file__), "--harvest-child", str(config)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
        rss, seconds, sent = done.stdout.split()
        rate = f"{len(corpus) / float(seconds):,.0f}"
        rows.append([f"{len(corpus):,}", f"{len(authors):,}", sent, rss, seconds, rate])
    print("\nPeak RSS of a cold harvest into SQLite (run_cycle in a child process, over HTTP)")
    headers = ("papers", "authors", "requests", "peak RSS (MB)", "seconds", "papers/s")
    print(table(headers, rows, markdown=args.markdown))
    peak = max(float(row[3]) for row in rows)
    verdict = "under" if peak < MEMORY_TARGET_MB else "OVER"
    print(f"peak {peak:.0f} MB ({verdict} the target of {MEMORY_TARGET_MB} MB)")


# --- part 4: the blind window of incremental harvests --------------------------------------

DAY0 = datetime(2026, 10, 5, 1, 30, tzinfo=UTC)
"""The cold harvest's simulated time: after every synthetic paper, at the daemon's 01:30 UTC."""
ANNOUNCED_BEFORE = timedelta(hours=5)
"""How long before a day's cycle that day's new papers and versions appear."""
NEW_PAPER, NEW_VERSION = "new_paper", "new_version"


@dataclass(slots=True)
class Change:
    """A paper added or revised before the cycle of ``day``; ``seen``: the day recorded."""

    kind: str
    arxiv_id: str
    day: int
    seen: int | None = None

    @property
    def cycles(self) -> int | None:
        """Cycles until its event was recorded: 1 is the cycle of the day it appeared."""
        return None if self.seen is None else self.seen - self.day + 1


def fixed_clock(moment: datetime) -> Clock:
    return lambda: moment


def change_corpus(
    corpus: Corpus,
    authors: Sequence[SyntheticAuthor],
    day: int,
    done: Sequence[Change],
    args: argparse.Namespace,
) -> list[Change]:
    """Revise ``args.revisions`` old papers (each at most once a run), add ``args.new_per_day``.

    Old: submitted more than ``overlap_days`` before the newest paper, so an incremental
    harvest does not page back to them.
    """
    moment = DAY0 + timedelta(days=day) - ANNOUNCED_BEFORE
    papers = corpus.papers()
    cutoff = max(p.published for p in papers) - timedelta(days=HarvestSettings().overlap_days)
    touched = {change.arxiv_id for change in done}
    old = [p.arxiv_id for p in papers if p.published < cutoff and p.arxiv_id not in touched]
    rng = random.Random(f"window:{args.seed}:{day}")
    changes = []
    for arxiv_id in rng.sample(old, min(len(old), args.revisions)):
        corpus.revise(arxiv_id, updated=moment)
        changes.append(Change(NEW_VERSION, arxiv_id, day))
    added = add_new_papers(corpus, authors, args.new_per_day, published=moment, seed=args.seed)
    return changes + [Change(NEW_PAPER, arxiv_id, day) for arxiv_id in added]


def recorded_events(settings: Settings) -> set[tuple[str, str]]:
    """``(kind, arxiv_id)`` of every new paper and new version event in ``paper_events``."""
    query = text("SELECT kind, arxiv_id FROM paper_events WHERE kind IN (:new_paper, :new_version)")
    store = Store.open(settings.database.url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(query, {"new_paper": NEW_PAPER, "new_version": NEW_VERSION})
            return {(kind, arxiv_id) for kind, arxiv_id in rows}
    finally:
        store.close()


@dataclass(slots=True)
class WindowRun:
    changes: list[Change]
    requests: list[int]


def simulate_window(args: argparse.Namespace) -> WindowRun:
    """Day 0 a cold harvest; then each day: change the corpus, run the day's cycle."""
    corpus, authors = synthetic_corpus(args.window_authors, args.papers_per_author, seed=args.seed)
    run = WindowRun([], [])
    with LookalikeServer(corpus) as server, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(write_config(Path(tmp), server.url, authors), {})
        new_database(settings)
        run.requests.append(one_harvest(settings, clock=fixed_clock(DAY0))[0])
        for day in range(1, args.days + 1):
            run.changes += change_corpus(corpus, authors, day, run.changes, args)
            clock = fixed_clock(DAY0 + timedelta(days=day))
            run.requests.append(one_harvest(settings, clock=clock)[0])
            events = recorded_events(settings)
            for change in run.changes:
                if change.seen is None and (change.kind, change.arxiv_id) in events:
                    change.seen = day
    return run


def run_window(args: argparse.Namespace) -> None:
    run = simulate_window(args)
    harvest = HarvestSettings()
    bound = harvest.full_every_days
    print(
        f"\nBlind window: {args.window_authors} authors x {args.papers_per_author} papers, "
        f"cold harvest on {DAY0:%Y-%m-%d %H:%M} UTC, then one cycle a day for {args.days} days; "
        f"before each, {args.revisions} old papers revised and {args.new_per_day} new papers "
        f"(default [harvest]: overlap_days={harvest.overlap_days}, full_every_days={bound})"
    )
    new = [c for c in run.changes if c.kind == NEW_PAPER]
    on_time = sum(c.cycles == 1 for c in new)
    print(f"new papers recorded by the day's own cycle: {on_time} of {len(new)}")
    versions = [c for c in run.changes if c.kind == NEW_VERSION]
    headers = ("cycles until recorded", "new versions of old papers")
    print(table(headers, _latency_rows(versions, bound), markdown=args.markdown))
    print(_latency_summary(versions, args.days, bound))
    steady = run.requests[1:]
    print(
        f"requests: cold {run.requests[0]}, then per day {min(steady)}..{max(steady)} "
        f"(mean {statistics.mean(steady):.1f})"
    )


def _latency_rows(versions: Sequence[Change], bound: int) -> list[list[object]]:
    counts = Counter(c.cycles for c in versions)
    rows: list[list[object]] = [[n, counts[n]] for n in range(1, bound + 2) if counts[n]]
    if counts[None]:
        rows.append(["not within the run", counts[None]])
    return rows


def _latency_summary(versions: Sequence[Change], days: int, bound: int) -> str:
    found = sorted(c.cycles for c in versions if c.cycles is not None)
    missing = [c for c in versions if c.seen is None]
    overdue = sum(days - c.day + 1 >= bound for c in missing)
    spread = f"{found[0]}/{statistics.median(found):g}/{found[-1]}" if found else "-"
    return (
        f"new versions of old papers: recorded after min/median/max {spread} cycles "
        f"(1 = the cycle of the day they appeared); never within the run: {len(missing)} "
        f"of {len(versions)}, {overdue} of them past the bound\n"
        f"bound: the author's next full harvest, within full_every_days = {bound} cycles "
        f"({bound + 1} when a day's cycle is missed)"
    )


# --- command line ---------------------------------------------------------------------------


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="comma-separated parts to run (default: the first five; 'scale' only by name)",
    )
    parser.add_argument("--authors", type=int, nargs="+", help="N values (1 10 100 1000)")
    parser.add_argument("--papers-per-author", type=int, help="P (default 20)")
    parser.add_argument("--new-papers", type=int, default=5, help="papers of the few-new cycle")
    parser.add_argument(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        help="the harvester's [arxiv] page_size (default: its default)",
    )
    parser.add_argument("--window-authors", type=int, help="N of the window part (default 100)")
    parser.add_argument("--days", type=int, default=14, help="simulated days of the window part")
    parser.add_argument("--revisions", type=int, default=5, help="old papers revised a day")
    parser.add_argument("--new-per-day", type=int, default=2, help="new papers a day")
    parser.add_argument("--throughput-papers", type=int, help="at most 10000 (default 10000)")
    parser.add_argument("--memory-papers", type=int, nargs="+", help="checkpoints (10k 50k 100k)")
    parser.add_argument("--repeat", type=int, help="throughput runs, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", action="store_true", help="markdown tables")
    parser.add_argument("--scale-authors", type=int, default=2000, help="N of the scale part")
    parser.add_argument("--scale-papers", type=int, default=20, help="P of the scale part")
    parser.add_argument("--scale-db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--scale-skip-naive", action="store_true", help="scale part: no naive-script baseline"
    )
    parser.add_argument(
        "--scale-skip-full", action="store_true", help="scale part: no full re-plan baseline"
    )
    parser.add_argument(
        "--scale-brief",
        action="store_true",
        help="scale part: no profiled rows, no harvest --once processes, no next day",
    )
    parser.add_argument(
        "--scale-keep",
        metavar="DIR",
        help="scale part: keep the database (SQLite file and config in DIR; PostgreSQL schema)",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="workers part: N values"
    )
    parser.add_argument(
        "--worker-delay", type=float, default=0.05, help="workers part: [arxiv] delay_seconds"
    )
    parser.add_argument("--scale-child", help=argparse.SUPPRESS)
    parser.add_argument("--import-child", help=argparse.SUPPRESS)
    parser.add_argument("--harvest-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, object] = {
        "authors": [1, 10] if quick else [1, 10, 100, 1000],
        "window_authors": 20 if quick else 100,
        "papers_per_author": 5 if quick else 20,
        "throughput_papers": 1000 if quick else 10_000,
        "memory_papers": [500, 1000, 2000] if quick else [10_000, 50_000, 100_000],
        "repeat": 1 if quick else 3,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    # throughput first: timed in a fresh process, not after the 1000-author corpora
    "throughput": run_throughput,
    "requests": run_requests,
    "memory": run_memory,
    "harvest-memory": run_harvest_memory,
    "window": run_window,
}
EXTRA_PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    "scale": lambda args: __import__("bench_scale").run_scale(args),
    "workers": lambda args: __import__("bench_workers").run_workers(args),
}
"""Parts run only when asked for by name (minutes at the default size, hours at 10,000)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    if args.import_child:
        import_child(args.import_child, args.memory_papers, sys.stdin.buffer)
        return 0
    if args.harvest_child:
        harvest_child(args.harvest_child)
        return 0
    if args.scale_child:
        __import__("bench_scale").scale_child(
            args.scale_child, skip_full=args.scale_skip_full, brief=args.scale_brief
        )
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    chosen = [part.strip() for part in args.parts.split(",") if part.strip()]
    parts = {**PARTS, **EXTRA_PARTS}
    unknown = set(chosen) - parts.keys()
    if unknown:
        raise SystemExit(f"unknown part(s): {', '.join(sorted(unknown))}")
    for part in chosen:
        gc.collect()
        started = time.perf_counter()
        parts[part](args)
        sys.stdout.flush()
        print(f"({part}: {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
