"""The one error tree of arxiv-harvester.

Every error the library raises on purpose derives from :class:`HarvesterError`
and carries a ``hint`` a user can act on. Only the CLI and the daemon catch the
root; they print ``str(error)`` on one line and exit with ``error.exit_code``.

::

    HarvesterError                     exit 70 (internal), base of everything
    ├── ConfigError                    exit 2: the config file or environment is wrong
    ├── DatabaseError                  exit 74: the database cannot be opened or written
    │   ├── DatabaseCreateError        exit 73: the database file cannot be created
    │   ├── SchemaTooNewError          exit 74: the schema is newer than this code
    │   ├── SchemaOutdatedError        exit 74: a read-only command met an old schema
    │   └── CorruptDatabaseError       exit 74: damaged file, version table or stored row
    │       └── DerivedDataError       exit 74: stored derived data (similar authors) unreadable
    ├── ProfileNotFoundError           exit 2: no tracked author has that key
    ├── PaperNotFoundError             exit 2: no candidate paper of the profile has that id
    ├── ReviewInputError               exit 2: a file of ids to review cannot be read
    ├── SnapshotInputError             exit 2: a metadata snapshot to import cannot be read
    ├── RequestRefusedError            exit 2: a command was asked what it will not do as asked
    ├── OutputError                    exit 73: the HTML site cannot be written
    ├── LeaseLostError                 exit 75: another process took over an author's lease
    ├── DeliveryError                  exit 75: a notification target did not take a message
    ├── DemoError                      exit 73: the demo cannot keep its database where asked
    │   ├── DemoFolderTakenError       exit 2: that folder already holds a demo database
    │   └── LookalikeStartError        exit 69: the demo's arXiv look-alike did not start
    ├── FetchError                     asking arXiv failed (per author; never fatal to a run)
    │   ├── TransientFetchError        worth retrying later (timeouts, 429, 5xx, broken pages)
    │   │   ├── ConnectionFailedError  connecting or reading failed, or timed out
    │   │   │   └── UnreachableError   no such host, or the connection was refused
    │   │   ├── HTTPStatusError        429, 408 or 5xx; ``retry_after`` when the server said so
    │   │   ├── IncompleteResponseError  the body is not a complete Atom feed
    │   │   ├── InvalidPageError       an entry of the page failed validation
    │   │   │   └── EntriesRefusedError  entries stayed invalid; carries the valid papers
    │   │   ├── EmptyPageError         a later page came back empty
    │   │   ├── InconsistentTotalError   ``totalResults`` kept changing between pages
    │   │   └── CircuitOpenError       too many consecutive failed requests this cycle
    │   ├── QueryRejectedError         arXiv refused the query (HTTP 400 and other 4xx)
    │   │   ├── UnknownAuthorError     no arXiv author has that identifier or ORCID iD
    │   │   │   └── UnknownOrcidError  ORCID has no public record of that iD
    │   │   └── OaiProtocolError       an OAI-PMH <error> (badArgument, badResumptionToken, ...)
    │   ├── TooManyResultsError        the query matches more papers than the API pages through
    │   ├── UnsortedAnswerError        a sorted answer came back out of order
    │   ├── ResponseTooLargeError      the body exceeded the size cap
    │   └── HostileResponseError       the body declares a DTD or entities: refused unparsed
    └── StopRequested                  a shutdown was requested while waiting
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import exits
from .logformat import cut

if TYPE_CHECKING:
    from .records import Paper

__all__ = [
    "CircuitOpenError",
    "ConfigError",
    "ConnectionFailedError",
    "CorruptDatabaseError",
    "DatabaseCreateError",
    "DatabaseError",
    "DeliveryError",
    "DemoError",
    "DemoFolderTakenError",
    "DerivedDataError",
    "EmptyPageError",
    "EntriesRefusedError",
    "FetchError",
    "HTTPStatusError",
    "HarvesterError",
    "HostileResponseError",
    "IncompleteResponseError",
    "InconsistentTotalError",
    "InvalidPageError",
    "LeaseLostError",
    "LookalikeStartError",
    "OaiProtocolError",
    "OutputError",
    "PaperNotFoundError",
    "ProfileNotFoundError",
    "QueryRejectedError",
    "RequestRefusedError",
    "ResponseTooLargeError",
    "ReviewInputError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "SnapshotInputError",
    "StopRequested",
    "TooManyResultsError",
    "TransientFetchError",
    "UnknownAuthorError",
    "UnknownOrcidError",
    "UnreachableError",
    "UnsortedAnswerError",
]


class HarvesterError(Exception):
    """Base of every error arxiv-harvester raises on purpose."""

    exit_code = exits.INTERNAL
    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(HarvesterError):
    """The configuration is unusable: names the file, the key and the problem."""

    exit_code = exits.USAGE

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        where = f"{path}: {key}" if key else f"{path}"
        super().__init__(f"{where}: {problem}", hint="")
        self.path = path
        self.key = key
        self.problem = problem


class DatabaseError(HarvesterError):
    """The database cannot be opened, migrated or written."""

    exit_code = exits.DATABASE
    default_hint = "check the [database] url and that the file and its directory are writable"


class DatabaseCreateError(DatabaseError):
    """The database (file) cannot be created."""

    exit_code = exits.CANNOT_CREATE


class SchemaTooNewError(DatabaseError):
    """The database was migrated by a newer arxiv-harvester than this one."""

    default_hint = "upgrade arxiv-harvester; this version does not know that schema"


class SchemaOutdatedError(DatabaseError):
    """A command that only reads found a schema older than this code (or none)."""

    default_hint = "run 'harvest db upgrade' (or 'harvest --once') first"


class CorruptDatabaseError(DatabaseError):
    """The database is damaged: a failed integrity check, a schema-version table with
    several rows, or a stored row that cannot be read. Nothing more is written."""

    default_hint = "restore the database from a backup"


class DerivedDataError(CorruptDatabaseError):
    """Stored data derived from the papers (the similar authors, their model and vectors,
    the change log) cannot be read. Never restored: a refresh that meets it clears the
    derived data and recomputes it from the papers; a command that only reads says so."""

    default_hint = "run 'harvest refresh --all': it recomputes them from the papers"


class ProfileNotFoundError(HarvesterError):
    """No tracked author has this key in the database."""

    exit_code = exits.USAGE

    def __init__(self, key: str, known: Sequence[str]) -> None:
        listed = ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
        hint = f"known keys: {listed}" if known else "the database has no authors yet"
        super().__init__(f"no profile with key {key!r} in the database", hint=hint)
        self.key = key


class PaperNotFoundError(HarvesterError):
    """``harvest review KEY --accept/--reject ID``: the profile has no such paper among its
    candidates (papers whose author list names it), or the id is not an arXiv id."""

    exit_code = exits.USAGE

    def __init__(self, key: str, ids: Sequence[str], problem: str = "") -> None:
        listed = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        what = problem or f"not among the papers harvested for profile {key!r}"
        super().__init__(
            f"{listed}: {what}",
            hint=f"'harvest review {key}' lists the held papers; the views profile_papers"
            " and rejected_papers the others",
        )
        self.key = key
        self.ids = tuple(ids)

    @classmethod
    def refused(cls, key: str, problems: Mapping[str, Sequence[str]]) -> PaperNotFoundError:
        """One error for ids refused for different reasons: ``{problem: ids}``."""
        (first, ids), *rest = problems.items()
        more = "".join(f"; {', '.join(i[:5])}: {p}" for p, i in rest)
        error = cls(key, ids, first + more)
        error.ids = tuple(i for listed in problems.values() for i in listed)
        return error


class ReviewInputError(HarvesterError):
    """``harvest review --accept-from/--reject-from FILE``: the file cannot be read."""

    exit_code = exits.USAGE
    default_hint = "one arXiv id a line ('-' reads stdin); '#' starts a comment"

    def __init__(self, path: str, exc: Exception) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        super().__init__(f"cannot read the ids in {path}: {reason}")
        self.path = path


class SnapshotInputError(HarvesterError):
    """``harvest import FILE``: the file cannot be read, or is not arXiv's metadata snapshot
    (JSON lines, plain or gzip). What was stored before the problem stays stored; the import
    resumes there once the file is right."""

    exit_code = exits.USAGE
    default_hint = "give the arXiv metadata snapshot: one JSON record a line, plain or gzip"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"cannot import {path}: {problem}")
        self.path = path


class RequestRefusedError(HarvesterError):
    """A command was asked for what it will not do as asked (``harvest authors --purge``
    of a configured key, without ``--yes`` off a terminal; ``--only`` an unknown key)."""

    exit_code = exits.USAGE


class OutputError(HarvesterError):
    """A page or feed of the static site cannot be written."""

    exit_code = exits.CANNOT_CREATE
    default_hint = "check [output] html_dir: the directory must be creatable and writable"


class LeaseLostError(HarvesterError):
    """This process no longer holds the author's lease (it expired and another took it)."""

    exit_code = exits.TEMPORARY
    default_hint = "another process harvests this author now; nothing was written"


