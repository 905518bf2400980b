"""The boundaries the code keeps, each with a probe that breaks it (a check that cannot
fail is no check): dependencies declared, SQL only in the store, vendors only at their
boundary and through their public names, the look-alike outside the product, imports
pointing down the layers; the error tree as documented; SQLite readers that never hold
writers up. The checkers are in :mod:`tests.architecture`."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import harvester.errors as errors
from harvester.store import RunTotals, Store
from harvester.vocabulary import RunStatus

from .architecture import (
    LAYERS,
    Source,
    data_access_outside_the_store,
    declared_dependencies,
    defined_names,
    imports_of,
    layer_of,
    private_uses,
    probe,
    product,
    sources,
    sql_text,
    undeclared_imports,
    unit,
    upward_imports,
    within,
)
from .support import REPO

PACKAGE = REPO / "harvester"


def harvester_modules() -> list[Source]:
    return [s for s in product() if within(s, "harvester")]


# -- every third-party import is a declared dependency --------------------------------------


def test_every_third_party_import_of_the_product_is_declared() -> None:
    assert undeclared_imports(product(), declared_dependencies()) == []


def test_an_undeclared_import_is_caught() -> None:
    declared = declared_dependencies()
    assert {"numpy", "scipy", "scikit-learn", "sqlalchemy", "apscheduler"} <= declared
    probes = [
        probe("harvester.probe", "import numpy\nimport yaml\n"),
        probe("harvester.probe", "def f():\n    from sklearn import svm\n"),
    ]
    assert undeclared_imports(probes, declared) == ["harvester.probe:2 yaml"]
    assert undeclared_imports(probes, declared - {"scikit-learn"}) == [
        "harvester.probe:2 yaml",
        "harvester.probe:2 sklearn",
    ]


# -- SQL only in the store ------------------------------------------------------------------


def outside_the_store(modules: list[Source]) -> list[Source]:
    return [s for s in modules if not within(s, "harvester.store", "harvester.migrations")]


def test_no_sql_outside_the_store_and_the_migrations() -> None:
    assert sql_text(outside_the_store(harvester_modules())) == []


@pytest.mark.parametrize(
    "text",
    [
        "import sqlalchemy as sa\nq = sa.select(papers)\n",
        "from sqlalchemy import text as t\nq = t(query)\n",
        "from sqlalchemy import sql\nq = sql.expression.update(papers)\n",
        "import os\nQUERY = 'select id\\n  from papers where 1'\n",
        "def f(conn):\n    conn.exec_driver_sql(statement)\n",
    ],
)
def test_sql_is_seen_under_an_alias_in_lower_case_and_through_the_driver(text: str) -> None:
    (hit,) = sql_text([probe("harvester.probe", text)])
    assert hit.startswith("harvester.probe:2 ")


def test_the_checker_sees_sql_where_there_is_some() -> None:
    """The check above would fail on the store itself."""
    hits = sql_text(s for s in harvester_modules() if within(s, "harvester.store"))
    assert any("select()" in h for h in hits) and any("'SELECT" in h for h in hits)
    assert any("exec_driver_sql" in h for h in hits)


# -- apprise only in harvester/alerts/service ----------------------------------------------


def test_only_the_alerts_service_imports_apprise() -> None:
    outside = [s for s in harvester_modules() if s.module != "harvester.alerts.service"]
    assert imports_of(outside, {"apprise"}) == []
    assert imports_of([probe("harvester.cycle.x", "import apprise\n")], {"apprise"}) != []


# -- arxiv and requests only in harvester/source --------------------------------------------

VENDORS = {"arxiv", "requests"}


def test_only_the_source_package_imports_the_vendor_clients() -> None:
    outside = [s for s in harvester_modules() if not within(s, "harvester.source")]
    assert imports_of(outside, VENDORS) == []
    inside = [s for s in harvester_modules() if within(s, "harvester.source")]
    assert len(imports_of(inside, VENDORS)) >= 2


@pytest.mark.parametrize(
    "text",
    [
        "def f():\n    import requests.adapters\n",
        "import importlib\nclient = importlib.import_module('arxiv')\n",
        "from importlib import import_module\nclient = import_module('requests')\n",
        "import os\narxiv = __import__('arxiv')\n",
    ],
)
def test_a_vendor_import_is_seen_however_it_is_written(text: str) -> None:
    (hit,) = imports_of([probe("harvester.cycle.query", text)], VENDORS)
    assert hit.startswith("harvester.cycle.query:2 ")


# -- no vendor's private names --------------------------------------------------------------


def test_no_private_name_of_another_package_is_used() -> None:
    modules = product()
    assert private_uses(modules, defined_names(modules)) == []


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("def f(response, body):\n    response._content = body\n", "sets ._content"),
        ("def f(response):\n    return response.raw._fp\n", "reads ._fp"),
        ("import requests as r\ns = r.Session()._private_thing\n", "reads ._private_thing"),
    ],
)
def test_a_private_name_read_or_written_is_caught(text: str, hit: str) -> None:
    modules = [*product(), probe("harvester.source.probe", text)]
    assert private_uses(modules, defined_names(modules)) == [f"harvester.source.probe:2 {hit}"]


def test_our_own_private_names_and_the_standard_librarys_pass() -> None:
    text = "import os\nclass A:\n    def f(self, other):\n        self._x = 1\n"
    text += "        os._exit(other._x)\n"
    modules = [probe("harvester.probe", text)]
    assert private_uses(modules, defined_names(modules)) == []


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
    """Another process holds a read transaction open until told to let go; a write here
    goes through meanwhile (in WAL mode readers and the writer do not wait for each other;
    without WAL the write would wait out the busy timeout and fail)."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = Store.open(url)
    store.upgrade()
    store.sync_authors([("kakade", "Sham Kakade")])
    command = [sys.executable, "-c", READER, url]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as reader:
        try:
            assert reader.stdin is not None and reader.stdout is not None
            assert reader.stdout.readline().strip() == "reading"
            began = time.monotonic()
            now = datetime.now(UTC)
            store.finish_run(store.start_run("kakade", now), now, RunTotals(RunStatus.OK))
            waited = time.monotonic() - began
            reader.stdin.write("done\n")
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == "still reading at the end"
            assert reader.wait(30) == 0
        finally:
            reader.kill()
            store.close()
    assert waited < 2.0, f"the write waited {waited:.2f} s for the reader"


