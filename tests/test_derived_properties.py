"""Hostile values in every column of every derived and decision table (issue 23).

Random bytes, NaN, infinities, out-of-range integers and values of the wrong type are
written into one column of ``derived_state``, ``derived_change``, ``similar_model``,
``similar_profile``, ``similar_author`` or ``review_decision`` (what the database accepts:
SQLite takes anything, PostgreSQL only its column's type). Then:

- a read command (a profile as JSON, the review queue) answers, in strict JSON, or fails
  with one line and exit 74;
- the next cycle (``harvest --once``, in this process) harvests as before: exit 0, every
  run ``ok``, no error logged, and the similar authors come back exactly as they were
  (recomputed where needed), the change log empty.

A few of them run as real processes too: never a signal, a traceback or exit 70.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from harvester import exits
from harvester.errors import HarvesterError
from harvester.profile import render
from harvester.review import queue_json, review_queue, waiting
from harvester.store import Store
from harvester.store import schema as t

from .support import (
    AUTHORS,
    Harvested,
    harvested_database,
    rows,
    run_cli,
    write_config,
)
from .support import harvest as harvest_cycle

TABLES = (
    t.derived_state,
    t.derived_change,
    t.similar_model,
    t.similar_profile,
    t.similar_author,
    t.review_decision,
)
COLUMNS = [(table.name, column.name) for table in TABLES for column in table.columns]
LISTS = "SELECT author_key, position, similar_name, score FROM similar_author ORDER BY 1, 2"
HOSTILE = st.one_of(
    st.binary(max_size=48),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    st.sampled_from([-5, -1, 0, 2**31 - 1, 2**31, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["not a date", "maybe", "", "a\tb\n\tc", "1e999", "NaN", "[1, 2"]),
)
EXAMPLES = settings(
    max_examples=3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Damaged:
    """A harvested database and its derived and decision rows as they were, to write back
    before each example."""

    def __init__(self, harvested: Harvested) -> None:
        self.h = harvested
        self.store = harvested.store
        for key in ("kakade", "morwani"):  # a decision of each, for the cycle to read
            sql = "SELECT min(arxiv_id) FROM membership WHERE author_key = :k"
            (arxiv_id,) = rows(self.store, sql, k=key)[0]
            self.execute(
                "INSERT INTO review_decision (author_key, arxiv_id, decision, decided_at)"
                " VALUES (:k, :i, 'accepted', :t)",
                k=key,
                i=arxiv_id,
                t=harvested.rows("SELECT max(since) FROM membership")[0][0],
            )
            # a change a harvest noted: the next refresh reads the stored vectors and lists
            self.execute("INSERT INTO derived_change (arxiv_id) VALUES (:i)", i=arxiv_id)
        assert harvest_cycle(self.store, harvested.settings, derive=True).exit_code == 0
        for key in ("kakade", "morwani"):
            self.execute("INSERT INTO derived_change (arxiv_id) VALUES (:i)", i=self.first(key))
        self.lists = rows(self.store, LISTS)
        with self.store.engine.connect() as conn:
            self.saved = {
                table: [r._asdict() for r in conn.execute(select(table))] for table in TABLES
            }

    def first(self, key: str) -> str:
        sql = "SELECT min(arxiv_id) FROM membership WHERE author_key = :k"
        return str(rows(self.store, sql, k=key)[0][0])

    def execute(self, sql: str, **params: Any) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(text(sql), params)

    def restore(self) -> None:
        with self.store.engine.begin() as conn:
            for table in TABLES:
                conn.execute(delete(table))
                if self.saved[table]:
                    conn.execute(insert(table), self.saved[table])

    def tamper(self, table: str, column: str, value: Any) -> bool:
        """Write ``value`` into ``column`` of every row; False if the database refuses."""
        try:
            self.execute(f"UPDATE {table} SET {column} = :v", v=value)
        except SQLAlchemyError:
            return False
        return True


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def damaged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Damaged]:
    with harvested_database(request.param, tmp_path_factory.mktemp("db")) as h:
        yield Damaged(h)


def answers_or_one_line(read: Any) -> None:
    """A read command's outcome: strict JSON, or one line and exit 74."""
    try:
        document = read()
    except HarvesterError as exc:
        assert exc.exit_code == exits.DATABASE, exc
        assert "\n" not in str(exc)
        event(f"read: one line, exit {exc.exit_code}")
        return
    json.loads(document, parse_constant=_refuse)  # strict: NaN and Infinity are no JSON


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} in JSON output")


@pytest.mark.parametrize(("table", "column"), COLUMNS)
@EXAMPLES
@given(value=HOSTILE)
def test_hostile_values_are_recomputed_or_one_line_and_the_harvest_stands(
    damaged: Damaged, table: str, column: str, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    damaged.restore()
    if not damaged.tamper(table, column, value):
        event("refused by the database")
        return
    store = damaged.store
    for key in ("kakade", "morwani"):
        answers_or_one_line(lambda key=key: render(_profile(store, key), "json"))
        answers_or_one_line(
            lambda key=key: queue_json(key, review_queue(store, key), waiting(store, key))
        )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="harvester"):
        report = harvest_cycle(store, damaged.h.settings, derive=True)
    assert report.exit_code == 0, report
    assert all(a.status == "ok" for a in report.authors), report
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert rows(store, LISTS) == damaged.lists
    assert rows(store, "SELECT count(*) FROM derived_change") == [(0,)]


def _profile(store: Store, key: str) -> Any:
    with store.profiles() as reader:
        return reader.profile(key)


# -- as real processes: exit codes and signals -----------------------------------------------

TAMPERED = (
    "UPDATE similar_profile SET topic_terms = :far",  # a term number past the end: SIGSEGV
    "UPDATE similar_profile SET coauthors = 'no tab'",  # exit 70
    "UPDATE similar_model SET fitted_at = 'not a date'",  # exit 74, every cycle after
    "UPDATE review_decision SET decision = 'maybe'",  # exit 70, the run failed
)


def test_hostile_rows_never_end_a_process_with_a_signal_a_traceback_or_exit_70(
    damaged: Damaged, tmp_path: Path
) -> None:
    """``harvest refresh`` (exit 139 once) and ``harvest --once`` (exit 70 once) on a
    database with each of those rows, the site's state file a FIFO (it hung both)."""
    if damaged.store.engine.dialect.name != "sqlite":
        pytest.skip("the processes' side is the same on both databases; the values are SQLite's")
    h = damaged.h
    site = tmp_path / "site"
    site.mkdir()
    state = site / ".site-state.json"
    config = write_config(
        tmp_path, h.url, h.server.url, authors=AUTHORS, output={"html_dir": str(site)}
    )
    far = np.array([2**31 - 1], dtype=np.int32).tobytes()
    for command in (("refresh",), ("--once",)):
        damaged.restore()
        state.unlink(missing_ok=True)
        os.mkfifo(state)
        for sql in TAMPERED:
            damaged.execute(sql, far=far) if ":far" in sql else damaged.execute(sql)
        result = run_cli("--config", str(config), *command, timeout=60)
        assert result.returncode == 0, (command, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        said = result.stderr.splitlines()
        assert any("recomputing the similar authors from the papers" in line for line in said)
        assert any(".site-state.json cannot be read" in line for line in said), said
        assert rows(damaged.store, LISTS) == damaged.lists, command
    assert (site / "kakade.html").is_file()
    assert state.is_file()  # the FIFO replaced by the state written
