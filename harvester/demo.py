"""The offline demo: the arXiv look-alike in a child process, the demo's settings, and what
``harvest demo [--identity] [--keep DIR]`` prints.

The product never imports the look-alike (it ships beside the product, not inside it):
:func:`lookalike` starts ``python -m arxiv_lookalike`` and reads the URL it prints, and the
demo talks to it over real HTTP, as to arXiv. The child is stopped on the way out, also on
Ctrl-C and errors; should this process die without a word (SIGKILL), the child's standard
input closes and ``--stop-on-eof`` stops it too: no server is left behind.

``--identity`` harvests the five "Wei Zhang"s of ``arxiv_lookalike.namesakes`` twice: by
name alone, then with her arXiv author identifier (a second harvest into the same
database, as a user who adds ``arxiv_author_id`` would), and says after each what the
evidence accepted, held and rejected, and how a person decides the held papers.
"""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .config import Settings, parse_settings
from .errors import DemoError, DemoFolderTakenError, LookalikeStartError

if TYPE_CHECKING:
    from .review import HeldPaper, Tally
    from .store import Store

LOOKALIKE = (sys.executable, "-m", "arxiv_lookalike", "--port", "0", "--stop-on-eof")
"""The look-alike's command: any free port, and gone when our pipe to its stdin closes."""
START_TIMEOUT = 30.0
"""Seconds the look-alike has to print its URL (it builds its corpus first)."""
STOP_TIMEOUT = 5.0
"""Seconds it has to end after SIGTERM before it is killed."""

DEMO_CONFIG: dict[str, Any] = {
    "arxiv": {"page_size": 50, "delay_seconds": 0.2, "timeout_seconds": 10, "max_attempts": 3},
    "authors": [
        {
            "key": "kakade",
            "name": "Sham Kakade",
            "aliases": ["Sham M. Kakade", "Sham M Kakade"],
        }
    ],
}
"""Polite even to the local server (0.2 s apart), and small pages to show the paging."""

IDENTITY_KEY = "wei-zhang"
IDENTIFIER = "zhang_w_1"
"""Her arXiv author identifier in the namesake corpus (its feed lists 49 of her papers)."""
IDENTITY_CONFIG: dict[str, Any] = {
    "arxiv": {**DEMO_CONFIG["arxiv"], "page_size": 200},
    "authors": [{"key": IDENTITY_KEY, "name": "Wei Zhang"}],
}
"""Five people written "Wei Zhang", 434 papers: three pages of 200."""
SHOWN = 3
"""Held papers shown after each harvest, the likeliest first."""


@contextmanager
def lookalike(
    *options: str, command: Sequence[str] = LOOKALIKE, timeout: float = START_TIMEOUT
) -> Iterator[str]:
    """Start the look-alike (``command`` plus ``options``), yield the query URL it prints
    first; stop it on the way out. No URL within ``timeout``: :class:`LookalikeStartError`."""
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [*command, *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,  # Ctrl-C reaches us; we stop it
        )
        try:
            yield _first_line(child, errors, timeout)
        finally:
            _stop(child)


def _first_line(child: subprocess.Popen[bytes], errors: IO[bytes], timeout: float) -> str:
    """The URL on the child's first line of stdout, read in a thread so a silent child
    cannot hold us past ``timeout``."""
    lines: list[bytes] = []
    assert child.stdout is not None
    stdout = child.stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = lines[0].decode("utf-8", "replace").strip() if lines else ""
    if line.startswith("http://"):
        return line
    if not lines:
        raise LookalikeStartError(f"the arXiv look-alike printed no URL within {timeout:g} s")
    with suppress(subprocess.TimeoutExpired):
        child.wait(STOP_TIMEOUT)
    errors.seek(0)
    said = [x for x in errors.read().decode("utf-8", "replace").splitlines() if x.strip()]
    why = said[-1].strip() if said else f"it printed {line!r}"
    ended = "" if child.returncode is None else f" (exit {child.returncode})"
    raise LookalikeStartError(f"the arXiv look-alike did not start{ended}: {why}")


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL; stdout is closed last (a reader thread may still hold it)."""
    child.terminate()
    try:
        child.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            with suppress(OSError):
                pipe.close()


@contextmanager
def demo_folder(keep: Path | None) -> Iterator[Path]:
    """Where the demo's database goes: a temporary folder, or ``keep`` (created; refused
    when it already holds a demo, so a kept demo always starts afresh)."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="harvest-demo-") as tmp:
            yield Path(tmp)
        return
    try:
        keep.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"cannot create {keep}: {exc.strerror or exc}") from exc
    taken = [name for name in ("demo.db", "harvester.toml") if (keep / name).exists()]
    if taken:
        raise DemoFolderTakenError(f"{keep} already holds a demo ({', '.join(taken)})")
    yield keep.resolve()


@dataclass(frozen=True, slots=True)
class Stage:
    """One harvest of the demo: what to say before it, its settings, what to say after."""

    heading: str | None
    settings: Settings
    report: Callable[[Store], str]


