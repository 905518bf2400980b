"""``harvest authors``: the tracked authors, the profiles left behind, and ``--purge``.

Real subprocesses against the look-alike and a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from arxiv_lookalike import LookalikeServer
from harvester.store import Store

from .support import (
    AUTHORS,
    REPO,
    SEED_AUTHOR,
    allow_inserts,
    harvest,
    make_settings,
    refuse_inserts,
    rows,
    run_cli,
    with_html_dir,
    write_config,
)

ARXIV = {"delay_seconds": 0, "page_size": 100}
KEYED = ("membership", "run", "event", "count_change", "similar_author", "similar_profile")


def harvested_then_dropped(tmp_path: Path, db_url: str, server: LookalikeServer) -> Path:
    """Both authors harvested, the site written (in-process, as ``harvest --once`` does:
    the subject here is ``authors``); then the config keeps only the seed author."""
    site = {"html_dir": str(tmp_path / "site")}
    settings = make_settings(db_url, server.url, authors=AUTHORS, **ARXIV)
    store = Store.open(db_url)
    try:
        store.upgrade()
        report = harvest(store, with_html_dir(settings, tmp_path / "site"), derive=True)
    finally:
        store.close()
    assert report.exit_code == 0, report
    anchored = {**SEED_AUTHOR, "orcid": "0000-0002-1825-0097"}
    return write_config(tmp_path, db_url, server.url, authors=[anchored], arxiv=ARXIV, output=site)


def keyed_rows(store: Store, key: str) -> dict[str, int]:
    return {
        table: rows(store, f"SELECT COUNT(*) FROM {table} WHERE author_key = :k", k=key)[0][0]
        for table in KEYED
    }


def test_authors_lists_the_configured_and_those_left_behind(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = harvested_then_dropped(tmp_path, db_url, server)
    result = run_cli("authors", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, kakade, morwani = result.stdout.splitlines()
    assert header.split() == ["KEY", "NAME", "ANCHORS", "PAPERS", "LAST", "HARVEST"]
    assert kakade.startswith("kakade   Sham Kakade    orcid:0000-0002-1825-0097")
    assert " 76  " in kakade and "UTC" in kakade and "not in config" not in kakade
    assert morwani.startswith("morwani  Depen Morwani  -") and morwani.endswith("not in config")
    assert header.index("PAPERS") + len("PAPERS") == kakade.index(" 76 ") + 3  # right-aligned

    listed = json.loads(run_cli("authors", "--json", "--config", str(config)).stdout)
    assert [(a["key"], a["in_config"]) for a in listed] == [("kakade", True), ("morwani", False)]
    assert listed[0]["papers"] == 76 and listed[0]["orcid"] == "0000-0002-1825-0097"
    assert listed[1]["papers"] > 0 and listed[1]["last_harvest_at"].endswith("+00:00")


def test_a_configured_author_never_harvested_has_no_count(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = write_config(tmp_path, db_url, server.url, arxiv=ARXIV)
    result = run_cli("authors", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split() == ["kakade", "Sham", "Kakade", "-", "-", "-"]


def test_purge_refuses_without_yes_off_a_terminal_and_changes_nothing(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = harvested_then_dropped(tmp_path, db_url, server)
    before = store.row_counts()
    result = run_cli("authors", "--purge", "morwani", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "not a terminal" in line and "pass --yes" in line
    assert store.row_counts() == before


def test_purge_refuses_a_configured_key_and_an_unknown_one(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = harvested_then_dropped(tmp_path, db_url, server)
    before = store.row_counts()
    configured = run_cli("authors", "--purge", "kakade", "--yes", "--config", str(config))
    assert configured.returncode == 2
    [line] = configured.stderr.splitlines()
    assert "kakade: still in the config" in line and "remove it from the config first" in line
    unknown = run_cli("authors", "--purge", "nobody", "--yes", "--config", str(config))
    assert unknown.returncode == 2
    [line] = unknown.stderr.splitlines()
    assert "no profile with key 'nobody'" in line and "morwani" in line
    usage = run_cli("authors", "--dry-run", "--config", str(config))
    assert usage.returncode == 2 and "--dry-run and --yes go with --purge" in usage.stderr
    assert store.row_counts() == before


def test_dry_run_says_what_a_purge_removes_and_the_purge_removes_exactly_that(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = harvested_then_dropped(tmp_path, db_url, server)
    before = store.row_counts()
    kept = keyed_rows(store, "kakade")
    dry = run_cli("authors", "--purge", "morwani", "--dry-run", "--config", str(config))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would remove morwani:\n")
    assert dry.stdout.endswith("nothing was changed (--dry-run)\n")
    assert store.row_counts() == before

    result = run_cli("authors", "--purge", "morwani", "--yes", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.replace("removed", "would remove") == dry.stdout.replace(
        "nothing was changed (--dry-run)\n", ""
    )
    removed = dict(line.strip().rsplit(maxsplit=1) for line in result.stdout.splitlines()[1:])
    assert removed["author"] == "1" and int(removed["membership"]) > 0
    assert int(removed["run"]) > 0 and int(removed["similar_key cleared"]) > 0
    assert keyed_rows(store, "morwani") == dict.fromkeys(KEYED, 0)
    assert rows(store, "SELECT COUNT(*) FROM author WHERE key = 'morwani'")[0][0] == 0
    assert (
        rows(store, "SELECT COUNT(*) FROM similar_author WHERE similar_key = 'morwani'")[0][0] == 0
    )
    assert keyed_rows(store, "kakade") == kept
    after = store.row_counts()
    after.pop("derived_change")  # the shared papers, noted for the next refresh
    assert {t: before[t] - after[t] for t in after if before[t] != after[t]} == {
        t: int(n) for t, n in removed.items() if int(n) and t in before
    }

    listed = run_cli("authors", "--config", str(config)).stdout
    assert "morwani" not in listed
    refresh = run_cli("refresh", "--config", str(config))
    assert refresh.returncode == 0, refresh.stderr
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "kakade.html" in index and "morwani" not in index
    assert not (tmp_path / "site" / "morwani.html").exists()


def test_a_failed_purge_leaves_the_database_as_it_was(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = harvested_then_dropped(tmp_path, db_url, server)
    refuse_inserts(store, "derived_change")  # the purge's last write fails
    before = store.row_counts()
    result = run_cli("authors", "--purge", "morwani", "--yes", "--config", str(config))
    allow_inserts(store, "derived_change")
    assert result.returncode == 74 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "refused by a test trigger" in result.stderr
    assert store.row_counts() == before


def test_purge_on_a_terminal_asks_for_the_key(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = harvested_then_dropped(tmp_path, db_url, server)
    assert confirm_on_terminal(config, "morwan\n") == 2  # a typo keeps everything
    assert keyed_rows(store, "morwani")["membership"] > 0
    assert confirm_on_terminal(config, "morwani\n") == 0
    assert keyed_rows(store, "morwani")["membership"] == 0


def confirm_on_terminal(config: Path, typed: str) -> int:
    """``harvest authors --purge morwani`` with a pseudo-terminal as stdin; its exit code."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    command = [sys.executable, "-m", "harvester.cli", "authors", "--purge", "morwani"]
    with subprocess.Popen(
        [*command, "--config", str(config)],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
    ) as process:
        os.close(follower)
        os.write(leader, typed.encode())
        process.communicate(timeout=60)
        os.close(leader)
        return process.returncode
