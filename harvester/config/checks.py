"""The configuration: one TOML file plus environment overrides, validated once.

:func:`locate_config` finds the file (``--config PATH``, else ``$HARVESTER_CONFIG``, else
``./config/harvester.toml``); :func:`load_settings` reads and validates it into a frozen
:class:`Settings` that everything else receives as an argument. Every problem is a
:class:`~harvester.errors.ConfigError` naming the file, the dotted key (``arxiv.delay_seconds``,
``authors[0].name``: author tables count from 0) and the problem, on one line.

Environment overrides (:data:`ENV_OVERRIDES`), validated like the file's values and named
``env VARIABLE`` in errors; a variable set to the empty string counts as unset.

Decisions worth knowing:

- A relative SQLite path (``sqlite:///harvester.db``) is relative to the current working
  directory, as SQLAlchemy does it. A bare ``postgresql://`` URL is mapped to
  ``postgresql+psycopg://`` so that psycopg 3 is used.
- Author names and aliases are stripped, NFC-normalised and runs of spaces collapsed. They may
  hold letters of any script, combining marks, digits (rare, but real names have them), spaces and
  ``. - ' ,``. Everything else is refused, notably what the arXiv query language treats specially
  (``" ( ) : [ ] \\ *``, and ``_``, which ``au:`` reads as a space), as are the upper-case
  operator words ``AND``, ``OR`` and ``ANDNOT`` (arXiv treats only upper case as operators). See
  https://info.arxiv.org/help/api/user-manual.html#query_details.
- ``include_ids``/``exclude_ids`` take whatever :func:`~harvester.normalise.parse_arxiv_id`
  does (``2409.11321v2``, ``arXiv:hep-th/9901001``, an abs URL) and keep the canonical versionless
  id, old style without its subject class (``math.GT/0309136`` is ``math/0309136``).
- ``[schedule]``: ``interval_seconds``, when set, replaces ``cron``. A crontab line is read
  the way cron(8) reads it, in UTC (:mod:`harvester.schedule` explains the APScheduler traps).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from harvester import __version__
from harvester.errors import ConfigError
from harvester.normalise import InvalidIdentifierError, parse_arxiv_id
from harvester.schedule import (
    crontab_trigger,
    next_fire_time,
    nominal_interval,
    schedule_trigger,
)

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
YEAR = 366 * DAY

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ENV_OVERRIDES",
    "ArxivSettings",
    "AuthorSettings",
    "DatabaseSettings",
    "HarvestSettings",
    "LoggingSettings",
    "OutputSettings",
    "ScheduleSettings",
    "Settings",
    "build_query",
    "load_settings",
    "locate_config",
    "names_query",
    "parse_settings",
]

CONFIG_ENV = "HARVESTER_CONFIG"
DEFAULT_CONFIG = Path("config") / "harvester.toml"
#: environment variable -> (section, key) it overrides
ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    "HARVESTER_DATABASE_URL": ("database", "url"),
    "HARVESTER_ARXIV_API_URL": ("arxiv", "api_url"),
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_QUERY_CHARS = 1000
AUTHOR_ID = re.compile(r"[a-z]+(?:_[a-z]+)*_\d+", re.ASCII)
"""arXiv's public author identifiers (https://info.arxiv.org/help/author_identifiers.html)."""
ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", re.ASCII)
MAX_NAME_CHARS = 300
"""The longest author name a feed entry may carry (``normalise.FieldLimits.author_name``)."""


# -- checks: each takes a raw TOML value and returns the clean one or raises _Invalid ---------

_Check = Callable[[object], Any]


class _Invalid(Exception):
    """A value failed its check; the caller names the file and the key."""

    def __init__(self, problem: str, suffix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.suffix = suffix  # a position inside the value, e.g. "[2]" for an array item


def _got(value: object) -> str:
    toml = {"str": "string", "int": "integer", "bool": "boolean", "list": "array", "dict": "table"}
    return toml.get(type(value).__name__, type(value).__name__)


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_got(value)}")
    return value


def _integer(low: int, high: int) -> _Check:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"expected an integer, got {_got(value)}")
        if not low <= value <= high:
            raise _Invalid(f"must be between {low} and {high}, got {_number(value)}")
        return value

    return check


def _seconds(low: float, high: float) -> _Check:
    """A number of seconds from ``low`` to ``high`` (every one of them has a sane bound:
    an unbounded value that validates would fail later, at run time)."""

    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"expected a number of seconds (integer or float), got {_got(value)}")
        if not (math.isfinite(value) and low <= value <= high):
            raise _Invalid(f"must be from {low:g} to {high:g} seconds, got {_number(value)}")
        return float(value)

    return check


