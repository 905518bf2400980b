"""Damaged derived data and local state (issue 23, cases 1 to 6), on SQLite and PostgreSQL.

Whatever can be derived from the papers is recomputed, never restored: a tampered vector,
model or date makes the refresh log one line and recompute every list (the lists come back
as they were, the change log empties); a dropped table is recreated; an unreadable
decision is one line and left out, for that author alone; a read command meets a tampered
row as one line and exit 74; JSON never says NaN; the site's state file is read only when
it is a regular file of bounded size. The harvest's own result always stands.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from arxiv_lookalike import LookalikeServer
from harvester.cli.app import main
from harvester.config import Settings
from harvester.profile import refresh_similar_authors, write_site
from harvester.store import Store

from .support import AUTHORS, make_settings, rows, with_html_dir, write_config
from .support import harvest as harvest_cycle

LISTS = "SELECT author_key, position, similar_name, score FROM similar_author ORDER BY 1, 2"
DERIVED = ("derived_state", "derived_change", "similar_model", "similar_profile", "similar_author")
RECOMPUTING = "recomputing the similar authors from the papers"


@pytest.fixture
def settings(store: Store, server: LookalikeServer, db_url: str) -> Settings:
    """Two profiles harvested, their similar authors derived."""
    settings = make_settings(db_url, server.url, authors=AUTHORS)
    assert harvest_cycle(store, settings, derive=True).exit_code == 0
    return settings


def execute(store: Store, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def a_change(store: Store) -> None:
    """What a harvest notes when one of kakade's papers changed: the next refresh reads the
    stored vectors and lists to find the lists it reaches."""
    (arxiv_id,) = rows(store, "SELECT min(arxiv_id) FROM membership WHERE author_key = 'kakade'")[0]
    execute(store, "INSERT INTO derived_change (arxiv_id) VALUES (:i)", i=arxiv_id)


def stored_array(store: Store, column: str, dtype: Any, key: str = "kakade") -> Any:
    (value,) = rows(store, f"SELECT {column} FROM similar_profile WHERE author_key = :k", k=key)[0]
    return np.frombuffer(bytes(value), dtype=dtype).copy()


def set_profile(store: Store, column: str, value: Any, key: str = "kakade") -> None:
    sql = f"UPDATE similar_profile SET {column} = :v WHERE author_key = :k"
    execute(store, sql, v=value, k=key)


def term_index(store: Store, column: str, index: int, value: int) -> bytes:
    terms = stored_array(store, column, np.int32)
    terms[index] = value
    return terms.tobytes()


def nan_weights(store: Store) -> bytes:
    weights = stored_array(store, "topic_weights", np.float32)
    weights[0] = np.nan
    return weights.tobytes()


TAMPERED_VECTORS = {
    "term -5": lambda s: set_profile(s, "topic_terms", term_index(s, "topic_terms", 0, -5)),
    "term 2**31-1": lambda s: set_profile(
        s, "topic_terms", term_index(s, "topic_terms", -1, 2**31 - 1)
    ),
    "category 9999": lambda s: set_profile(
        s, "category_terms", term_index(s, "category_terms", -1, 9999)
    ),
    "NaN weight": lambda s: set_profile(s, "topic_weights", nan_weights(s)),
    "co-author without a tab": lambda s: set_profile(s, "coauthors", "someone without a count"),
    "model without terms": lambda s: execute(
        s, "UPDATE similar_model SET terms = '', idf = :b", b=b""
    ),
}


@pytest.mark.parametrize("damage", sorted(TAMPERED_VECTORS))
def test_a_tampered_vector_or_model_is_recomputed_from_the_papers(
    store: Store, settings: Settings, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Case 1 (and 2, 3): a crash in scipy once (exit 139, every cycle after), now one line
    and the lists as a full recompute gives them, the change log emptied."""
    before = rows(store, LISTS)
    TAMPERED_VECTORS[damage](store)
    a_change(store)
    with caplog.at_level(logging.WARNING, logger="harvester"):
        assert refresh_similar_authors(store)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and RECOMPUTING in said[0], said
    assert rows(store, LISTS) == before
    assert rows(store, "SELECT count(*) FROM derived_change") == [(0,)]
    assert not refresh_similar_authors(store)  # current: nothing read, nothing logged


