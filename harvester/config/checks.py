"""The checks of the settings: each takes a raw TOML value and returns the clean one or
raises :class:`Invalid`, which the loader turns into a :class:`~harvester.errors.ConfigError`
naming the file and the key.

Decisions worth knowing:

- A database URL is checked with the standard library, not SQLAlchemy (only the store
  imports it), and read the way SQLAlchemy's ``make_url`` reads it (its pattern). A relative
  SQLite path (``sqlite:///harvester.db``) is relative to the current working directory, as
  SQLAlchemy does it. A bare ``postgresql://`` URL is mapped to ``postgresql+psycopg://`` so
  that psycopg 3 is used (the rest of the URL is kept as written).
- Author names and aliases are stripped, NFC-normalised and runs of spaces collapsed. They may
  hold letters of any script, combining marks, digits (rare, but real names have them), spaces and
  ``. - ' ,``. Everything else is refused, notably what the arXiv query language treats specially
  (``" ( ) : [ ] \\ *``, and ``_``, which ``au:`` reads as a space), as are the upper-case
  operator words ``AND``, ``OR`` and ``ANDNOT`` (arXiv treats only upper case as operators). See
  https://info.arxiv.org/help/api/user-manual.html#query_details.
- ``include_ids``/``exclude_ids`` take whatever :func:`~harvester.normalise.parse_arxiv_id`
  does (``2409.11321v2``, ``arXiv:hep-th/9901001``, an abs URL) and keep the canonical versionless
  id, old style without its subject class (``math.GT/0309136`` is ``math/0309136``).
- A crontab line is read the way cron(8) reads it, in UTC (:mod:`harvester.schedule` explains
  the APScheduler traps).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..normalise import InvalidIdentifierError, parse_arxiv_id
from ..schedule import crontab_trigger, next_fire_time

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_QUERY_CHARS = 1000
AUTHOR_ID = re.compile(r"[a-z]+(?:_[a-z]+)*_\d+", re.ASCII)
"""arXiv's public author identifiers (https://info.arxiv.org/help/author_identifiers.html)."""
ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", re.ASCII)
MAX_NAME_CHARS = 300
"""The longest author name a feed entry may carry (``normalise.FieldLimits.author_name``)."""

Check = Callable[[object], Any]


class Invalid(Exception):
    """A value failed its check; the caller names the file and the key."""

    def __init__(self, problem: str, suffix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.suffix = suffix  # a position inside the value, e.g. "[2]" for an array item


def got(value: object) -> str:
    toml = {"str": "string", "int": "integer", "bool": "boolean", "list": "array", "dict": "table"}
    return toml.get(type(value).__name__, type(value).__name__)


def string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {got(value)}")
    return value


def integer(low: int, high: int) -> Check:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected an integer, got {got(value)}")
        if not low <= value <= high:
            raise Invalid(f"must be between {low} and {high}, got {number(value)}")
        return value

    return check


def seconds(low: float, high: float) -> Check:
    """A number of seconds from ``low`` to ``high`` (every one of them has a sane bound:
    an unbounded value that validates would fail later, at run time)."""

    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"expected a number of seconds (integer or float), got {got(value)}")
        if not (math.isfinite(value) and low <= value <= high):
            raise Invalid(f"must be from {low:g} to {high:g} seconds, got {number(value)}")
        return float(value)

    return check


def number(value: float) -> str:
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
_URL = re.compile(
    r"""(?P<driver>[\w+]+)://
        (?:[^:/]*(?::[^@]*)?@)?                     # user:password@, never echoed
        (?:(?:\[[^/?]+\]|[^/:?]+)?(?::(?P<port>[^/?]*))?)?
        (?:/(?P<database>[^?]*))?
        (?:\?(?P<query>.*))?""",
    re.VERBOSE,
)
"""A URL as SQLAlchemy's ``make_url`` reads it (its pattern, so that what passes here is what
the store's engine accepts; only the store imports SQLAlchemy)."""
_NOT_A_URL = "not a valid SQLAlchemy URL, e.g. sqlite:///harvester.db"


def database_url(value: object) -> str:
    """A SQLAlchemy URL (``driver://user:password@host:port/database?query``) of a database
    that keeps its data, with ``postgresql`` read as ``postgresql+psycopg`` (psycopg 3).
    The messages never echo the URL: it may hold a password."""
    text = string(value).strip()
    url = _parsed_url(text)
    driver = _DRIVERS.get(url["driver"])
    if driver is None:
        raise Invalid(f"unsupported database {url['driver']!r}: use sqlite or postgresql")
    if driver.startswith("sqlite") and _in_memory(url["database"], url["query"]):
        raise Invalid(
            "an in-memory SQLite database keeps nothing after the run;"
            " name a file, e.g. sqlite:///harvester.db"
        )
    return driver + text[len(url["driver"]) :]


def _parsed_url(text: str) -> re.Match[str]:
    """The parts of ``text`` (``make_url`` refuses a port that is not a number, as here)."""
    match = _URL.match(text)
    if match is None:
        raise Invalid(_NOT_A_URL)
    try:
        if match["port"] is not None:
            int(match["port"])  # as make_url does: " 5" passes, "" and "port" do not
    except ValueError:
        raise Invalid(_NOT_A_URL) from None
    return match


def _in_memory(database: str | None, query: str | None) -> bool:
    """``sqlite://``, ``sqlite:///``, ``sqlite:///:memory:`` or ``?mode=memory``."""
    modes = parse_qs(query or "").get("mode", [])
    return unquote(database or "") in ("", ":memory:") or any("memory" in m for m in modes)


