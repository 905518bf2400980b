"""Loading: :func:`locate_config` finds the file (``--config PATH``, else ``$HARVESTER_CONFIG``,
else ``./config/harvester.toml``); :func:`load_settings` reads and validates it into a frozen
:class:`~harvester.config.Settings` that everything else receives as an argument. Every problem
is a :class:`~harvester.errors.ConfigError` naming the file, the dotted key
(``arxiv.delay_seconds``, ``authors[0].name``: author tables count from 0) and the problem, on
one line.

Environment overrides (:data:`ENV_OVERRIDES`), validated like the file's values and named
``env VARIABLE`` in errors; a variable set to the empty string counts as unset.

``[schedule]``: ``interval_seconds``, when set, replaces ``cron``; the jitter must leave a gap
between runs.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .checks import Check, Invalid, got
from .model import (
    ArxivSettings,
    AuthorSettings,
    DatabaseSettings,
    HarvestSettings,
    LoggingSettings,
    OaiSettings,
    OrcidSettings,
    OutputSettings,
    ScheduleSettings,
    Settings,
    checks_of,
)
from .targets import CHECKS as NOTIFY_KEYS
from .targets import resolve_targets

CONFIG_ENV = "HARVESTER_CONFIG"
DEFAULT_CONFIG = Path("config") / "harvester.toml"
#: environment variable -> (section, key) it overrides
ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    "HARVESTER_DATABASE_URL": ("database", "url"),
    "HARVESTER_ARXIV_API_URL": ("arxiv", "api_url"),
}


def locate_config(cli_path: str | None, environ: Mapping[str, str], cwd: Path) -> Path:
    chosen = cli_path or environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return cwd / Path(chosen).expanduser()


def load_settings(path: Path, environ: Mapping[str, str] = os.environ) -> Settings:
    return parse_settings(_read_toml(path), path, environ)


def parse_settings(
    data: Mapping[str, Any], path: Path, environ: Mapping[str, str] = os.environ
) -> Settings:
    """Validate ``data`` as :func:`tomllib.load` returns it; ``path`` is only named in errors."""
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(path, key, _unknown(key, _TOP_KEYS))
    return Settings(
        path=path,
        database=DatabaseSettings(**_section(data, "database", path, environ)),
        arxiv=ArxivSettings(**_section(data, "arxiv", path, environ)),
        authors=_authors(data, path),
        logging=LoggingSettings(**_section(data, "logging", path, environ)),
        schedule=_schedule(_section(data, "schedule", path, environ), path),
        output=OutputSettings(**_section(data, "output", path, environ)),
        harvest=HarvestSettings(**_section(data, "harvest", path, environ)),
        notify=_notify(data, path, environ),
        orcid=OrcidSettings(**_section(data, "orcid", path, environ)),
        oai=OaiSettings(**_section(data, "oai", path, environ)),
    )


MAX_CONFIG_BYTES = 1_000_000
"""A configuration file is a regular file of at most this size."""


def _read_toml(path: Path) -> dict[str, Any]:
    _check_file(path)
    try:
        with _file_errors(path), path.open("rb") as file:
            text = file.read(MAX_CONFIG_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, "invalid TOML: " + " ".join(str(exc).split())) from exc
    except RecursionError as exc:
        raise ConfigError(path, None, "invalid TOML: arrays or tables nested too deep") from exc
    except ValueError as exc:  # an integer literal longer than Python converts
        raise ConfigError(path, None, "invalid TOML: " + " ".join(str(exc).split())[:120]) from exc


@contextmanager
def _file_errors(path: Path) -> Iterator[None]:
    """An operating system error on the config file as a :class:`ConfigError`."""
    try:
        yield
    except FileNotFoundError as exc:
        raise ConfigError(
            path, None, f"file not found; pass --config PATH or set {CONFIG_ENV}"
        ) from exc
    except PermissionError as exc:
        raise ConfigError(path, None, "cannot read the file: permission denied") from exc
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read the file: {exc.strerror or exc}") from exc


def _check_file(path: Path) -> None:
    """A regular file (not a device, a FIFO or a directory) of at most 1 MB."""
    with _file_errors(path):
        info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(path, None, "not a regular file (a device, a FIFO or a directory?)")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(path, None, f"{info.st_size} bytes; a configuration file is at most 1 MB")


_SECTIONS: dict[str, type] = {
    "database": DatabaseSettings,
    "arxiv": ArxivSettings,
    "harvest": HarvestSettings,
    "oai": OaiSettings,
    "logging": LoggingSettings,
    "orcid": OrcidSettings,
    "output": OutputSettings,
    "schedule": ScheduleSettings,
}
"""Each ``[section]`` of the file and its settings class (whose fields say the rest)."""
_AUTHOR_KEYS = checks_of(AuthorSettings)
_TOP_KEYS = (*_SECTIONS, "authors", "notify")


def _unknown(key: str, known: Iterable[str]) -> str:
    known = list(known)
    if close := difflib.get_close_matches(key, known, n=1):
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys: {', '.join(known)}"


def _checked(path: Path, key: str, check: Check, value: object) -> Any:
    try:
        return check(value)
    except Invalid as exc:
        raise ConfigError(path, key + exc.suffix, exc.problem) from None


def _table(path: Path, where: str, table: object, checks: Mapping[str, Check]) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(path, where, f"expected a table, got {got(table)}")
    for key in table:
        if key not in checks:
            raise ConfigError(path, f"{where}.{key}", _unknown(key, checks))
    return {key: _checked(path, f"{where}.{key}", checks[key], table[key]) for key in table}


def _section(
    data: Mapping[str, Any], name: str, path: Path, environ: Mapping[str, str]
) -> dict[str, Any]:
    checks = checks_of(_SECTIONS[name])
    values = _table(path, name, data.get(name, {}), checks)
    for variable, (section, key) in ENV_OVERRIDES.items():
        if section == name and environ.get(variable):
            values[key] = _checked(path, f"env {variable}", checks[key], environ[variable])
    return values


def _schedule(values: dict[str, Any], path: Path) -> ScheduleSettings:
    """``interval_seconds`` replaces ``cron``; the jitter must leave a gap between runs."""
    schedule = ScheduleSettings(**values)
    interval = schedule.interval(datetime.now(UTC))
    if timedelta(seconds=schedule.jitter_seconds) >= interval:
        raise ConfigError(
            path,
            "schedule.jitter_seconds",
            f"must be shorter than the time between runs ({interval.total_seconds():g} s),"
            f" got {schedule.jitter_seconds:g}",
        )
    return schedule


def _authors(data: Mapping[str, Any], path: Path) -> tuple[AuthorSettings, ...]:
    tables = data.get("authors", [])
    if not isinstance(tables, list | tuple):
        raise ConfigError(
            path, "authors", f"expected an array of [[authors]] tables, got {got(tables)}"
        )
    if not tables:
        raise ConfigError(path, "authors", "no authors configured; add an [[authors]] table")
    authors: dict[str, AuthorSettings] = {}
    for index, table in enumerate(tables):
        where = f"authors[{index}]"
        author = AuthorSettings(**_author(path, where, table))
        if author.key in authors:
            raise ConfigError(path, f"{where}.key", f"duplicate author key {author.key!r}")
        authors[author.key] = author
    return tuple(authors.values())


def _author(path: Path, where: str, table: object) -> dict[str, Any]:
    values = _table(path, where, table, _AUTHOR_KEYS)
    for key in ("key", "name"):
        if key not in values:
            raise ConfigError(path, f"{where}.{key}", "required key is missing")
    both = set(values.get("include_ids", ())) & set(values.get("exclude_ids", ()))
    if both:
        raise ConfigError(path, f"{where}.exclude_ids", f"{min(both)!r} is also in include_ids")
    return values


def _notify(data: Mapping[str, Any], path: Path, environ: Mapping[str, str]) -> tuple[Any, ...]:
    """The ``[[notify]]`` targets (:mod:`.targets`)."""
    tables = data.get("notify", [])
    if not isinstance(tables, list | tuple):
        raise ConfigError(
            path, "notify", f"expected an array of [[notify]] tables, got {got(tables)}"
        )
    checked = [_table(path, f"notify[{i}]", t, NOTIFY_KEYS) for i, t in enumerate(tables)]
    authors = {str(a.get("key")) for a in data.get("authors", []) if isinstance(a, Mapping)}
    wrote_url = any("url" in t for t in checked)
    return resolve_targets(checked, path, environ, authors, wrote_url=wrote_url)