class DeliveryError(HarvesterError):
    """A notification target did not take a message (down, refused, or unknown to the
    service); the message stays in the outbox for the next cycle. The target is named,
    never its URL, which may hold a secret."""

    exit_code = exits.TEMPORARY
    default_hint = "the message stays in the outbox and goes with the next cycle"

    def __init__(self, target: str, reason: str, *, attempts: int = 1) -> None:
        super().__init__(f"notify target {target}: not delivered: {reason}")
        self.target = target
        self.reason = reason
        self.attempts = attempts


class DemoError(HarvesterError):
    """``harvest demo --keep DIR``: the folder cannot be created or written."""

    exit_code = exits.CANNOT_CREATE
    default_hint = "name a folder that can be created and written"


class DemoFolderTakenError(DemoError):
    """``harvest demo --keep DIR``: DIR holds a database already; a demo starts afresh."""

    exit_code = exits.USAGE
    default_hint = "name a new or empty folder, or remove the old demo's files"


class LookalikeStartError(DemoError):
    """The demo's arXiv look-alike (``python -m arxiv_lookalike``) did not start."""

    exit_code = exits.UNAVAILABLE
    default_hint = (
        "the look-alike ships with arxiv-harvester: reinstall it ('make setup'), then check"
        " that 'python -m arxiv_lookalike' starts"
    )