def test_an_unreadable_model_date_is_recomputed_and_the_cycle_stands(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Case 3: a cycle whose refresh meets it logs one line, recomputes, empties the change
    log (it grew without bound), and the next cycle is quiet; the harvests stand."""
    before = rows(store, LISTS)
    if store.engine.dialect.name == "sqlite":
        execute(store, "UPDATE similar_model SET fitted_at = 'not a date'")
    else:  # a date column holds dates: the model's header is damaged in its count
        execute(store, "UPDATE similar_model SET papers = -7")
    a_change(store)
    with caplog.at_level(logging.WARNING, logger="harvester"):
        report = harvest_cycle(store, settings, derive=True)
    assert report.exit_code == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if RECOMPUTING in r.getMessage()]
    assert rows(store, "SELECT count(*) FROM derived_change") == [(0,)]
    assert rows(store, LISTS) == before
    assert [r[0] for r in rows(store, "SELECT status FROM run")] == ["ok"] * 4
    caplog.clear()
    assert harvest_cycle(store, settings, derive=True).exit_code == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings: Settings, *args: str
) -> tuple[int, str, str]:
    """``harvest ARGS`` in this process: exit code, stdout, stderr."""
    config = write_config(tmp_path, settings.database.url, settings.arxiv.api_url, authors=AUTHORS)
    capsys.readouterr()
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def strict(document: str) -> Any:
    """JSON as the standard has it: NaN and Infinity are not numbers of it."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(document, parse_constant=refuse)


def test_a_score_that_is_not_a_number_is_one_line_and_never_json_nan(
    store: Store, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case 2: a NaN or infinite score printed ``NaN``/``Infinity``: invalid JSON."""
    bad = float("nan") if store.engine.dialect.name == "postgresql" else float("inf")
    execute(store, "UPDATE similar_author SET score = :v WHERE position = 2", v=bad)
    code, out, err = cli(capsys, tmp_path, settings, "profile", "kakade", "--format", "json")
    assert (code, out) == (74, "")
    one_line(err, "similar author of kakade cannot be read", "harvest refresh --all")
    assert refresh_similar_authors(store, everything=True)
    code, out, err = cli(capsys, tmp_path, settings, "profile", "kakade", "--format", "json")
    assert code == 0, err
    assert len(strict(out)["similar_authors"]) == 10


def hold(store: Store, score: Any) -> str:
    """One of kakade's papers held for review with ``score``; its id."""
    (arxiv_id,) = rows(store, "SELECT max(arxiv_id) FROM membership WHERE author_key = 'kakade'")[0]
    sql = "UPDATE membership SET status = 'held', score = :s WHERE author_key = 'kakade'"
    execute(store, sql + " AND arxiv_id = :i", s=score, i=arxiv_id)
    return str(arxiv_id)


def test_an_unreadable_held_score_is_one_line_and_exit_74(
    store: Store, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case 5: ``membership.score = 'abc'`` gave ``review`` exit 70."""
    hold(store, "abc" if store.engine.dialect.name == "sqlite" else float("nan"))
    for extra in ((), ("--json",)):
        code, out, err = cli(capsys, tmp_path, settings, "review", "kakade", *extra)
        assert (code, out) == (74, "")
        one_line(err, "a stored held paper cannot be read", "is not a number")
    execute(store, "UPDATE membership SET score = 0.41 WHERE status = 'held'")
    code, out, err = cli(capsys, tmp_path, settings, "review", "kakade", "--json")
    assert code == 0, err
    assert [p["score"] for p in strict(out)["held"]] == [0.41]


def decide(store: Store, key: str, decision: str, decided_at: str = "2026-12-01 10:00:00") -> str:
    sql = "SELECT min(arxiv_id) FROM membership WHERE author_key = :k"
    (arxiv_id,) = rows(store, sql, k=key)[0]
    execute(
        store,
        "INSERT INTO review_decision (author_key, arxiv_id, decision, decided_at)"
        " VALUES (:k, :i, :d, :t)",
        k=key,
        i=arxiv_id,
        d=decision,
        t=decided_at,
    )
    return str(arxiv_id)


def test_an_unreadable_decision_is_one_line_and_left_out_for_that_author_alone(
    store: Store,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Case 5: ``decision = 'maybe'`` (or a date that is none) failed the whole run, exit
    70. Now the cycle stands, both authors' runs are ok, one line names the author."""
    maybe = decide(store, "kakade", "maybe")
    decide(store, "morwani", "accepted")
    damage = "decided_at = 'garbage'" if store.engine.dialect.name == "sqlite" else "decision = ''"
    execute(store, f"UPDATE review_decision SET {damage} WHERE author_key = 'morwani'")
    with caplog.at_level(logging.WARNING, logger="harvester"):
        report = harvest_cycle(store, settings, full=True, derive=True)
    assert report.exit_code == 0
    assert [r[0] for r in rows(store, "SELECT status FROM run ORDER BY run_id")] == ["ok"] * 4
    said = sorted(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert len(said) == 2, said
    assert said[0].startswith(f"kakade: the stored review decision on {maybe} cannot be read")
    assert said[1].startswith("morwani: the stored review decision on ")
    code, out, err = cli(capsys, tmp_path, settings, "review", "kakade", "--json")
    assert code == 0, err
    assert strict(out)["pending_decisions"] == []


def drop(store: Store, table: str) -> None:
    cascade = " CASCADE" if store.engine.dialect.name == "postgresql" else ""
    execute(store, f"DROP TABLE {table}{cascade}")


def test_db_upgrade_recreates_dropped_derived_and_decision_tables(
    store: Store, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case 4: ``db upgrade`` said "cannot repair the schema" and ``--once`` "run 'harvest
    db upgrade' first": a circle. Now it recreates them, and the next cycle recomputes."""
    before = rows(store, LISTS)
    for table in (*DERIVED, "review_decision"):
        drop(store, table)
    code, out, err = cli(capsys, tmp_path, settings, "db", "upgrade")
    assert code == 0, err
    repaired = [line for line in out.splitlines() if line.startswith("repaired: recreated table")]
    assert len(repaired) == 6, out
    if store.engine.dialect.name == "postgresql":  # the drop took the view with it
        assert "repaired: recreated view similar_authors" in out
    code, out, err = cli(capsys, tmp_path, settings, "db", "upgrade")
    assert "repaired" not in out
    assert harvest_cycle(store, settings, derive=True).exit_code == 0
    assert rows(store, LISTS) == before
    assert rows(store, "SELECT count(*) FROM similar_authors") == [(len(before),)]


@pytest.mark.parametrize("table", ["derived_change", "similar_author", "review_decision"])
def test_once_recreates_a_dropped_table_itself(
    store: Store,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
) -> None:
    """Case 4: ``--once`` does not send the user to ``db upgrade`` and back."""
    before = rows(store, LISTS)
    drop(store, table)
    code, _, err = cli(capsys, tmp_path, settings, "--once", "--full")
    assert code == 0, err
    assert f"recreated table {table} (empty)" in err
    assert "harvest db upgrade" not in err
    assert rows(store, LISTS) == before


@pytest.mark.parametrize("kind", ["fifo", "device", "huge", "not json"])
def test_the_site_state_file_is_read_only_as_a_bounded_regular_file(
    store: Store, settings: Settings, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Case 6: a FIFO hung ``refresh`` and ``--once``; ``/dev/zero`` or 2 GB was read whole
    (MemoryError, exit 70). Now one line, every page written, the state file replaced."""
    site = tmp_path / "site"
    site.mkdir()
    state = site / ".site-state.json"
    if kind == "fifo":
        os.mkfifo(state)
    elif kind == "device":
        state.symlink_to("/dev/zero")
    elif kind == "huge":
        with state.open("wb") as file:
            file.truncate(2 * 1024**3)  # sparse: 2 GB that take no room
    else:
        state.write_text("[1, 2", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="harvester"):
        written = write_site(store, site)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and ".site-state.json cannot be read" in said[0], said
    assert {p.name for p in written} >= {"kakade.html", "morwani.atom", "index.html"}
    assert state.is_file() and not state.is_symlink()
    assert isinstance(json.loads(state.read_text(encoding="utf-8")), dict)


def test_a_cycle_whose_site_meets_an_unreadable_score_recomputes_and_writes(
    store: Store, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Case 2 in the daemon's and ``--once``'s path: no change sends the refresh to the
    list, the site's page shows it; one line, a recompute, the pages written."""
    before = rows(store, LISTS)
    site = tmp_path / "site"
    execute(store, "UPDATE similar_author SET score = :v WHERE position = 1", v=float("inf"))
    with caplog.at_level(logging.WARNING, logger="harvester"):
        report = harvest_cycle(store, with_html_dir(settings, site), derive=True)
    assert report.exit_code == 0
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and RECOMPUTING in said[0], said
    assert rows(store, LISTS) == before
    assert (site / "kakade.html").is_file() and (site / "morwani.html").is_file()
