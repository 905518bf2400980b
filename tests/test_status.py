"""``harvest status``: health per author from the run log, as a library and as a command."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from arxiv_lookalike import LookalikeServer, Status
from harvester.config import Settings, parse_settings
from harvester.status import StatusReport, collect_status
from harvester.store import RunTotals, Store
from harvester.vocabulary import HealthState, RunStatus

from .support import SEED_AUTHOR, harvest, make_settings, run_cli, write_config

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def status(db_url: str, settings: Settings, now: datetime | None = None) -> StatusReport:
    store = Store.reader(db_url)
    try:
        return collect_status(store, settings, now or datetime.now(UTC))
    finally:
        store.close()


def test_a_fresh_complete_harvest_is_healthy(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    assert harvest(store, settings).exit_code == 0
    report = status(db_url, settings)
    assert (report.healthy, report.exit_code) == (True, 0)
    [kakade] = report.authors
    assert kakade.last_harvest is not None and kakade.last_harvest.status == "ok"
    assert (kakade.paper_count, kakade.count_change, kakade.consecutive_failures) == (76, None, 0)
    assert kakade.state == "ok"
    assert report.interval == timedelta(days=1)  # the default cron, daily at 01:30 UTC
    assert report.next_run is not None and (report.next_run.hour, report.next_run.minute) == (1, 30)
    assert report.next_run > report.checked_at


def test_failures_count_until_the_next_complete_harvest(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=1)
    harvest(store, settings)
    server.faults.add(Status(503), times=2)
    assert harvest(store, settings).exit_code == 75
    assert harvest(store, settings).exit_code == 75
    [kakade] = status(db_url, settings).authors
    assert kakade.last_harvest is not None
    assert (kakade.last_harvest.status, kakade.consecutive_failures) == ("incomplete", 2)
    assert (kakade.state, kakade.failing, kakade.stale) == ("failing", True, False)
    assert status(db_url, settings).exit_code == 1
    harvest(store, settings)
    assert status(db_url, settings).authors[0].consecutive_failures == 0


def test_no_complete_harvest_within_two_intervals_is_stale(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    harvest(store, settings)
    now = datetime.now(UTC)
    assert status(db_url, settings, now + timedelta(hours=47)).healthy
    late = status(db_url, settings, now + timedelta(hours=49))
    assert (late.authors[0].state, late.exit_code) == ("stale", 1)


def test_skipped_and_running_runs_are_not_harvests(store: Store, db_url: str) -> None:
    settings = make_settings(db_url, "http://127.0.0.1:9/api/query")
    store.sync_authors([("kakade", "Sham Kakade")])
    ok = store.start_run("kakade", NOW)
    store.finish_run(ok, NOW, RunTotals("ok", requests=3))
    skip = store.start_run("kakade", NOW + timedelta(minutes=5))
    store.finish_run(skip, NOW + timedelta(minutes=5), RunTotals("skipped", error="leased"))
    store.start_run("kakade", NOW + timedelta(minutes=6))
    [kakade] = status(db_url, settings, NOW + timedelta(hours=1)).authors
    assert kakade.last_harvest is not None
    assert (kakade.last_harvest.status, kakade.last_harvest.finished_at) == ("ok", NOW)
    assert kakade.consecutive_failures == 0


def test_a_stopped_run_is_a_routine_stop_not_a_failure(store: Store, db_url: str) -> None:
    """SIGTERM while a harvest waited between requests: ``stopped``, and status stays ok."""
    settings = make_settings(db_url, "http://127.0.0.1:9/api/query")
    store.sync_authors([("kakade", "Sham Kakade")])
    store.finish_run(store.start_run("kakade", NOW), NOW, RunTotals(RunStatus.OK))
    later = NOW + timedelta(minutes=5)
    stopped = RunTotals(RunStatus.STOPPED, requests=1, error="stop requested")
    store.finish_run(store.start_run("kakade", later), later, stopped)
    report = status(db_url, settings, NOW + timedelta(hours=1))
    [kakade] = report.authors
    assert (kakade.state, kakade.consecutive_failures, report.exit_code) == ("ok", 0, 0)


def test_never_harvested_is_unhealthy(store: Store, db_url: str) -> None:
    settings = make_settings(db_url, "http://127.0.0.1:9/api/query")
    report = status(db_url, settings)
    assert report.authors[0].state == HealthState.NEVER_HARVESTED == "never harvested"
    assert report.authors[0].last_harvest is None
    assert report.exit_code == 1
    assert "never" in report.render()


def test_interval_schedules_predict_from_the_last_cycle(store: Store, db_url: str) -> None:
    data = {
        "database": {"url": db_url},
        "schedule": {"interval_seconds": 3600, "jitter_seconds": 0},
        "authors": [SEED_AUTHOR],
    }
    settings = parse_settings(data, Path("<test>"), {})
    store.sync_authors([("kakade", "Sham Kakade")])
    store.finish_run(store.start_run("kakade", NOW), NOW, RunTotals("ok"))
    report = status(db_url, settings, NOW)
    assert report.next_run == NOW + timedelta(hours=1)
    assert "every 3600 s" in report.render()
    assert "stale after 2 hours" in report.render()


def test_status_reads_while_a_writer_holds_the_sqlite_lock(tmp_path: Path) -> None:
    """Read-only: no write lock needed, nothing created, the writer not disturbed."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = Store.open(url)
    store.upgrade()
    settings = make_settings(url, "http://127.0.0.1:9/api/query")
    try:
        with store.engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock is taken
            writer.execute(text("INSERT INTO author (key, name) VALUES ('x', 'X')"))
            assert status(url, settings).authors[0].state == "never harvested"
    finally:
        store.close()