def http_url(value: object) -> str:
    text = string(value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise Invalid(f"not a valid URL ({exc}): {text!r}") from None
    if not text.isprintable() or " " in text:
        raise Invalid(f"must not contain spaces or control characters, got {text!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"expected an http or https URL with a host, got {text!r}")
    if parts.query or parts.fragment:
        raise Invalid(f"must not have a query string or fragment, got {text!r}")
    return text


def matching(pattern: str, what: str) -> Check:
    regex = re.compile(pattern, re.ASCII)

    def check(value: object) -> str:
        text = string(value).strip()
        if not regex.fullmatch(text):
            raise Invalid(f"expected {what}, got {text!r}")
        return text

    return check


def log_level(value: object) -> str:
    level = string(value).strip().upper()
    if level not in LOG_LEVELS:
        raise Invalid(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def cron(value: object) -> str:
    text = " ".join(string(value).split())
    try:
        trigger = crontab_trigger(text)
    except ValueError as exc:
        raise Invalid(f"{exc}; expected a crontab line in UTC like '30 1 * * *'") from None
    if next_fire_time(trigger, datetime.now(UTC)) is None:
        raise Invalid(f"{text!r} never fires (no such date); expected a line like '30 1 * * *'")
    return text


def directory(value: object) -> Path:
    """A directory path (``~`` expanded; relative to the working directory, like SQLite's)."""
    text = string(value).strip()
    if not text:
        raise Invalid("must not be empty")
    if not text.isprintable():
        raise Invalid(f"must not contain control characters, got {text!r}")
    return Path(text).expanduser()


RESERVED_KEYS = frozenset({"index", "all"})
"""Keys the static site uses for its own files (``index.html``, ``all.atom``)."""


def author_key(value: object) -> str:
    key: str = matching(r"[a-z0-9_-]{1,64}", "1 to 64 of a-z, 0-9, '-', '_'")(value)
    if key in RESERVED_KEYS:
        raise Invalid(f"{key!r} is reserved: the static site names its own files {key}.*")
    return key


_NAME_PUNCTUATION = frozenset(" .-',")
_OPERATOR = re.compile(r"\b(?:ANDNOT|AND|OR)\b")


def _allowed_in_name(char: str) -> bool:
    return char in _NAME_PUNCTUATION or char.isdecimal() or unicodedata.category(char)[0] in "LM"


def author_name(value: object) -> str:
    name = re.sub(" {2,}", " ", unicodedata.normalize("NFC", string(value).strip()))
    if not name:
        raise Invalid("must not be empty")
    if len(name) > MAX_NAME_CHARS:
        raise Invalid(f"must be at most {MAX_NAME_CHARS} characters, got {len(name)}")
    if bad := next((char for char in name if not _allowed_in_name(char)), None):
        raise Invalid(
            f"character {bad!r} (U+{ord(bad):04X}) is not allowed in a name"
            " (allowed: letters, marks, digits, spaces and . - ' ,)"
        )
    if operator := _OPERATOR.search(name):
        raise Invalid(f"the word {operator.group()!r} is an arXiv query operator")
    if not any(char.isalpha() for char in name):
        raise Invalid(f"must contain a letter, got {name!r}")
    return name


def query_text(value: object) -> str:
    query = " ".join(string(value).split())
    if not query:
        raise Invalid("must not be empty")
    if len(query) > MAX_QUERY_CHARS:
        raise Invalid(f"must be at most {MAX_QUERY_CHARS} characters, got {len(query)}")
    return query


def author_id(value: object) -> str:
    """arXiv's public author identifier: ``surname_i_n`` (``zhang_w_1``, ``del_maestro_a_1``)."""
    text = string(value).strip()
    if not AUTHOR_ID.fullmatch(text):
        raise Invalid(
            f"expected an arXiv author identifier like 'zhang_w_1' (lower-case letters,"
            f" underscores, ending in _NUMBER), got {text!r}"
        )
    return text


def orcid(value: object) -> str:
    """An ORCID iD as ``0000-0002-1825-0097``, its ISO 7064 11,2 check digit verified
    (https://support.orcid.org/hc/en-us/articles/360006897674)."""
    text = string(value).strip()
    text = text.removeprefix("https://orcid.org/").removeprefix("http://orcid.org/")
    if not ORCID.fullmatch(text):
        raise Invalid(f"expected an ORCID iD like '0000-0002-1825-0097', got {text!r}")
    if orcid_check_digit(text[:-1].replace("-", "")) != text[-1]:
        raise Invalid(f"{text!r} is not an ORCID iD: its check digit is wrong (a typo?)")
    return text


def orcid_check_digit(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an ORCID iD's first 15 digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def arxiv_id(value: object) -> str:
    try:
        return parse_arxiv_id(string(value))[0]
    except InvalidIdentifierError as exc:
        raise Invalid(str(exc)) from None


def array_of(check: Check) -> Check:
    def run(value: object) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise Invalid(f"expected an array, got {got(value)}")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(check(item))
            except Invalid as exc:
                raise Invalid(exc.problem, f"[{index}]") from None
        return tuple(dict.fromkeys(items))

    return run


def iso_date(value: object) -> date:
    """A day, ``YYYY-MM-DD`` (a TOML date or a string)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = string(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"expected a date YYYY-MM-DD, got {text!r}") from None


def choice(*allowed: str) -> Check:
    def check(value: object) -> str:
        text = string(value).strip()
        if text not in allowed:
            raise Invalid(f"expected one of {', '.join(map(repr, allowed))}, got {text!r}")
        return text

    return check