READER = """
import sys
from harvester.store.engine import create_db_engine, reading
from harvester.store.profiles import ProfileReader
engine = create_db_engine(sys.argv[1])
with reading(engine) as conn, conn.begin():
    ProfileReader(conn).known_keys()
    print("reading", flush=True)
    sys.stdin.readline()
    ProfileReader(conn).known_keys()
    print("still reading at the end", flush=True)
"""
"""Holds one read transaction open from its first line until the test writes a line."""


# -- arxiv_lookalike beside the product, not inside it --------------------------------------


def test_the_look_alike_ships_beside_the_product_not_inside_it() -> None:
    """``arxiv_lookalike`` is installed (the demo and the tests use it) but is no part of
    the product package, its import tree or its error tree."""
    from arxiv_lookalike import CorpusError

    assert not (PACKAGE / "lookalike").exists()
    assert not issubclass(CorpusError, errors.HarvesterError)
    probe_text = (
        "import sys, harvester.cli, harvester.cycle, harvester.daemon\n"
        "print(sorted(m for m in sys.modules if m.startswith('arxiv_lookalike')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe_text], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_the_product_never_imports_the_look_alike() -> None:
    """``harvest demo`` runs it as a child process (``python -m arxiv_lookalike``)."""
    assert imports_of(harvester_modules(), {"arxiv_lookalike"}) == []


def test_an_import_of_the_look_alike_is_caught() -> None:
    text = "import os\ndef serve():\n    from arxiv_lookalike import LookalikeServer\n"
    assert imports_of([probe("harvester.cycle.query", text)], {"arxiv_lookalike"}) == [
        "harvester.cycle.query:3 arxiv_lookalike"
    ]


# -- layers ---------------------------------------------------------------------------------


def test_imports_point_down_the_layers() -> None:
    assert upward_imports(harvester_modules()) == []


def test_every_unit_is_in_one_layer_and_every_layer_names_real_units() -> None:
    units = {unit(s.module) for s in harvester_modules()} - {"harvester"}
    named = [name for layer in LAYERS for name in layer]
    assert sorted(named) == sorted(units)


@pytest.mark.parametrize(
    ("module", "text", "hit"),
    [
        ("harvester.records", "from .store import Store\n", "harvester.store"),
        ("harvester.store.papers", "def f():\n    from ..cycle import run_cycle\n",
         "harvester.cycle"),
        ("harvester.source.api", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
         "    from harvester.profile import Profile\n", "harvester.profile"),
        ("harvester.config", "import importlib\nimportlib.import_module('harvester.cli')\n",
         "harvester.cli"),
    ],
)  # fmt: skip
def test_an_upward_import_is_caught(module: str, text: str, hit: str) -> None:
    (found,) = upward_imports([probe(module, text)])
    assert found.endswith(f" imports {hit} (a higher layer)")
    assert layer_of(unit(module)) is not None


def test_a_module_in_no_layer_is_caught() -> None:
    assert upward_imports([probe("harvester.newthing", "x = 1\n")]) == [
        "harvester.newthing: in no layer of LAYERS"
    ]


# -- one door to the data (the restructure's rule) ------------------------------------------


def test_nothing_outside_the_store_touches_sqlalchemy_or_the_engine() -> None:
    assert data_access_outside_the_store(harvester_modules()) == []


@pytest.mark.parametrize(
    "text",
    [
        "def f():\n    from sqlalchemy import Engine\n",
        "import os\nrows = store.engine.connect()\n",
        "import os\nfrom .store.leases import Leases\n",
        "import os\nimport sqlalchemy as sa\n",
    ],
)
def test_data_access_outside_the_store_is_caught(text: str) -> None:
    assert len(data_access_outside_the_store([probe("harvester.review", text)])) == 1
    assert data_access_outside_the_store([probe("harvester.store.probe", text)]) == []


# -- the arxiv package through its public names (tests and scripts too) ---------------------

VENDOR_PRIVATES = {"_feed", "_format_url", "_build_result", "_url_args", "_parse_datetime"}
"""Private names of the ``arxiv`` package that code here once reached for."""


def vendor_private_uses(source: Source) -> list[str]:
    found = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "arxiv":
            names = [(node.module or "")] + [alias.name for alias in node.names]
            if any(part.startswith("_") for n in names for part in n.split(".")):
                found.append(f"{source.module}:{node.lineno} from {node.module} import ...")
        elif isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id == "arxiv" and node.attr.startswith("_"):
                found.append(f"{source.module}:{node.lineno} arxiv.{node.attr}")
            elif node.attr in VENDOR_PRIVATES:
                found.append(f"{source.module}:{node.lineno} .{node.attr}")
    return found


def test_the_arxiv_package_is_used_through_its_public_names_only() -> None:
    roots = ("harvester", "tests", "scripts", "arxiv_lookalike")
    found = [
        hit
        for root in roots
        for source in sources(REPO / root)
        if source.module != "tests.test_architecture"
        for hit in vendor_private_uses(source)
    ]
    assert found == []
    assert vendor_private_uses(probe("tests.probe", "from arxiv._feed import x\n"))
