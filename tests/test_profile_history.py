"""``harvest history`` and the statistics views where dates are tricky.

Harvests here run at fixed times (``harvest_once``'s clock), so the history is exact.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from arxiv_lookalike import Corpus, LookalikeServer
from harvester.config import Settings
from harvester.errors import ProfileNotFoundError
from harvester.profile import load_history, parse_since, render_history
from harvester.store import Store

from .support import harvest, make_settings, months_ago_start, run_cli, seed_papers

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def harvest_at(store: Store, settings: Settings, when: datetime) -> None:
    assert harvest(store, settings, when=when).exit_code == 0


def test_history_lists_count_changes_and_events_newest_first(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, tmp_path: Path
) -> None:
    settings = make_settings(db_url, server.url)
    harvest_at(store, settings, T0)
    ids = [p.arxiv_id for p in seed_papers(corpus)]
    template = corpus.get(ids[0])
    assert template is not None
    corpus.upsert(replace(template, arxiv_id="2611.04321", title="Brand New", published=T1))
    corpus.revise(ids[1], updated=T1)
    harvest_at(store, settings, T1)

    items = load_history(store, "kakade")
    assert [(i.recorded_at, i.kind) for i in items] == [
        (T1, "count"),
        (T1, "new_version"),
        (T1, "new_paper"),
        (T0, "count"),
    ]
    assert items[0].detail == "76 -> 77 papers, 1 withdrawn"
    assert items[-1].detail == "76 papers (baseline), 1 withdrawn"
    assert (items[2].arxiv_id, items[2].title) == ("2611.04321", "Brand New")
    lines = render_history(items).splitlines()
    assert lines[0].startswith("2026-11-20 06:00 UTC  count")
    assert "new_paper         2611.04321        " in lines[2] and lines[2].endswith("Brand New")
    assert lines[2].count("Brand New") == 1 and lines[2].endswith("  v2  Brand New")  # title once

    since = load_history(store, "kakade", parse_since("2026-11-10"))
    assert [i.recorded_at for i in since] == [T1, T1, T1]
    assert render_history(load_history(store, "kakade", T1 + timedelta(seconds=1))) == (
        "no changes recorded\n"
    )
    with pytest.raises(ProfileNotFoundError):
        load_history(store, "nobody")

    config = tmp_path / "h.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[[authors]]\nkey = "kakade"\nname = "Sham Kakade"\n',
        encoding="utf-8",
    )
    shown = _cli("history", "kakade", "--since", "2026-11-10T00:00", "--config", str(config))
    assert (shown.returncode, shown.stdout) == (0, render_history(since))
    bad = _cli("history", "kakade", "--since", "last week", "--config", str(config))
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_parse_since_reads_dates_and_datetimes_as_utc() -> None:
    assert parse_since("2026-11-10") == datetime(2026, 11, 10, tzinfo=UTC)
    assert parse_since("2026-11-10T12:30+01:00") == datetime(2026, 11, 10, 11, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        parse_since("yesterday")


def test_years_are_utc_years_with_the_gaps_filled(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """A paper of 2015-01-01 00:30 UTC is of 2015 even for a New York session."""
    template = seed_papers(corpus)[0]
    early = datetime(2015, 1, 1, 0, 30, tzinfo=UTC)
    corpus.upsert(replace(template, arxiv_id="1501.00001", published=early, updated=early))
    harvest_at(store, make_settings(db_url, server.url), T0)
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET TIME ZONE 'America/New_York'"))
        years = conn.execute(
            text("SELECT year, papers FROM papers_by_year WHERE author_key = 'kakade'")
        ).all()
        first = conn.execute(
            text("SELECT MIN(first_year) FROM coauthors WHERE author_key = 'kakade'")
        ).scalar_one()
    assert [tuple(row) for row in years[:5]] == [
        (2015, 1),
        (2016, 0),
        (2017, 0),
        (2018, 0),
        (2019, 3),
    ]
    assert first == 2015


def test_last_12_months_are_the_current_month_and_the_eleven_before(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    template = seed_papers(corpus)[0]
    start = months_ago_start(datetime.now(UTC), 11)
    before = sum(p.published >= start for p in seed_papers(corpus))
    for arxiv_id, when in [("2601.00001", start), ("2601.00002", start - timedelta(seconds=1))]:
        corpus.upsert(replace(template, arxiv_id=arxiv_id, published=when, updated=when))
    harvest_at(store, make_settings(db_url, server.url), T0)
    with store.engine.connect() as conn:
        counted = conn.execute(
            text("SELECT papers_last_12_months FROM profile_stats WHERE author_key = 'kakade'")
        ).scalar_one()
    assert counted == before + 1  # the first instant of the window counts, the one before not


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=60)
