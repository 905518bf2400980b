"""The boundaries the code keeps: SQL only in the store, vendors only at their boundary,
the error tree as documented, and SQLite readers that never hold writers up."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import harvester.errors as errors
from harvester.store import RunTotals, Store
from harvester.vocabulary import RunStatus

from .support import REPO

PACKAGE = REPO / "harvester"
SQL_KEYWORD = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|LOCK|CREATE|DROP|PRAGMA|BEGIN)\b")
SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}


def modules(root: Path = PACKAGE) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def sql_outside_the_store(path: Path, tree: ast.Module) -> list[str]:
    """SQLAlchemy statement builders called, and string constants that read as SQL."""
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in imported & SQL_BUILDERS:
                found.append(f"{path.name}:{node.lineno} {node.func.id}()")
        elif isinstance(node, ast.Constant) and SQL_KEYWORD.match(str(node.value)):
            found.append(f"{path.name}:{node.lineno} {str(node.value)[:40]!r}")
    return found


def test_no_sql_outside_the_store_and_the_migrations() -> None:
    allowed = (PACKAGE / "store", PACKAGE / "migrations")
    found = [
        hit
        for path, tree in modules()
        if not path.is_relative_to(allowed[0]) and not path.is_relative_to(allowed[1])
        for hit in sql_outside_the_store(path, tree)
    ]
    assert found == []


def test_the_checker_sees_sql_where_there_is_some() -> None:
    """The check above would fail on the store itself (it is not vacuous)."""
    hits = [h for p, t in modules(PACKAGE / "store") for h in sql_outside_the_store(p, t)]
    assert any("select()" in h for h in hits) and any("'SELECT" in h for h in hits)


def test_only_the_source_package_imports_the_vendor_clients() -> None:
    offenders = []
    for path, tree in modules():
        if path.is_relative_to(PACKAGE / "source"):
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("arxiv", "requests")
            ]
    assert offenders == []


def documented_tree() -> list[tuple[int, str]]:
    """``(depth, class name)`` for each line of the tree drawn in the module docstring."""
    doc = errors.__doc__ or ""
    found = []
    for line in doc.splitlines():
        match = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)\s", line)
        if match:
            found.append((len(match.group(1)) // 4 + (1 if "──" in line else 0), match.group(2)))
    return found


def actual_tree() -> list[tuple[int, str]]:
    def walk(cls: type, depth: int) -> Iterator[tuple[int, str]]:
        yield depth, cls.__name__
        children = [c for c in cls.__subclasses__() if c.__module__ == errors.__name__]
        for child in sorted(children, key=documented_order):
            yield from walk(child, depth + 1)

    return list(walk(errors.HarvesterError, 0))


def documented_order(cls: type) -> int:
    names = [name for _, name in documented_tree()]
    return names.index(cls.__name__) if cls.__name__ in names else len(names)


def test_the_error_tree_in_the_docstring_is_the_class_tree() -> None:
    assert documented_tree() == actual_tree()
    public = {name for _, name in actual_tree()}
    assert public == set(errors.__all__)


def test_a_sqlite_reader_never_holds_a_writer_up(tmp_path: Path) -> None:
    """Another process holds a read transaction open for seconds; a write here goes
    through at once (in WAL mode readers and the writer do not wait for each other)."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = Store.open(url)
    store.upgrade()
    store.sync_authors([("kakade", "Sham Kakade")])
    command = [sys.executable, "-c", READER, url]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as reader:
        try:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == "reading"
            began = time.monotonic()
            now = datetime.now(UTC)
            store.finish_run(store.start_run("kakade", now), now, RunTotals(RunStatus.OK))
            waited = time.monotonic() - began
            assert reader.wait(30) == 0
        finally:
            reader.kill()
            store.close()
    assert waited < HOLD_SECONDS / 2, f"the write waited {waited:.2f} s for the reader"


HOLD_SECONDS = 4.0
READER = f"""
import sys, time
from harvester.store.engine import create_db_engine, reading
from harvester.store.profiles import ProfileReader
engine = create_db_engine(sys.argv[1])
with reading(engine) as conn, conn.begin():
    ProfileReader(conn).known_keys()
    print("reading", flush=True)
    time.sleep({HOLD_SECONDS})
"""


def test_the_look_alike_ships_beside_the_product_not_inside_it() -> None:
    """``arxiv_lookalike`` is installed (the demo and the tests use it) but is no part of
    the product package, its import tree or its error tree."""
    from arxiv_lookalike import CorpusError

    assert not (PACKAGE / "lookalike").exists()
    assert not issubclass(CorpusError, errors.HarvesterError)
    probe = (
        "import sys, harvester.cli, harvester.sync, harvester.harvest, harvester.daemon\n"
        "print(sorted(m for m in sys.modules if m.startswith('arxiv_lookalike')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "[]", result.stderr


VENDOR_PRIVATES = {"_feed", "_format_url", "_build_result", "_url_args", "_parse_datetime"}
"""Private names of the ``arxiv`` package that code here once reached for."""


def vendor_private_uses(path: Path, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "arxiv":
            names = [(node.module or "")] + [alias.name for alias in node.names]
            if any(part.startswith("_") for n in names for part in n.split(".")):
                found.append(f"{path.name}:{node.lineno} from {node.module} import ...")
        elif isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id == "arxiv" and node.attr.startswith("_"):
                found.append(f"{path.name}:{node.lineno} arxiv.{node.attr}")
            elif node.attr in VENDOR_PRIVATES:
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


def test_the_arxiv_package_is_used_through_its_public_names_only() -> None:
    roots = (PACKAGE, REPO / "tests", REPO / "scripts", REPO / "arxiv_lookalike")
    found = [
        hit
        for root in roots
        for path, tree in modules(root)
        if path.name != "test_architecture.py"
        for hit in vendor_private_uses(path, tree)
    ]
    assert found == []