# -- the command ------------------------------------------------------------------------------


def run_status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("status", "--config", str(config), *args, timeout=60)


def test_the_command_prints_a_table_or_json_and_exits_0_when_healthy(
    tmp_path: Path, store: Store, server: LookalikeServer, db_url: str
) -> None:
    harvest(store, make_settings(db_url, server.url))
    config = write_config(tmp_path, db_url, server.url)
    table = run_status(config)
    assert (table.returncode, table.stderr) == (0, "")
    header, line, schedule = table.stdout.splitlines()
    assert header == "author  last harvest          status  papers  change  failures  state"
    assert line.startswith("kakade  ") and line.split()[-4:] == ["76", "base", "0", "ok"]
    assert schedule.startswith("schedule: cron '30 1 * * *' (UTC); next run ")
    result = run_status(config, "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["healthy"] is True
    assert data["stale_after_seconds"] == 2 * 86400
    [author] = data["authors"]
    assert (author["key"], author["state"], author["paper_count"]) == ("kakade", "ok", 76)
    assert author["last_harvest"]["status"] == "ok"


def test_the_command_exits_1_when_an_author_is_failing(
    tmp_path: Path, store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url, max_attempts=1)
    harvest(store, settings)
    server.faults.add(Status(503))
    harvest(store, settings)
    result = run_status(write_config(tmp_path, db_url, server.url), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["authors"][0]["state"] == "failing"


@pytest.mark.parametrize("before", ["no file or schema", "an empty file"])
def test_before_the_first_harvest_says_so_and_exits_1_creating_nothing(
    tmp_path: Path, db_url: str, before: str
) -> None:
    """Not a database error (74): a monitoring check sees "unhealthy", a person what to do."""
    if before == "an empty file":
        if not db_url.startswith("sqlite"):
            pytest.skip("an empty file is SQLite's")
        (tmp_path / "harvester.db").touch()
    made = sorted(tmp_path.iterdir())
    config = write_config(tmp_path / "status.toml", db_url, "http://127.0.0.1:9/api/query")
    table = run_status(config)
    assert (table.returncode, table.stderr) == (1, ""), table.stderr
    _, line, advice, schedule = table.stdout.splitlines()
    assert schedule.startswith("schedule: ")
    assert line.split() == ["kakade", "never", "-", "-", "-", "0", "never", "harvested"]
    assert advice.startswith("no harvest has run yet in this database: run 'harvest --once'")
    as_json = run_status(config, "--json", "-q")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert (data["healthy"], data["never_harvested"]) == (False, True)
    assert data["authors"][0]["state"] == "never harvested"
    assert sorted(tmp_path.iterdir()) == sorted([*made, config])
    if db_url.startswith("sqlite") and before == "an empty file":
        assert (tmp_path / "harvester.db").stat().st_size == 0


@pytest.mark.parametrize("change", [0, 2])
def test_the_count_change_of_the_last_complete_harvest(
    store: Store, db_url: str, change: int
) -> None:
    settings = make_settings(db_url, "http://127.0.0.1:9/api/query")
    store.sync_authors([("kakade", "Sham Kakade")])
    first = store.start_run("kakade", NOW)
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO count_change (author_key, recorded_at, paper_count,"
                " withdrawn_count, previous_count, run_id) VALUES ('kakade', :t, 76, 1, NULL, :r)"
            ),
            {"t": NOW.replace(tzinfo=None), "r": first},
        )
    store.finish_run(first, NOW, RunTotals("ok"))
    second = store.start_run("kakade", NOW)
    if change:
        with store.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO count_change (author_key, recorded_at, paper_count,"
                    " withdrawn_count, previous_count, run_id) VALUES ('kakade', :t, :n, 1, 76, :r)"
                ),
                {"t": NOW.replace(tzinfo=None), "n": 76 + change, "r": second},
            )
    store.finish_run(second, NOW, RunTotals("ok"))
    [kakade] = status(db_url, settings, NOW).authors
    assert (kakade.paper_count, kakade.count_change) == (76 + change, change)


