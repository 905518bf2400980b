"""The checkers of ``tests/test_architecture.py``: each takes parsed sources and returns its
violations as ``"module:line what"`` lines, so a test can run it on the real tree (expecting
none) and on a probe written to break it (expecting exactly one).

Imports are read statically, wherever they stand: at the top, inside a function or under
``if TYPE_CHECKING:`` (a type-only import still ties one module to another's names), and
through ``importlib.import_module("...")`` or ``__import__("...")`` with a literal name.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

from .support import REPO

PACKAGE = REPO / "harvester"
PRODUCT = ("harvester", "arxiv_lookalike")
"""The first-party packages that ship (``pyproject.toml`` installs both)."""


@dataclass(frozen=True)
class Source:
    """One module: its dotted name and its syntax tree."""

    module: str
    tree: ast.Module
    is_package: bool = False

    @property
    def package(self) -> str:
        return self.module if self.is_package else self.module.rpartition(".")[0]


def probe(module: str, text: str) -> Source:
    """A module that is not on disk, at ``module``, for a positive control."""
    return Source(module, ast.parse(text))


@cache
def sources(root: Path = PACKAGE) -> list[Source]:
    """Every module under ``root`` (a package directory of the repository), parsed once."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        found.append(Source(module, ast.parse(path.read_text(encoding="utf-8")), is_package))
    return found


def product() -> list[Source]:
    return [s for name in PRODUCT for s in sources(REPO / name)]


def within(source: Source, *packages: str) -> bool:
    return any(source.module == p or source.module.startswith(p + ".") for p in packages)


# -- imports --------------------------------------------------------------------------------


def imports(source: Source) -> Iterator[tuple[int, str]]:
    """``(line, absolute dotted name)`` of every module ``source`` imports."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(source, node)
            yield node.lineno, base
            if node.module is None:  # from . import x: x may be a module
                yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and _call_name(node.func) in DYNAMIC_IMPORTS:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value


DYNAMIC_IMPORTS = {"import_module", "importlib.import_module", "__import__"}


def _absolute(source: Source, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = source.package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _call_name(func: ast.expr) -> str:
    """``a.b.c`` for a call of a dotted name, "" for anything else."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        inner = _call_name(func.value)
        return f"{inner}.{func.attr}" if inner else ""
    return ""


def _root(name: str) -> str:
    return name.split(".")[0]


def imports_of(sources: Iterable[Source], roots: set[str]) -> list[str]:
    """Where ``sources`` import any module under ``roots`` (top-level names)."""
    return [f"{s.module}:{line} {name}" for s in sources for line, name in imports(s)
            if _root(name) in roots]  # fmt: skip


# -- declared dependencies ------------------------------------------------------------------

IMPORT_TO_DISTRIBUTION = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow"}
"""Import names whose distribution is named otherwise, for packages that are not installed
(for installed ones the installed metadata answers)."""


def normalised(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies(pyproject: Path = REPO / "pyproject.toml") -> set[str]:
    """The distributions ``[project.dependencies]`` names (what a plain install gets)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {normalised(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0])
            for spec in project["dependencies"]}  # fmt: skip


@cache
def _installed() -> dict[str, list[str]]:
    return packages_distributions()


def distributions_of(top_level: str) -> set[str]:
    installed = _installed().get(top_level, [])
    fallback = IMPORT_TO_DISTRIBUTION.get(top_level, top_level)
    return {normalised(name) for name in [*installed, fallback]}


def undeclared_imports(sources: Iterable[Source], declared: set[str]) -> list[str]:
    """Third-party imports whose distribution ``declared`` does not name."""
    return [
        f"{s.module}:{line} {name}"
        for s in sources
        for line, name in imports(s)
        if name
        and _root(name) not in sys.stdlib_module_names
        and _root(name) not in PRODUCT
        and not distributions_of(_root(name)) & declared
    ]


# -- SQL ------------------------------------------------------------------------------------

SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "table", "column"}
SQL_TEXT = re.compile(
    r"^\s*(select\s.*\sfrom\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s"
    r"|with\s+(recursive\s+)?\w+(\s*\([^)]*\))?\s+as\s*\(|(create|drop|alter)\s+(temp\w*\s+)?"
    r"(table|index|unique\s+index|view|trigger|schema)\s|pragma\s+\w|lock\s+table\s"
    r"|begin(\s+immediate)?\s*;?\s*$)",
    re.IGNORECASE | re.DOTALL,
)
"""The opening of a SQL statement, in any case (``"select id from papers"`` too)."""


def sql_text(sources: Iterable[Source]) -> list[str]:
    """SQLAlchemy statement builders called (under any alias), ``exec_driver_sql``, and
    string constants other than docstrings that read as SQL."""
    return [f"{s.module}:{line} {what}" for s in sources for line, what in _sql_in(s)]


def _sql_in(source: Source) -> Iterator[tuple[int, str]]:
    modules, builders = _sqlalchemy_names(source.tree)
    docstrings = _docstrings(source.tree)
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            head, _, last = name.rpartition(".")
            if name in builders or (last in SQL_BUILDERS and _root(head) in modules):
                yield node.lineno, f"{name}()"
        elif isinstance(node, ast.Attribute) and node.attr == "exec_driver_sql":
            yield node.lineno, "exec_driver_sql"
        elif _is_sql(node) and id(node) not in docstrings:
            yield node.lineno, repr(str(node.value)[:40])


def _is_sql(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and bool(SQL_TEXT.match(str(node.value)))


def _sqlalchemy_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to sqlalchemy modules, and names bound to its statement builders."""
    modules: set[str] = set()
    builders: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _root(alias.name) == "sqlalchemy":
                    modules.add(alias.asname or "sqlalchemy")
        elif isinstance(node, ast.ImportFrom) and _root(node.module or "") == "sqlalchemy":
            for alias in node.names:
                if alias.name in SQL_BUILDERS:
                    builders.add(alias.asname or alias.name)
                else:  # from sqlalchemy import sql: sql.select(...)
                    modules.add(alias.asname or alias.name)
    return modules, builders


def _docstrings(tree: ast.Module) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr)
    }


