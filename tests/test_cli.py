"""The ``harvest`` command as cron runs it: a real subprocess, real HTTP, a real database."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from arxiv_lookalike import Corpus, LookalikeServer, Status
from harvester.cli.parser import build_parser
from harvester.store import Store

from .support import REPO, SEED_AUTHOR, harvest, make_settings, run_cli, write_config

ARXIV = {
    "page_size": 30,
    "delay_seconds": 0,
    "timeout_seconds": 2,
    "max_attempts": 2,
    "max_retry_seconds": 5,
    "max_wait_seconds": 1,
}


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env=env)


def tables(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_once_prints_one_line_per_author_and_exits_0(
    tmp_path: Path, server: LookalikeServer, db_url: str
) -> None:
    config = write_config(tmp_path, db_url, server.url, arxiv=ARXIV)
    result = run("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "kakade  76 papers  +0 new  0 new versions  full  3 requests\n"
    assert result.stderr == ""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT paper_count FROM profile_stats")).scalar_one()
    engine.dispose()
    assert count == 76


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """For what the command prints and exits with, which no database changes: one run, on
    SQLite (what is stored is checked on both databases by the tests around these)."""
    return f"sqlite:///{tmp_path / 'h.db'}"


def test_quiet_once_prints_nothing_on_success(
    tmp_path: Path, server: LookalikeServer, sqlite_url: str
) -> None:
    config = write_config(tmp_path, sqlite_url, server.url, arxiv=ARXIV)
    result = run("-q", "--once", "--config", str(config), cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_config_found_through_environment_and_overrides(
    tmp_path: Path, server: LookalikeServer, db_url: str
) -> None:
    config = write_config(
        tmp_path, "sqlite:///elsewhere.db", "http://127.0.0.1:9/api/query", arxiv=ARXIV
    )
    env = {
        "HARVESTER_CONFIG": str(config),
        "HARVESTER_DATABASE_URL": db_url,
        "HARVESTER_ARXIV_API_URL": server.url,
    }
    result = run("--once", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "elsewhere.db").exists()


def test_outage_exits_75_and_records_only_the_run(
    tmp_path: Path, server: LookalikeServer, db_url: str, store: Store
) -> None:
    config = write_config(tmp_path, db_url, server.url, arxiv=ARXIV)
    settings = make_settings(db_url, server.url, **ARXIV)
    assert harvest(store, settings).exit_code == 0  # the baseline, in-process
    server.faults.add(Status(503), times=10)
    result = run("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 75
    assert "kakade  incomplete: arXiv answered HTTP 503" in result.stderr
    engine = create_engine(db_url)
    with engine.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM harvest_runs ORDER BY run_id")).scalars()
        assert list(statuses) == ["ok", "incomplete"]
        assert conn.execute(text("SELECT COUNT(*) FROM paper_events")).scalar_one() == 0
    engine.dispose()


def test_rejected_query_exits_1(tmp_path: Path, server: LookalikeServer, sqlite_url: str) -> None:
    extra = '\n[[authors]]\nkey = "broken"\nname = "X"\nquery = "au:(unbalanced"\n'
    config = write_config(tmp_path, sqlite_url, server.url, arxiv=ARXIV, extra=extra)
    result = run("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "kakade  76 papers" in result.stdout
    assert "broken  failed: arXiv rejected the request" in result.stderr
    assert len([r for r in server.requests if "unbalanced" in r.query]) == 1  # 400 not retried


def test_a_failed_identifier_feed_counts_only_its_own_request(
    tmp_path: Path, corpus: Corpus, sqlite_url: str
) -> None:
    """Three anchored authors in one query; the feed of the last one is 404: its line says
    the one request it made, and the lines add up to what the server saw."""
    for paper in corpus.papers()[:3]:
        corpus.upsert({**paper.to_dict(), "claimants": ["kakade_s_1", "morwani_d_1"]})
    authors = [
        {**SEED_AUTHOR, "arxiv_author_id": "kakade_s_1"},
        {"key": "morwani", "name": "Depen Morwani", "arxiv_author_id": "morwani_d_1"},
        {"key": "ghost", "name": "Hanlin Zhang", "arxiv_author_id": "nobody_x_1"},
    ]
    with LookalikeServer(corpus) as server:
        arxiv = {**ARXIV, "author_feed_url": server.base_url + "/a"}
        config = write_config(tmp_path, sqlite_url, server.url, authors=authors, arxiv=arxiv)
        result = run("--once", "--config", str(config), cwd=tmp_path)
        sent = len(server.requests)
    assert result.returncode == 1, result.stderr
    [ghost] = [line for line in result.stderr.splitlines() if line.startswith("ghost  ")]
    assert "failed: arXiv knows no author 'nobody_x_1'" in ghost
    assert ghost.endswith("  1 request"), ghost
    counts = [int(m) for m in re.findall(r"  (\d+) requests?\b", result.stdout + result.stderr)]
    assert sum(counts) == sent, (result.stdout, result.stderr, sent)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[database\n", "harvester.toml"),
        ('[database]\nurl = "sqlite:///x.db"\nbogus = 1\n', "database.bogus"),
        (
            '[arxiv]\ndelay_seconds = -1\n[[authors]]\nkey = "a"\nname = "A"\n',
            "arxiv.delay_seconds",
        ),
        ('[[authors]]\nkey = "a"\nname = ""\n', "authors[0].name"),
        (
            '[[authors]]\nkey = "a"\nname = "A"\n[[authors]]\nkey = "a"\nname = "B"\n',
            "authors[1].key",
        ),
        ('[[authors]]\nkey = "a"\nname = "Smith OR ti:quantum"\n', "authors[0].name"),
        ('[arxiv]\npage_size = "200"\n[[authors]]\nkey = "a"\nname = "A"\n', "arxiv.page_size"),
        (
            '[database]\nurl = "mysql://u@h/db"\n[[authors]]\nkey = "a"\nname = "A"\n',
            "database.url",
        ),
        (
            '[arxiv]\nmax_consecutive_failures = 0\n[[authors]]\nkey = "a"\nname = "A"\n',
            "arxiv.max_consecutive_failures",
        ),
    ],
)
def test_bad_config_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, content: str, needle: str
) -> None:
    config = tmp_path / "harvester.toml"
    config.write_text(content, encoding="utf-8")
    result = run("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(config) in lines[0]
    assert list(tmp_path.glob("*.db")) == []


def test_missing_config_names_the_file(tmp_path: Path) -> None:
    result = run("--once", cwd=tmp_path)
    assert result.returncode == 2
    assert "config/harvester.toml" in result.stderr


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert "--once" in result.stderr


def test_db_upgrade_creates_schema_and_views(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url, "http://127.0.0.1:9/api/query", arxiv=ARXIV)
    result = run("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {"author", "paper", "membership", "run", "event"} <= set(tables(db_url))


def test_demo_runs_offline(tmp_path: Path) -> None:
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Sham Kakade · 76 papers on arXiv" in result.stdout
    assert "  2024   15" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_every_command_has_help() -> None:
    parser = build_parser()
    text_ = parser.format_help()
    for word in (
        "--once",
        "--config",
        "db",
        "demo",
        "daemon",
        "status",
        "profile",
        "history",
        "review",
    ):
        assert word in text_
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in (
        "harvest --once",
        "harvest db upgrade",
        "harvest demo",
        "harvest daemon",
        "harvest status",
        "harvest profile",
        "harvest history",
        "harvest export",
        "harvest review",
        "harvest authors",
    ):
        assert command in readme, f"{command} is not documented in the README"
