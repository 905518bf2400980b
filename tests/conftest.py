"""Shared fixtures: real databases (SQLite file and PostgreSQL), the arXiv look-alike.

Helpers a test calls by hand are in ``tests/support.py``.

Database tests run twice, on SQLite and on PostgreSQL. Each PostgreSQL test gets
its own schema (via ``search_path``), dropped afterwards. With ``CI=true`` an
unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from harvester.lookalike import Corpus, LookalikeServer, seed_corpus
from harvester.store import Store

PG_ADMIN_URL = os.environ.get(
    "HARVESTER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


_PG_PROBLEM = _pg_available()


@contextmanager
def database_url(dialect: str, directory: Path, filename: str = "harvester.db") -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema dropped after."""
    if dialect == "sqlite":
        yield f"sqlite:///{directory / filename}"
        return
    if _PG_PROBLEM is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable in CI: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unreachable: {_PG_PROBLEM}")
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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs twice: on a SQLite file and on a PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def corpus() -> Corpus:
    """A private copy of the seed corpus (76 papers + namesakes + unrelated)."""
    return Corpus.from_dicts(seed_corpus().to_dicts())


@pytest.fixture
def server(corpus: Corpus) -> Iterator[LookalikeServer]:
    with LookalikeServer(corpus) as srv:
        yield srv


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.upgrade()
    yield s
    s.close()