# -- private names --------------------------------------------------------------------------


def private_uses(sources: Iterable[Source], ours: set[str]) -> list[str]:
    """``x._name`` read where no code of ours defines ``_name`` (so it is a vendor's), and
    ``x._name = ...`` on anything but ``self`` or ``cls``. Underscore names of standard
    library modules are documented API (``os._exit``) and pass."""
    found = []
    for s in sources:
        stdlib = _stdlib_aliases(s.tree)
        for node in ast.walk(s.tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            base = node.value.id if isinstance(node.value, ast.Name) else ""
            if isinstance(node.ctx, ast.Store) and base not in ("self", "cls"):
                found.append(f"{s.module}:{node.lineno} sets .{node.attr}")
            elif node.attr not in ours and base not in stdlib:
                found.append(f"{s.module}:{node.lineno} reads .{node.attr}")
    return found


def defined_names(sources: Iterable[Source]) -> set[str]:
    """Every name our code defines: functions, classes, variables, arguments, fields and
    attributes set on ``self`` or ``cls``."""
    names: set[str] = set()
    for s in sources:
        for node in ast.walk(s.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Attribute) and _on_self(node, ast.Store):
                names.add(node.attr)
    return names


def _on_self(node: ast.Attribute, ctx: type[ast.expr_context]) -> bool:
    on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
    return on_self and isinstance(node.ctx, ctx)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _stdlib_aliases(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if _root(alias.name) in sys.stdlib_module_names
    }


# -- layers ---------------------------------------------------------------------------------

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "vocabulary records exits errors logformat notify names",  # words, records, errors
        "plans pacer normalise schedule topics",  # plain plans, pure helpers
        "config",
        "source",  # the arXiv boundary
        "batching changes identity",  # pure decisions
        "store",  # every SQL statement
        "migrations",
        "alerts",  # notifications: the outbox's messages, delivered through apprise
        "cycle profile",  # one cycle's harvest and decisions; the derived profiles
        "review status tracked who",  # what the commands show
        "daemon demo cli",  # entry points
    )
)
"""The units of ``harvester`` (a top-level module or a subpackage) from the bottom up, as
the imports stand: a unit may import its own layer and the layers below, never above."""


def unit(module: str) -> str:
    """``harvester.store.papers`` -> ``store``; the package itself is ``harvester``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_of(name: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if name in layer), None)


def upward_imports(sources: Iterable[Source]) -> list[str]:
    """Imports of a higher layer's module, and modules in no layer at all."""
    found = []
    for s in sources:
        if not within(s, "harvester") or s.module == "harvester":
            continue
        own = layer_of(unit(s.module))
        if own is None:
            found.append(f"{s.module}: in no layer of LAYERS")
            continue
        for line, name in imports(s):
            target = layer_of(unit(name)) if _root(name) == "harvester" else None
            if target is not None and target > own:
                found.append(f"{s.module}:{line} imports {name} (a higher layer)")
    return found


# -- one door to the data -------------------------------------------------------------------


def data_access_outside_the_store(sources: Iterable[Source]) -> list[str]:
    """Imports of ``sqlalchemy`` or of a store submodule (``harvester.store.leases``: the
    submodules are private, the face is ``harvester.store``) and uses of ``.engine`` (the
    store's engine) outside ``harvester.store`` and the migrations: one door to the data."""
    found = []
    for s in sources:
        if within(s, "harvester.store", "harvester.migrations"):
            continue
        found += [f"{s.module}:{line} {name}" for line, name in imports(s)
                  if _root(name) == "sqlalchemy"
                  or name.startswith("harvester.store.")]  # fmt: skip
        found += [f"{s.module}:{node.lineno} .engine" for node in ast.walk(s.tree)
                  if isinstance(node, ast.Attribute) and node.attr == "engine"]  # fmt: skip
    return found
