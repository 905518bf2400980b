"""The one helper module of the tests: configuration files, harvests, CLI runs, view reads.

Fixtures live in ``conftest.py``; everything a test calls by hand lives here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, text

from harvester.harvest import harvest_once
from harvester.settings import Settings, parse_settings
from harvester.store import Store
from harvester.sync import CycleReport

REPO = Path(__file__).resolve().parent.parent
SEED_KEY = "kakade"
SEED_AUTHOR: dict[str, Any] = {
    "key": SEED_KEY,
    "name": "Sham Kakade",
    "aliases": ["Sham M. Kakade", "Sham M Kakade"],
}

TEST_ARXIV: dict[str, Any] = {
    "page_size": 25,
    "delay_seconds": 0,
    "timeout_seconds": 2,
    "max_attempts": 4,
    "max_retry_seconds": 20,
    "max_wait_seconds": 5,
}
"""``[arxiv]`` for tests: no delay, short timeouts, quick retries."""


def make_settings(db_url: str, api_url: str, **arxiv: Any) -> Settings:
    """Settings for tests (:data:`TEST_ARXIV`); ``authors=`` and ``harvest=`` go to their
    sections, every other keyword to ``[arxiv]``."""
    authors = arxiv.pop("authors", [SEED_AUTHOR])
    harvest = arxiv.pop("harvest", {})
    options = {"api_url": api_url, **TEST_ARXIV, **arxiv}
    data = {"database": {"url": db_url}, "arxiv": options, "authors": authors, "harvest": harvest}
    return parse_settings(data, Path("<test>"), {})


def harvest(
    store: Store,
    settings: Settings,
    *,
    full: bool = False,
    when: datetime | None = None,
    derive: bool = False,
    **options: Any,
) -> CycleReport:
    """One cycle as ``harvest --once`` runs it (production pacing through the database);
    ``when`` fixes the clock, ``derive`` also refreshes the derived data."""
    if when is not None:
        options["clock"] = lambda: when
    return harvest_once(settings, store, full=full, derive=derive, **options)


def rows(db: Store | Engine, sql: str, **params: Any) -> list[Row[Any]]:
    """The rows of ``sql`` (a view or table read); a row compares equal to a tuple."""
    engine = db.engine if isinstance(db, Store) else db
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def toml(sections: Mapping[str, Any]) -> str:
    """A TOML document: ``{"arxiv": {...}, "authors": [{...}, ...]}``; strings are written
    as JSON strings, which are TOML basic strings."""
    lines: list[str] = []
    for name, body in sections.items():
        tables = body if isinstance(body, list) else [body]
        header = f"[[{name}]]" if isinstance(body, list) else f"[{name}]"
        for table in tables:
            lines.append(header)
            lines += [f"{key} = {_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def write_config(
    path: Path,
    db_url: str,
    api_url: str,
    *,
    authors: Sequence[Mapping[str, Any]] = (SEED_AUTHOR,),
    extra: str = "",
    **sections: Mapping[str, Any],
) -> Path:
    """A configuration file for ``db_url`` and the look-alike at ``api_url``; ``sections``
    add or extend tables (``arxiv={"delay_seconds": 0}``, ``schedule={...}``); ``extra`` is
    appended as written. ``path`` may be a directory (the file is ``harvester.toml`` in it)."""
    if path.is_dir():
        path = path / "harvester.toml"
    arxiv = {"api_url": api_url, **sections.pop("arxiv", {})}
    document = {"database": {"url": db_url}, "arxiv": arxiv, **sections, "authors": list(authors)}
    path.write_text(toml(document) + extra, encoding="utf-8")
    return path


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``harvest ARGS`` as a real subprocess, with no HARVESTER_* variables but ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "harvester.cli", *args],
        cwd=cwd or REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
