"""The command line as a newcomer uses it: options in any order, nonsense refused, -q
quiet for every command but never silencing the output asked for, a closed pipe, a
database that is down or not a database."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.cli.parser import EXPORT_FORMATS, FORMATS, build_parser
from harvester.profile import EXPORT_FORMATS as EXPORTERS
from harvester.profile import FORMATS as RENDERERS

from .support import REPO, Harvested, harvested_database, run_cli, write_config

ARXIV = {"delay_seconds": 0, "timeout_seconds": 2, "max_attempts": 2, "page_size": 100}
COMMANDS = (
    ("status",),
    ("profile", "kakade"),
    ("history", "kakade"),
    ("export", "kakade"),
    ("db", "upgrade"),
    ("refresh",),
    ("authors",),
)
ASKED_FOR = ("profile", "history", "export", "authors")
"""Commands whose output is what was asked for: ``-q`` never silences it."""


@pytest.fixture(scope="module")
def harvested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harvested]:
    """One harvested database, SQLite: the subject here is the command line (option order,
    ``-q``, a closed pipe), which does the same on either database; what the commands read
    is tested on both (``tests/test_profile.py``, ``tests/test_export.py``), and so are the
    broken databases below."""
    with harvested_database("sqlite", tmp_path_factory.mktemp("db")) as h:
        yield h


def config_for(harvested: Harvested, tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "elsewhere.toml", harvested.url, harvested.server.url, arxiv=ARXIV
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_global_options_mean_the_same_before_and_after_the_command(
    harvested: Harvested, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """From a directory whose ./config/harvester.toml would be the wrong database."""
    config = config_for(harvested, tmp_path)
    before = run_cli("--config", str(config), *command, cwd=tmp_path)
    after = run_cli(*command, "--config", str(config), cwd=tmp_path)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stdout == after.stdout != ""
    quiet_first = run_cli("-q", "--config", str(config), *command, cwd=tmp_path)
    asked_for = before.stdout if command[0] in ASKED_FOR else ""
    assert (quiet_first.returncode, quiet_first.stdout, quiet_first.stderr) == (0, asked_for, "")


@pytest.mark.parametrize(
    "command",
    [("export", "kakade"), ("profile", "kakade"), ("history", "kakade"), ("review", "kakade")],
    ids=lambda c: c[0],
)
def test_quiet_never_silences_the_output_asked_for(
    harvested: Harvested, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """``harvest -q export kakade > q.bib`` writes the BibTeX: -q silences chatter only."""
    config = config_for(harvested, tmp_path)
    plain = run_cli(*command, "--config", str(config), cwd=tmp_path)
    quiet = run_cli("-q", *command, "--config", str(config), cwd=tmp_path)
    assert (quiet.returncode, quiet.stderr) == (0, ""), quiet.stderr
    assert quiet.stdout == plain.stdout != ""
    if command[0] == "export":
        assert quiet.stdout.count("@misc{") == 76


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--once", "status"), "--once is a command of its own"),
        (("--full", "status"), "--full goes with --once"),
        (("--full",), "--full goes with --once"),
        (("--only", "kakade"), "--only goes with --once"),
        (("authors", "--yes"), "--dry-run and --yes go with --purge"),
        (("authors", "--json", "--purge", "x"), "--json lists the authors"),
        (("-q", "-v", "--once"), "-q and -v contradict each other"),
        (("demo", "--config", "x.toml"), "demo uses a configuration of its own"),
    ],
)
def test_options_that_make_no_sense_together_are_a_usage_error(
    tmp_path: Path, args: tuple[str, ...], complaint: str
) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_no_arguments_lists_every_command(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    for command in (
        "--once",
        "daemon",
        "status",
        "profile",
        "history",
        "export",
        "refresh",
        "authors",
        "db",
        "demo",
    ):
        assert command in result.stderr.splitlines()[-1], command


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("broken", ["not-a-database", "postgres-missing"])
def test_read_commands_on_a_broken_database_are_one_line_naming_config_and_database(
    tmp_path: Path, command: tuple[str, ...], broken: str
) -> None:
    if broken == "not-a-database":
        (tmp_path / "h.db").write_text("not a database at all, " * 100, encoding="utf-8")
        url = f"sqlite:///{tmp_path / 'h.db'}"
    else:
        url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:5432/no_such_database_here"
    config = write_config(tmp_path, url, "http://127.0.0.1:9/api/query", arxiv=ARXIV)
    result = run_cli(*command, "--config", str(config), cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 74, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"config {config}" in lines[0]
    assert "s3cret" not in lines[0]
    assert ("database sqlite:///" in lines[0]) or ("postgres:***@" in lines[0])


def test_verbose_adds_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "h.db").write_text("not a database at all, " * 100, encoding="utf-8")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", "http://127.0.0.1:9/")
    result = run_cli("-v", "profile", "kakade", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 74 and "Traceback" in result.stderr


@pytest.mark.parametrize(
    "command",
    [("demo",), ("status", "--json"), ("profile", "kakade"), ("export", "kakade")],
    ids=lambda c: c[0],
)
def test_a_closed_pipe_ends_the_command_quietly(
    harvested: Harvested, tmp_path: Path, command: tuple[str, ...]
) -> None:
    args = list(command)
    if command[0] != "demo":
        args += ["--config", str(config_for(harvested, tmp_path))]
    pipeline = (
        f"{sys.executable} -m harvester.cli {' '.join(args)} | head -1; "
        "echo status=${PIPESTATUS[0]}"
    )
    result = subprocess.run(
        ["bash", "-c", pipeline],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1] in ("status=0", "status=141")


def test_demo_help_does_not_offer_the_config_it_refuses() -> None:
    demo = run_cli("demo", "--help")
    assert demo.returncode == 0 and "-q, --quiet" in demo.stdout
    assert "--config PATH" not in demo.stdout  # (--keep's help names it for other commands)
    assert "--config PATH" in run_cli("status", "--help").stdout


def test_verbose_shows_the_migrations_run_not_alembics_plugin_setup(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", "http://127.0.0.1:9/")
    result = run_cli("-v", "db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "INFO alembic.runtime.migration: Running upgrade  -> 0001" in result.stderr
    assert "plugin" not in result.stderr.lower(), result.stderr


def test_quiet_demo_prints_nothing(tmp_path: Path) -> None:
    result = run_cli("-q", "demo", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_parser_offers_the_formats_the_renderers_have() -> None:
    assert (FORMATS, EXPORT_FORMATS) == (RENDERERS, EXPORTERS)
    help_text = build_parser().format_help()
    assert "COMMAND" in help_text


def loaded_after(args: list[str], modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after ``harvest ARGS``."""
    probe = (
        "import sys\n"
        "from harvester.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {modules!r} if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip(), result.stderr
    return list(ast.literal_eval(result.stdout.strip().splitlines()[-1]))


def test_help_and_version_start_without_the_heavy_modules() -> None:
    """``--help`` and ``--version`` import neither the renderers nor the database layer."""
    heavy = ("sqlalchemy", "sklearn", "harvester.profile", "arxiv", "lxml")
    assert loaded_after(["--version"], heavy) == []
    assert loaded_after(["--help"], heavy) == []


def test_status_starts_without_migrations_renderers_or_the_client(tmp_path: Path) -> None:
    """``status`` reads the run log: no Alembic (the schema's revision is compared with a
    constant), no scikit-learn, no renderers, no HTTP client."""
    config = write_config(tmp_path, "sqlite:///" + str(tmp_path / "h.db"), "http://127.0.0.1:9/")
    assert run_cli("--config", str(config), "db", "upgrade").returncode == 0
    heavy = ("alembic", "sklearn", "numpy", "harvester.profile.render_html", "arxiv", "requests")
    assert loaded_after(["--config", str(config), "status"], heavy) == []


def test_psycopg_warnings_about_the_reported_failure_stay_out_unless_verbose(
    tmp_path: Path,
) -> None:
    """psycopg logs "error ignored terminating <Pipeline [INERROR]>" after the failure a
    command reports in its one line (seen on a purge stopped by a trigger): -v shows it,
    nothing else does."""
    script = (
        "import logging, sys\n"
        "from harvester.cli.app import main\n"
        "main(sys.argv[1:])\n"
        "print(logging.getLogger('psycopg').isEnabledFor(logging.WARNING))\n"
    )
    missing = str(tmp_path / "none.toml")
    for flags, shown in (([], "False"), (["-v"], "True")):
        args = [sys.executable, "-c", script, *flags, "status", "--config", missing]
        result = subprocess.run(args, capture_output=True, text=True, check=False, cwd=tmp_path)
        assert result.stdout.strip() == shown, (flags, result.stderr)
