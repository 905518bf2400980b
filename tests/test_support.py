"""The test helpers' own promises: importing them touches no database, and a PostgreSQL
that cannot be reached skips a test on a laptop but fails it in CI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from .support import PG_ADMIN_URL, REPO, require_postgres

ASK = """
import pytest
import tests.support as support
try:
    support.require_postgres()
except BaseException as exc:
    print(type(exc).__name__, str(exc).split(":")[0])
else:
    print("reachable")
"""


def python(code: str, pg_url: str, ci: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["HARVESTER_TEST_PG_URL"] = pg_url
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-c", code]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_importing_the_helpers_connects_to_no_database() -> None:
    """A listening socket stands in for PostgreSQL: nobody knocks while the helpers load."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=2"
        assert python("import tests.support, tests.conftest", url, None) == ""
        server.settimeout(0.2)
        try:
            server.accept()[0].close()
            knocked = True
        except TimeoutError:
            knocked = False
    assert not knocked, "importing tests.support connected to PostgreSQL"


def unreachable_url() -> str:
    """A PostgreSQL URL on a port where nothing listens (one just freed)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=2"


def test_an_unreachable_postgres_skips_a_test_but_fails_it_in_ci() -> None:
    url = unreachable_url()
    assert python(ASK, url, None) == "Skipped PostgreSQL unreachable"
    assert python(ASK, url, "true") == "Failed PostgreSQL unreachable in CI"


def test_a_reachable_postgres_is_used() -> None:
    """The real server (the one the suite uses) answers: nothing is skipped or failed."""
    require_postgres()
    assert python(ASK, PG_ADMIN_URL, "true") == "reachable"
