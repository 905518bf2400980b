"""The settings as the program sees them: frozen dataclasses, one per ``[section]`` of the
file and one per ``[[authors]]`` table. Each key is declared once, with :func:`setting`: its
default, its check (:mod:`harvester.config.checks`) and a line of help.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from harvester import __version__

from ..schedule import nominal_interval, schedule_trigger
from ..vocabulary import HarvestSource
from .checks import (
    Check,
    array_of,
    arxiv_id,
    author_id,
    author_key,
    author_name,
    choice,
    cron,
    database_url,
    directory,
    http_url,
    integer,
    iso_date,
    log_level,
    matching,
    orcid,
    query_text,
    seconds,
)
from .targets import NotifySettings

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
YEAR = 366 * DAY

# -- the settings: each declared once, with its default, its check and its help ------------


def setting(default: Any, check: Check, help: str = "") -> Any:
    """A settings field: the ``default``, the ``check`` a TOML value passes (it returns the
    clean value) and a one-line ``help`` (the shipped config and the README say the same)."""
    return field(default=default, metadata={"check": check, "help": help})


def checks_of(cls: type) -> dict[str, Check]:
    """The check of every field of a settings class, by key."""
    return {f.name: f.metadata["check"] for f in fields(cls)}


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str = setting(
        "sqlite:///harvester.db",
        database_url,
        "any SQLAlchemy URL of a file or server; postgresql://... uses psycopg 3",
    )


@dataclass(frozen=True, slots=True)
class ArxivSettings:
    api_url: str = setting("https://export.arxiv.org/api/query", http_url, "the query API")
    page_size: int = setting(200, integer(1, 2000), "results a request asks for")
    delay_seconds: float = setting(
        3.0, seconds(0, DAY), "minimum spacing between the starts of any two requests"
    )
    timeout_seconds: float = setting(
        30.0, seconds(0.01, HOUR), "per socket operation; a whole request gets 3 times this"
    )
    max_attempts: int = setting(5, integer(1, 100), "tries of one request")
    max_retry_seconds: float = setting(
        600.0, seconds(0.01, DAY), "bound on the total time spent retrying one request"
    )
    max_wait_seconds: float = setting(
        300.0, seconds(0.01, DAY), "cap on a single backoff or Retry-After wait"
    )
    max_response_bytes: int = setting(20_000_000, integer(1000, 2**30), "size cap of a body")
    max_consecutive_failures: int = setting(
        10,
        integer(1, 100_000),
        "failed requests in a row (across authors) that stop the cycle: the rest are skipped",
    )
    contact: str | None = setting(
        None,
        matching(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "an e-mail address"),
        "an e-mail address, appended to the User-Agent as (mailto:...)",
    )
    author_feed_url: str = setting(
        "https://arxiv.org/a",
        http_url,
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
        integer(0, 8000),
        "authors share a query while its URL-encoded search_query stays this short; 0: one each",
    )
    overlap_days: int = setting(
        7, integer(0, 365), "incremental harvests page back to the watermark minus this"
    )
    full_every_days: int = setting(
        7, integer(1, 365), "each author's full reconciliation, on a day of its own"
    )
    source: HarvestSource = setting(
        HarvestSource.API,
        lambda value: HarvestSource(choice(*HarvestSource)(value)),
        '"api": a search query per author (group); "oai": OAI-PMH, matched locally',
    )


@dataclass(frozen=True, slots=True)
class OaiSettings:
    """arXiv's OAI-PMH service, for ``[harvest] source = "oai"`` (see
    :mod:`harvester.source.oai` and :mod:`harvester.cycle.oai`)."""

    url: str = setting("https://oaipmh.arxiv.org/oai", http_url, "the OAI-PMH service")
    sets: tuple[str, ...] = setting(
        (),
        array_of(matching(r"[a-z-]+(?::[A-Za-z.-]+)*", "an OAI set spec such as cs or cs:cs:LG")),
        "set specs to harvest; empty: all of arXiv",
    )
    from_date: date | None = setting(
        None, iso_date, "where a set's first harvest starts; unset: the earliest datestamp"
    )


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = setting("WARNING", log_level, "DEBUG, INFO, WARNING or ERROR")


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When ``harvest daemon`` harvests (see :mod:`harvester.schedule`), in UTC."""

    cron: str = setting(
        "30 1 * * *", cron, "5-field crontab line in UTC; daily, after arXiv's announcement"
    )
    interval_seconds: float | None = setting(
        None, seconds(1, YEAR), "when set, harvest this often instead of on cron"
    )
    jitter_seconds: float = setting(
        300.0, seconds(0, DAY), "each run starts up to this much later, at random"
    )

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger, jitter included."""
        return schedule_trigger(self.cron, self.interval_seconds, self.jitter_seconds)

    def interval(self, now: datetime) -> timedelta:
        """The longest gap between two scheduled runs (for "overdue" and "stale")."""
        return nominal_interval(self.cron, self.interval_seconds, now)


@dataclass(frozen=True, slots=True)
class OrcidSettings:
    """Where an author's public ORCID record is read (``orcid`` set): a second anchor."""

    api_url: str = setting(
        "https://pub.orcid.org/v3.0", http_url, "ORCID's public API: {api_url}/{orcid}/works"
    )
    delay_seconds: float = setting(
        1.0, seconds(0, DAY), "minimum spacing between two ORCID requests (ORCID allows 12/s)"
    )


@dataclass(frozen=True, slots=True)
class OutputSettings:
    """What each harvest cycle writes besides the database."""

    html_dir: Path | None = setting(
        None, directory, "when set, every cycle rewrites a static HTML site here"
    )


@dataclass(frozen=True, slots=True)
class AuthorSettings:
    key: str = setting("", author_key, "stable slug, used in the views and the site")
    name: str = setting("", author_name, "the name as written on papers")
    aliases: tuple[str, ...] = setting((), array_of(author_name), "other spellings")
    query: str | None = setting(None, query_text, "an explicit arXiv search_query instead")
    include_ids: tuple[str, ...] = setting((), array_of(arxiv_id), "ids always counted")
    exclude_ids: tuple[str, ...] = setting((), array_of(arxiv_id), "ids never counted")
    arxiv_author_id: str | None = setting(
        None, author_id, "arXiv author identifier: every paper in its feed is the author's"
    )
    orcid: str | None = setting(None, orcid, "ORCID iD, used like arxiv_author_id")

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
    def identity_fingerprint(self) -> str:
        """SHA-256 of everything that decides which papers are this author's (not the order)."""
        return _identity_fingerprint(self)


@functools.lru_cache(maxsize=1 << 16)
def _identity_fingerprint(author: AuthorSettings) -> str:
    """:attr:`AuthorSettings.identity_fingerprint`, worked out once per author (a cycle
    asks twice an author; the settings are frozen)."""
    identity: dict[str, object] = {
        "name": author.name,
        "aliases": sorted(author.names[1:]),
        "query": author.query,
        "include_ids": sorted(author.include_ids),
        "exclude_ids": sorted(author.exclude_ids),
    }
    if author.anchor is not None:  # absent otherwise: fingerprints stored before stay true
        identity["anchor"] = author.anchor
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
    notify: tuple[NotifySettings, ...] = ()
    orcid: OrcidSettings = OrcidSettings()
    oai: OaiSettings = OaiSettings()
