"""The one helper module of the tests: databases, configuration files, harvests, CLI runs,
view reads, and the harvested seed database the read-only profile tests share.

Fixtures live in ``conftest.py``; everything a test calls by hand lives here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, Row, create_engine, text

from arxiv_lookalike import Corpus, LookalikeServer, seed_corpus
from harvester.config import OutputSettings, Settings, parse_settings
from harvester.cycle import CycleOptions, CycleReport, harvest_once
from harvester.store import Store

REPO = Path(__file__).resolve().parent.parent
SEED_KEY = "kakade"
SEED_AUTHOR: dict[str, Any] = {
    "key": SEED_KEY,
    "name": "Sham Kakade",
    "aliases": ["Sham M. Kakade", "Sham M Kakade"],
}

PG_ADMIN_URL = os.environ.get(
    "HARVESTER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@cache
def pg_problem() -> str | None:
    """Why PostgreSQL cannot be reached (its first line), or None; asked once per process,
    when the first test needs a PostgreSQL database, never at import."""
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


def require_postgres() -> None:
    """Skip the test when PostgreSQL is unreachable; fail it in CI (``CI=true``), where an
    unreachable PostgreSQL is a broken setup, not a missing option."""
    problem = pg_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL unreachable in CI: {problem}")
    pytest.skip(f"PostgreSQL unreachable: {problem}")


@contextmanager
def database_url(dialect: str, directory: Path, filename: str = "harvester.db") -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema dropped after."""
    if dialect == "sqlite":
        yield f"sqlite:///{directory / filename}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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
    data["orcid"] = {"api_url": _site_of(api_url) + "/orcid", "delay_seconds": 0}
    return parse_settings(data, Path("<test>"), {})


def _site_of(api_url: str) -> str:
    """``http://HOST:PORT`` of a look-alike's query URL: its ORCID records are served there
    too, so no test ever asks the real ORCID."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


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
    ``when`` fixes the clock, ``derive`` also refreshes the derived data, ``options`` are
    the other :class:`CycleOptions`."""
    if when is not None:
        options["clock"] = lambda: when
    return harvest_once(settings, store, CycleOptions(full=full, **options), derive=derive)


def downgrade(store: Store, revision: str) -> None:
    """The schema taken down to ``revision`` by the migrations' own downgrades."""
    from alembic import command

    from harvester.store.migrate import alembic_config

    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


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
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``harvest ARGS`` as a real subprocess, with no HARVESTER_* variables but ``env``
    (``stdin``: its standard input)."""
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
        input=stdin,
    )


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


# -- profile tests: one harvested database per module and dialect ---------------------------

COAUTHOR = {"key": "morwani", "name": "Depen Morwani"}
AUTHORS = [SEED_AUTHOR, COAUTHOR]


@dataclass
class Harvested:
    """A database after one harvest of the seed corpus and the after-cycle hook."""

    url: str
    store: Store
    settings: Settings
    corpus: Corpus
    server: LookalikeServer

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(text(sql), params))


@contextmanager
def harvested_database(
    dialect: str, directory: Path, *, html_dir: Path | None = None
) -> Iterator[Harvested]:
    corpus = Corpus.from_dicts(seed_corpus().to_dicts())
    with database_url(dialect, directory) as url, LookalikeServer(corpus) as server:
        settings = make_settings(url, server.url, authors=AUTHORS)
        if html_dir is not None:
            settings = with_html_dir(settings, html_dir)
        store = Store.open(url)
        try:
            store.upgrade()
            report = harvest(store, settings, derive=True)
            assert report.exit_code == 0, report
            yield Harvested(url, store, settings, corpus, server)
        finally:
            store.close()


def with_html_dir(settings: Settings, html_dir: Path) -> Settings:
    return replace(settings, output=OutputSettings(html_dir=html_dir))


def seed_papers(corpus: Corpus) -> list[Any]:
    """The seed author's papers in the look-alike corpus."""
    return [p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors)]


def months_ago_start(now: datetime, months: int) -> datetime:
    """The first instant of the month ``months`` before ``now``'s month (UTC)."""
    index = now.year * 12 + now.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def refuse_inserts(store: Store, table: str, condition: str = "TRUE") -> None:
    """A trigger that fails every insert into ``table`` whose row meets ``condition`` (SQL
    over ``NEW``'s columns, e.g. ``author_key = 'x'``): a real database error, met only by
    the writes it names. ``allow_inserts`` removes it."""
    if store.engine.dialect.name == "sqlite":
        when = condition.replace("author_key", "NEW.author_key") if condition != "TRUE" else "1"
        statements = [
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {when}"
            " BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
        ]
    else:
        when = condition.replace("author_key", "NEW.author_key")
        statements = [
            f"CREATE FUNCTION refuse_{table}() RETURNS trigger AS $$ BEGIN"
            " RAISE EXCEPTION 'refused by a test trigger'; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW"
            f" WHEN ({when}) EXECUTE FUNCTION refuse_{table}()",
        ]
    with store.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def allow_inserts(store: Store, table: str) -> None:
    """Remove the trigger of :func:`refuse_inserts`."""
    on = "" if store.engine.dialect.name == "sqlite" else f" ON {table}"
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TRIGGER refuse_{table}{on}")


_CTRL_C_REACHES = (
    "import runpy, signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "sys.argv = sys.argv[1:]; "
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)


def interruptible(module: str, *args: str) -> list[str]:
    """``python -m module args`` as a person at a terminal runs it, where Ctrl-C reaches it.

    A child inherits its parent's signal dispositions and mask: in a full run of the suite
    a test process had SIGINT ignored or blocked (a child Python then never raises
    KeyboardInterrupt; a shell's background jobs start so on purpose), and a test of Ctrl-C
    failed by the order the tests ran in. The child resets both first."""
    return [sys.executable, "-c", _CTRL_C_REACHES, module, *args]


def signal_state(pid: int) -> str:
    """The signal lines of ``/proc/PID/status`` (blocked, ignored, caught), for messages."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return "; ".join(line for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