def _number(value: float) -> str:
    """A number as an error message shows it (a 5,000-digit integer would not print)."""
    if isinstance(value, int) and abs(value) >= 10**15:
        bits = abs(value).bit_length()
        digits = len(str(abs(value))) if bits < 14_000 else int(bits * math.log10(2)) + 1
        return f"an integer of about {digits} digits"
    return f"{value:g}" if isinstance(value, float) else str(value)


#: accepted SQLAlchemy driver names -> the one to use
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def _database_url(value: object) -> str:
    text = _string(value).strip()
    try:  # the messages are ours: SQLAlchemy's might quote a password
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise _Invalid("not a valid SQLAlchemy URL, e.g. sqlite:///harvester.db") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise _Invalid(f"unsupported database {url.drivername!r}: use sqlite or postgresql")
    if driver.startswith("sqlite") and (
        url.database in (None, "", ":memory:") or "memory" in str(url.query.get("mode", ""))
    ):
        raise _Invalid(
            "an in-memory SQLite database keeps nothing after the run;"
            " name a file, e.g. sqlite:///harvester.db"
        )
    if driver == url.drivername:
        return text
    return url.set(drivername=driver).render_as_string(hide_password=False)


def _http_url(value: object) -> str:
    text = _string(value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise _Invalid(f"not a valid URL ({exc}): {text!r}") from None
    if not text.isprintable() or " " in text:
        raise _Invalid(f"must not contain spaces or control characters, got {text!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(f"expected an http or https URL with a host, got {text!r}")
    if parts.query or parts.fragment:
        raise _Invalid(f"must not have a query string or fragment, got {text!r}")
    return text


def _matching(pattern: str, what: str) -> _Check:
    regex = re.compile(pattern, re.ASCII)

    def check(value: object) -> str:
        text = _string(value).strip()
        if not regex.fullmatch(text):
            raise _Invalid(f"expected {what}, got {text!r}")
        return text

    return check


def _log_level(value: object) -> str:
    level = _string(value).strip().upper()
    if level not in LOG_LEVELS:
        raise _Invalid(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def _cron(value: object) -> str:
    text = " ".join(_string(value).split())
    try:
        trigger = crontab_trigger(text)
    except ValueError as exc:
        raise _Invalid(f"{exc}; expected a crontab line in UTC like '30 1 * * *'") from None
    if next_fire_time(trigger, datetime.now(UTC)) is None:
        raise _Invalid(f"{text!r} never fires (no such date); expected a line like '30 1 * * *'")
    return text


def _directory(value: object) -> Path:
    """A directory path (``~`` expanded; relative to the working directory, like SQLite's)."""
    text = _string(value).strip()
    if not text:
        raise _Invalid("must not be empty")
    if not text.isprintable():
        raise _Invalid(f"must not contain control characters, got {text!r}")
    return Path(text).expanduser()


RESERVED_KEYS = frozenset({"index", "all"})
"""Keys the static site uses for its own files (``index.html``, ``all.atom``)."""


def _author_key(value: object) -> str:
    key: str = _matching(r"[a-z0-9_-]{1,64}", "1 to 64 of a-z, 0-9, '-', '_'")(value)
    if key in RESERVED_KEYS:
        raise _Invalid(f"{key!r} is reserved: the static site names its own files {key}.*")
    return key


_NAME_PUNCTUATION = frozenset(" .-',")
_OPERATOR = re.compile(r"\b(?:ANDNOT|AND|OR)\b")


def _allowed_in_name(char: str) -> bool:
    return char in _NAME_PUNCTUATION or char.isdecimal() or unicodedata.category(char)[0] in "LM"


def _name(value: object) -> str:
    name = re.sub(" {2,}", " ", unicodedata.normalize("NFC", _string(value).strip()))
    if not name:
        raise _Invalid("must not be empty")
    if len(name) > MAX_NAME_CHARS:
        raise _Invalid(f"must be at most {MAX_NAME_CHARS} characters, got {len(name)}")
    if bad := next((char for char in name if not _allowed_in_name(char)), None):
        raise _Invalid(
            f"character {bad!r} (U+{ord(bad):04X}) is not allowed in a name"
            " (allowed: letters, marks, digits, spaces and . - ' ,)"
        )
    if operator := _OPERATOR.search(name):
        raise _Invalid(f"the word {operator.group()!r} is an arXiv query operator")
    if not any(char.isalpha() for char in name):
        raise _Invalid(f"must contain a letter, got {name!r}")
    return name


def _query(value: object) -> str:
    query = " ".join(_string(value).split())
    if not query:
        raise _Invalid("must not be empty")
    if len(query) > MAX_QUERY_CHARS:
        raise _Invalid(f"must be at most {MAX_QUERY_CHARS} characters, got {len(query)}")
    return query


def _author_id(value: object) -> str:
    """arXiv's public author identifier: ``surname_i_n`` (``zhang_w_1``, ``del_maestro_a_1``)."""
    text = _string(value).strip()
    if not AUTHOR_ID.fullmatch(text):
        raise _Invalid(
            f"expected an arXiv author identifier like 'zhang_w_1' (lower-case letters,"
            f" underscores, ending in _NUMBER), got {text!r}"
        )
    return text


def _orcid(value: object) -> str:
    """An ORCID iD as ``0000-0002-1825-0097``, its ISO 7064 11,2 check digit verified
    (https://support.orcid.org/hc/en-us/articles/360006897674)."""
    text = _string(value).strip()
    text = text.removeprefix("https://orcid.org/").removeprefix("http://orcid.org/")
    if not ORCID.fullmatch(text):
        raise _Invalid(f"expected an ORCID iD like '0000-0002-1825-0097', got {text!r}")
    if orcid_check_digit(text[:-1].replace("-", "")) != text[-1]:
        raise _Invalid(f"{text!r} is not an ORCID iD: its check digit is wrong (a typo?)")
    return text


def orcid_check_digit(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an ORCID iD's first 15 digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def _arxiv_id(value: object) -> str:
    try:
        return parse_arxiv_id(_string(value))[0]
    except InvalidIdentifierError as exc:
        raise _Invalid(str(exc)) from None


def _array_of(check: _Check) -> _Check:
    def run(value: object) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise _Invalid(f"expected an array, got {_got(value)}")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(check(item))
            except _Invalid as exc:
                raise _Invalid(exc.problem, f"[{index}]") from None
        return tuple(dict.fromkeys(items))

    return run


# -- the settings: each declared once, with its default, its check and its help ------------


def setting(default: Any, check: _Check, help: str = "") -> Any:
    """A settings field: the ``default``, the ``check`` a TOML value passes (it returns the
    clean value) and a one-line ``help`` (the shipped config and the README say the same)."""
    return field(default=default, metadata={"check": check, "help": help})


def checks_of(cls: type) -> dict[str, _Check]:
    """The check of every field of a settings class, by key."""
    return {f.name: f.metadata["check"] for f in fields(cls)}


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str = setting(
        "sqlite:///harvester.db",
        _database_url,
        "any SQLAlchemy URL of a file or server; postgresql://... uses psycopg 3",
    )


@dataclass(frozen=True, slots=True)
class ArxivSettings:
    api_url: str = setting("https://export.arxiv.org/api/query", _http_url, "the query API")
    page_size: int = setting(200, _integer(1, 2000), "results a request asks for")
    delay_seconds: float = setting(
        3.0, _seconds(0, DAY), "minimum spacing between the starts of any two requests"
    )
    timeout_seconds: float = setting(
        30.0, _seconds(0.01, HOUR), "per socket operation; a whole request gets 3 times this"
    )
    max_attempts: int = setting(5, _integer(1, 100), "tries of one request")
    max_retry_seconds: float = setting(
        600.0, _seconds(0.01, DAY), "bound on the total time spent retrying one request"
    )
    max_wait_seconds: float = setting(
        300.0, _seconds(0.01, DAY), "cap on a single backoff or Retry-After wait"
    )
    max_response_bytes: int = setting(20_000_000, _integer(1000, 2**30), "size cap of a body")
    max_consecutive_failures: int = setting(
        10,
        _integer(1, 100_000),
        "failed requests in a row (across authors) that stop the cycle: the rest are skipped",
    )
    contact: str | None = setting(
        None,
        _matching(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "an e-mail address"),
        "an e-mail address, appended to the User-Agent as (mailto:...)",
    )
    author_feed_url: str = setting(
        "https://arxiv.org/a",
        _http_url,
        "where author identifier feeds are: {author_feed_url}/{id}.atom2",
    )

    @property
    def user_agent(self) -> str:
        base = f"arxiv-harvester/{__version__}"
        return f"{base} (mailto:{self.contact})" if self.contact else base


@dataclass(frozen=True, slots=True)
class HarvestSettings:
    """How a cycle spends its requests (see :mod:`harvester.batching`)."""

    group_query_chars: int = setting(
        4000,
        _integer(0, 8000),
        "authors share a query while its URL-encoded search_query stays this short; 0: one each",
    )
    overlap_days: int = setting(
        7, _integer(0, 365), "incremental harvests page back to the watermark minus this"
    )
    full_every_days: int = setting(
        7, _integer(1, 365), "each author's full reconciliation, on a day of its own"
    )


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = setting("WARNING", _log_level, "DEBUG, INFO, WARNING or ERROR")


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When ``harvest daemon`` harvests (see :mod:`harvester.schedule`), in UTC."""

    cron: str = setting(
        "30 1 * * *", _cron, "5-field crontab line in UTC; daily, after arXiv's announcement"
    )
    interval_seconds: float | None = setting(
        None, _seconds(1, YEAR), "when set, harvest this often instead of on cron"
    )
    jitter_seconds: float = setting(
        300.0, _seconds(0, DAY), "each run starts up to this much later, at random"
    )

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger, jitter included."""
        return schedule_trigger(self.cron, self.interval_seconds, self.jitter_seconds)

    def interval(self, now: datetime) -> timedelta:
        """The longest gap between two scheduled runs (for "overdue" and "stale")."""
        return nominal_interval(self.cron, self.interval_seconds, now)


@dataclass(frozen=True, slots=True)
class OutputSettings:
    """What each harvest cycle writes besides the database."""

    html_dir: Path | None = setting(
        None, _directory, "when set, every cycle rewrites a static HTML site here"
    )


@dataclass(frozen=True, slots=True)
class AuthorSettings:
    key: str = setting("", _author_key, "stable slug, used in the views and the site")
    name: str = setting("", _name, "the name as written on papers")
    aliases: tuple[str, ...] = setting((), _array_of(_name), "other spellings")
    query: str | None = setting(None, _query, "an explicit arXiv search_query instead")
    include_ids: tuple[str, ...] = setting((), _array_of(_arxiv_id), "ids always counted")
    exclude_ids: tuple[str, ...] = setting((), _array_of(_arxiv_id), "ids never counted")
    arxiv_author_id: str | None = setting(
        None, _author_id, "arXiv author identifier: every paper in its feed is the author's"
    )
    orcid: str | None = setting(None, _orcid, "ORCID iD, used like arxiv_author_id")

    @property
    def anchor(self) -> str | None:
        """The identifier whose feed lists the author's claimed papers (the arXiv author
        identifier when both are set: the feeds are the same)."""
        return self.arxiv_author_id or self.orcid

    @property
    def names(self) -> tuple[str, ...]:
        """The name, then the aliases, without duplicates."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))

    @property
    def search_query(self) -> str:
        return build_query(self)

    @property
    def identity_fingerprint(self) -> str:
        """SHA-256 of everything that decides which papers are this author's (not the order)."""
        identity: dict[str, object] = {
            "name": self.name,
            "aliases": sorted(self.names[1:]),
            "query": self.query,
            "include_ids": sorted(self.include_ids),
            "exclude_ids": sorted(self.exclude_ids),
        }
        if self.anchor is not None:  # absent otherwise: fingerprints stored before stay true
            identity["anchor"] = self.anchor
        text = json.dumps(identity, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path
    database: DatabaseSettings
    arxiv: ArxivSettings
    authors: tuple[AuthorSettings, ...]
    logging: LoggingSettings
    schedule: ScheduleSettings = ScheduleSettings()
    output: OutputSettings = OutputSettings()
    harvest: HarvestSettings = HarvestSettings()


def build_query(author: AuthorSettings) -> str:
    """The explicit query, else every name as an ``au:`` phrase (:func:`names_query`)."""
    if author.query is not None:
        return author.query
    return names_query(author.names)


def names_query(names: Iterable[str]) -> str:
    """The one place an author query is written: each name as a quoted ``au:`` phrase,
    ORed and parenthesised (shared queries join several authors' names the same way)."""
    return "(" + " OR ".join(f'au:"{name}"' for name in names) + ")"


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
    "logging": LoggingSettings,
    "output": OutputSettings,
    "schedule": ScheduleSettings,
}
"""Each ``[section]`` of the file and its settings class (whose fields say the rest)."""
_AUTHOR_KEYS = checks_of(AuthorSettings)
_TOP_KEYS = (*_SECTIONS, "authors")


def _unknown(key: str, known: Iterable[str]) -> str:
    known = list(known)
    if close := difflib.get_close_matches(key, known, n=1):
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys: {', '.join(known)}"


def _checked(path: Path, key: str, check: _Check, value: object) -> Any:
    try:
        return check(value)
    except _Invalid as exc:
        raise ConfigError(path, key + exc.suffix, exc.problem) from None


def _table(path: Path, where: str, table: object, checks: Mapping[str, _Check]) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(path, where, f"expected a table, got {_got(table)}")
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
            path, "authors", f"expected an array of [[authors]] tables, got {_got(tables)}"
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