@pytest.mark.parametrize("named_at_most", [500, 1], ids=["keys-named", "all-read"])
def test_status_reads_every_author_in_a_fixed_number_of_statements(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch, named_at_most: int
) -> None:
    """Six queries per author made ``harvest status`` take 17 s at 10,000 authors: the run
    log is read in the same number of statements for 3 authors as for 30, with each
    author's own figures (the keys are named in the statement while they are few, else
    every author is read: both ways give the same answer)."""
    from harvester.store import runlog

    monkeypatch.setattr(runlog._Keys, "NAMED_AT_MOST", named_at_most)
    outcomes = {"ok": ["ok"], "fails": ["ok", "failed", "incomplete"], "never": ["failed"]}
    keys = [f"{kind}{i}" for i in range(10) for kind in outcomes]
    store.sync_authors([(key, key.title()) for key in keys])
    for key in keys:
        for status_ in outcomes[key.rstrip("0123456789")]:
            store.finish_run(store.start_run(key, NOW), NOW, RunTotals(RunStatus(status_)))

    def statements(count: int) -> tuple[int, StatusReport]:
        settings = make_settings(
            db_url,
            "http://127.0.0.1:9/api/query",
            authors=[{"key": k, "name": k.title()} for k in keys[:count]],
        )
        seen: list[str] = []

        def note(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(Engine, "before_cursor_execute", note)
        try:
            report = status(db_url, settings, NOW)
        finally:
            event.remove(Engine, "before_cursor_execute", note)
        return len(seen), report

    few, _ = statements(3)
    many, report = statements(30)
    assert few == many
    failures = {a.key: (a.consecutive_failures, a.state) for a in report.authors}
    assert failures["ok0"] == (0, HealthState.OK)
    assert failures["fails7"] == (2, HealthState.FAILING)
    assert failures["never9"] == (1, HealthState.NEVER_HARVESTED)
    last = report.authors[keys.index("fails3")].last_harvest
    assert last is not None and last.status == "incomplete"