class StopRequested(HarvesterError):
    """A shutdown was requested while waiting (between retries or requests)."""

    exit_code = exits.OK


class FetchError(HarvesterError):
    """Asking the arXiv API failed. ``temporary`` says whether a later try may succeed.
    ``partial``: the valid papers of the pages that did arrive before a later page failed
    (true, but not the whole answer: worth recording, never a reason to remove)."""

    exit_code = exits.UNAVAILABLE
    temporary = False

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.partial: tuple[Paper, ...] = ()


class TransientFetchError(FetchError):
    """A failure worth retrying: the same request may well succeed later."""

    exit_code = exits.TEMPORARY
    temporary = True
    default_hint = "arXiv or the network is struggling; try again later"


class ConnectionFailedError(TransientFetchError):
    """Connecting, sending or reading failed, or a timeout expired."""


class UnreachableError(ConnectionFailedError):
    """arXiv's host cannot be reached at all: its name does not resolve, or nothing listens
    there. Tried twice, then the cycle stops asking (no network, or a wrong ``api_url``)."""

    default_hint = "check the network or [arxiv] api_url; offline, try 'harvest demo' (make demo)"

    def __init__(self, host: str, problem: str, *, url: str | None = None) -> None:
        super().__init__(f"arXiv cannot be reached at {host}: {problem}", url=url)
        self.host = host
        self.problem = problem


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


