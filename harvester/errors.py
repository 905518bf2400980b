"""The one error tree of arxiv-harvester.

Every error the library raises on purpose derives from :class:`HarvesterError`
and carries a ``hint`` a user can act on. Only the CLI and the daemon catch the
root; they print ``str(error)`` on one line and exit with ``error.exit_code``.

::

    HarvesterError                     exit 70 (internal), base of everything
    ├── ConfigError                    exit 2: the config file or environment is wrong
    ├── DatabaseError                  exit 74: the database cannot be opened or written
    │   ├── DatabaseCreateError        exit 73: the database file cannot be created
    │   └── SchemaTooNewError          exit 74: the schema is newer than this code
    ├── FetchError                     asking arXiv failed (per author; never fatal to a run)
    │   ├── TransientFetchError        worth retrying later (timeouts, 429, 5xx, broken pages)
    │   │   ├── ConnectionFailedError  connecting or reading failed, or timed out
    │   │   ├── HTTPStatusError        429, 408 or 5xx; ``retry_after`` when the server said so
    │   │   ├── IncompleteResponseError  the body is not a complete Atom feed
    │   │   ├── InvalidPageError       an entry of the page failed validation
    │   │   ├── EmptyPageError         a later page came back empty
    │   │   └── InconsistentTotalError   ``totalResults`` kept changing between pages
    │   ├── QueryRejectedError         arXiv refused the query (HTTP 400 and other 4xx)
    │   ├── ResponseTooLargeError      the body exceeded the size cap
    │   └── HostileResponseError       the body declares a DTD or entities: refused unparsed
    └── StopRequested                  a shutdown was requested while waiting
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConnectionFailedError",
    "DatabaseCreateError",
    "DatabaseError",
    "EmptyPageError",
    "FetchError",
    "HTTPStatusError",
    "HarvesterError",
    "HostileResponseError",
    "IncompleteResponseError",
    "InconsistentTotalError",
    "InvalidPageError",
    "QueryRejectedError",
    "ResponseTooLargeError",
    "SchemaTooNewError",
    "StopRequested",
    "TransientFetchError",
]


class HarvesterError(Exception):
    """Base of every error arxiv-harvester raises on purpose."""

    exit_code = 70
    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(HarvesterError):
    """The configuration is unusable: names the file, the key and the problem."""

    exit_code = 2

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        where = f"{path}: {key}" if key else f"{path}"
        super().__init__(f"{where}: {problem}", hint="")
        self.path = path
        self.key = key
        self.problem = problem


class DatabaseError(HarvesterError):
    """The database cannot be opened, migrated or written."""

    exit_code = 74
    default_hint = "check the [database] url and that the file and its directory are writable"


class DatabaseCreateError(DatabaseError):
    """The database (file) cannot be created."""

    exit_code = 73


class SchemaTooNewError(DatabaseError):
    """The database was migrated by a newer arxiv-harvester than this one."""

    default_hint = "upgrade arxiv-harvester; this version does not know that schema"


class StopRequested(HarvesterError):
    """A shutdown was requested while waiting (between retries or requests)."""

    exit_code = 0


class FetchError(HarvesterError):
    """Asking the arXiv API failed. ``temporary`` says whether a later try may succeed."""

    exit_code = 69
    temporary = False

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class TransientFetchError(FetchError):
    """A failure worth retrying: the same request may well succeed later."""

    temporary = True
    default_hint = "arXiv or the network is struggling; try again later"


class ConnectionFailedError(TransientFetchError):
    """Connecting, sending or reading failed, or a timeout expired."""


class HTTPStatusError(TransientFetchError):
    """The API answered 408, 429 or 5xx. ``retry_after``: seconds the server asked us to wait."""

    def __init__(
        self, status: int, *, url: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"arXiv answered HTTP {status}", url=url)
        self.status = status
        self.retry_after = retry_after


class IncompleteResponseError(TransientFetchError):
    """The body is not a complete Atom feed (cut off, not XML, or not a feed)."""


class InvalidPageError(TransientFetchError):
    """An entry of the page failed validation; the whole page is refused."""


class EmptyPageError(TransientFetchError):
    """A page after the first came back empty although more results were announced."""


class InconsistentTotalError(TransientFetchError):
    """``totalResults`` changed between pages, twice in a row."""


class QueryRejectedError(FetchError):
    """arXiv refused the query itself (HTTP 400 or another 4xx): retrying will not help."""

    default_hint = "check the author's name, aliases or explicit query in the config"


class ResponseTooLargeError(FetchError):
    """The response exceeded the configured size cap and was refused unread."""

    default_hint = "lower [arxiv] page_size or raise max_response_bytes"


class HostileResponseError(FetchError):
    """The body carries a DOCTYPE or entity declarations, which arXiv never sends."""

    default_hint = "the server at [arxiv] api_url is not behaving like arXiv"