def demo_settings(api_url: str, database: Path) -> Settings:
    return parse_settings(_with_urls(DEMO_CONFIG, api_url, database), Path("<demo>"), {})


def demo_stages(api_url: str, folder: Path, *, identity: bool, kept: bool) -> list[Stage]:
    """The harvests of ``harvest demo`` (one) or ``--identity`` (two); with ``kept``, the
    folder gets a ``harvester.toml`` for the last one, so commands can use the database."""
    database = folder / "demo.db"
    configs = _identity_configs() if identity else [DEMO_CONFIG]
    data = [_with_urls(config, api_url, database) for config in configs]
    if kept:
        _write_config(folder / "harvester.toml", data[-1])
    settings = [parse_settings(d, Path("<demo>"), {}) for d in data]
    if not identity:
        return [Stage(None, settings[0], _profile_summaries(settings[0]))]
    config = folder / "harvester.toml" if kept else None
    return [
        Stage('1. By name alone (five people are written "Wei Zhang")', settings[0], _tally),
        Stage(
            f'2. Her arXiv author identifier added (arxiv_author_id = "{IDENTIFIER}")',
            settings[1],
            lambda store: _tally(store) + _how_to_decide(store, config),
        ),
    ]


def _identity_configs() -> list[dict[str, Any]]:
    (author,) = IDENTITY_CONFIG["authors"]
    anchored = {**IDENTITY_CONFIG, "authors": [{**author, "arxiv_author_id": IDENTIFIER}]}
    return [IDENTITY_CONFIG, anchored]


def _with_urls(config: Mapping[str, Any], api_url: str, database: Path) -> dict[str, Any]:
    """``config`` pointed at the look-alike (its feeds too) and at ``database``."""
    base = api_url.rsplit("/api/", 1)[0]
    arxiv = {**config["arxiv"], "api_url": api_url, "author_feed_url": f"{base}/a"}
    return {
        "database": {"url": f"sqlite:///{database}"},
        "arxiv": arxiv,
        "authors": list(config["authors"]),
    }


def _write_config(path: Path, data: Mapping[str, Any]) -> None:
    """The demo's settings as TOML: scalar tables, then ``[[authors]]``."""
    lines = [
        f"# Written by 'harvest demo --keep {path.parent}'. Reading commands work as they are;",
        "# a harvest needs the look-alike again: 'python -m arxiv_lookalike' (--namesakes for",
        "# the identity demo), with [arxiv] api_url set to the URL it prints.",
    ]
    for table, values in data.items():
        for entry in values if isinstance(values, list) else [values]:
            lines += ["", f"[[{table}]]" if isinstance(values, list) else f"[{table}]"]
            lines += [f"{k} = {json.dumps(v)}" for k, v in entry.items()]
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DemoError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _profile_summaries(settings: Settings) -> Callable[[Store], str]:
    from .profile import load_profile, render_summary

    def summaries(store: Store) -> str:
        return "\n".join(render_summary(load_profile(store, a.key)) for a in settings.authors)

    return summaries


def _tally(store: Store) -> str:
    from .review import review_queue, tally

    return render_tally(tally(store, IDENTITY_KEY), review_queue(store, IDENTITY_KEY))


def render_tally(counts: Tally, held: Sequence[HeldPaper]) -> str:
    """Accepted, held and rejected; the ambiguity flag; the likeliest held papers."""
    flag = (
        "ambiguous: the papers under this name split into separate bodies of work"
        if counts.ambiguous
        else "not ambiguous"
    )
    lines = [
        f"  {counts.accepted} accepted, {counts.held} held for review, {counts.rejected}"
        f" rejected; {flag}"
    ]
    if held:
        lines.append("  likeliest held papers (score 0 to 1, and why):")
    for paper in held[:SHOWN]:
        score = "-" if paper.score is None else f"{paper.score:.2f}"
        lines.append(f"    {paper.arxiv_id}  score {score}  {paper.reason or ''}")
        lines.append(f"        {' '.join(paper.title.split())}")
    if len(held) > SHOWN:
        lines.append(f"    ... and {len(held) - SHOWN} more")
    return "\n".join(lines)


def _how_to_decide(store: Store, config: Path | None) -> str:
    from .review import review_queue

    held = review_queue(store, IDENTITY_KEY)
    if not held:
        return ""
    where = shlex.quote(str(config)) if config else "DIR/harvester.toml"
    command = f"harvest --config {where} review {IDENTITY_KEY}"
    take = held[0].arxiv_id
    drop = held[1].arxiv_id if len(held) > 1 else held[0].arxiv_id
    lines = [
        "",
        f"The database is kept in {config.parent}; a person decides the held papers with:"
        if config
        else "The demo's database was temporary and is gone: to decide the held papers, run"
        " 'harvest demo --identity --keep DIR', then:",
        f"  {command}                        # all of them, likeliest first",
        f"  {command} --accept {take} --reject {drop}",
        f"  {command} --accept-above {math.floor((held[0].score or 0) * 100) / 100:.2f}",
        "(a decision is applied at once)",
    ]
    return "\n" + "\n".join(lines)