class EntriesRefusedError(InvalidPageError):
    """Entries stayed invalid after every retry; the search went on without them.

    ``papers`` holds every valid paper of the search (worth storing: nothing is
    lost), ``refused`` the ``(entry id, reason)`` of each refused entry and ``authors``
    its author names where known. The result set is incomplete for any author a refused
    entry may belong to, so it must not be used to decide what went missing.
    """

    default_hint = "arXiv served entries that fail validation; the next harvest tries again"

    def __init__(
        self,
        papers: Sequence[Paper],
        refused: Sequence[tuple[str, str]],
        *,
        authors: Mapping[str, tuple[str, ...] | None] | None = None,
        url: str | None = None,
    ) -> None:
        shown = "; ".join(
            f"{cut(entry_id)}: {cut(reason, 400)}" for entry_id, reason in refused[:3]
        )
        more = f" (and {len(refused) - 3} more)" if len(refused) > 3 else ""
        count = f"{len(refused)} {'entry' if len(refused) == 1 else 'entries'}"
        super().__init__(f"{count} refused: {shown}{more}", url=url)
        self.papers = tuple(papers)
        self.refused = tuple(refused)
        #: each refused entry's author names, where the entry could be read that far
        self.authors = dict(authors or {})


class EmptyPageError(TransientFetchError):
    """A page after the first came back empty although more results were announced."""


class InconsistentTotalError(TransientFetchError):
    """``totalResults`` changed between pages, twice in a row."""


class CircuitOpenError(TransientFetchError):
    """Too many consecutive requests failed in this cycle: stop asking until the next one."""

    default_hint = "arXiv keeps failing; the remaining authors were skipped, try again later"

    def __init__(self, failures: int) -> None:
        super().__init__(f"circuit breaker open after {failures} consecutive failed requests")
        self.failures = failures


class QueryRejectedError(FetchError):
    """arXiv refused the query itself (HTTP 400 or another 4xx): retrying will not help."""

    default_hint = "check the author's name, aliases or explicit query in the config"


class UnknownAuthorError(QueryRejectedError):
    """The author identifier feed of an ``arxiv_author_id`` or ``orcid`` does not exist
    (arXiv answers 404, or 400 "Author ... not found"): a typo, or an identifier not
    linked to an arXiv account. Asking again will not help."""

    default_hint = "check the author's arxiv_author_id or orcid, and [arxiv] author_feed_url"


class UnknownOrcidError(UnknownAuthorError):
    """ORCID has no public record of an author's ``orcid`` (HTTP 404)."""

    default_hint = "check the author's orcid, and [orcid] api_url"


class OaiProtocolError(QueryRejectedError):
    """The OAI-PMH service answered with an ``<error code=...>``
    (https://www.openarchives.org/OAI/openarchivesprotocol.html#ErrorConditions). The OAI
    client handles ``badResumptionToken`` (restart the window) and a ``badArgument`` about an
    early ``from`` (start at the earliest datestamp) itself; ``noRecordsMatch`` is no error."""

    default_hint = "check [oai] url, sets and from in the config"

    def __init__(self, code: str, message: str, *, url: str | None = None) -> None:
        super().__init__(f"the OAI-PMH service answered {code}: {message}", url=url)
        self.code = code
        self.detail = message


class TooManyResultsError(FetchError):
    """A query matches more papers than the API will page through (10,000)."""

    def __init__(self, total: int, limit: int, *, url: str | None = None) -> None:
        super().__init__(
            f"the query matches {total} papers, more than the {limit} the API pages through",
            url=url,
            hint="narrow the author's query",
        )
        self.total = total


class UnsortedAnswerError(FetchError):
    """An answer asked for by ``lastUpdatedDate``, newest first, came back out of order
    (arXiv ignored its sort for two days in November 2025): an incremental harvest cannot
    trust where it stops, so the caller falls back to a full harvest."""


class ResponseTooLargeError(FetchError):
    """The response exceeded the configured size cap and was refused unread."""

    default_hint = "lower [arxiv] page_size or raise max_response_bytes"


class HostileResponseError(FetchError):
    """The body carries a DOCTYPE or entity declarations, which arXiv never sends."""

    default_hint = "the server at [arxiv] api_url is not behaving like arXiv"
