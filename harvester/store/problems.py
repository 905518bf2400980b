"""Database failures as one line a user can act on.

SQLAlchemy's messages carry the SQL statement, its parameters and a link; the
driver's own message ("attempt to write a readonly database") is the useful part.
:func:`database_error` keeps only that, names the problem in plain words and adds a
hint. Exit codes follow sysexits: 73 the database cannot be created, 74 it cannot be
opened or written (:mod:`harvester.errors`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CorruptDatabaseError, DatabaseCreateError, DatabaseError, DerivedDataError

_WRITABLE = (
    "give the user running harvest write access to the database file and to its directory,"
    " where SQLite creates the -wal and -shm files"
)
_UPGRADE = "run 'harvest db upgrade' (or 'harvest --once') first"
_KNOWN: tuple[tuple[str, str, str], ...] = (
    ("readonly database", "the database is read-only", _WRITABLE),
    (
        "database or disk is full",
        "the disk holding the database is full",
        "free space on that file system; nothing was half-written, so harvest again afterwards",
    ),
    ("disk i/o error", "disk I/O error on the database", "check the disk and its file system"),
    ("unable to open database file", "cannot open the database file", _WRITABLE),
    ("file is not a database", "the file is not an SQLite database", "check the [database] url"),
    (
        "fatal: database ",
        "the database does not exist",
        "create it (createdb NAME), or check the [database] url",
    ),
    (
        "connection refused",
        "the database server refuses connections",
        "start PostgreSQL, or check the host and port in the [database] url",
    ),
    ("no such table", "the schema is missing", _UPGRADE),
    ("does not exist", "the schema is missing or out of date", _UPGRADE),
)
_DETAIL_CHARS = 200


def database_error(exc: BaseException, doing: str) -> DatabaseError:
    """``doing: problem (driver message)`` with a hint; never the SQL or its parameters."""
    original = getattr(exc, "orig", None) or exc
    first_line = next((line for line in str(original).splitlines() if line.strip()), "")
    detail = " ".join(first_line.split())[:_DETAIL_CHARS]
    lowered = detail.lower()
    for needle, problem, hint in _KNOWN:
        if needle in lowered:
            return DatabaseError(f"{doing}: {problem} ({detail})", hint=hint)
    return DatabaseError(f"{doing}: {detail}")


@contextmanager
def readable(what: str) -> Iterator[None]:
    """Rows read inside are checked: one that does not decode (a date, a JSON column) is a
    :class:`CorruptDatabaseError` naming ``what``, not a traceback."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        detail = " ".join(str(exc).split())[:_DETAIL_CHARS]
        raise CorruptDatabaseError(
            f"a stored {what} cannot be read ({detail})",
            hint="restore the database from a backup; 'harvest db upgrade' checks the rest",
        ) from exc


UNDECODABLE = (ValueError, TypeError, AssertionError, IndexError, OverflowError, KeyError)
"""What decoding a tampered row raises (a date, a number, a line without its tab)."""


@contextmanager
def derivable(what: str) -> Iterator[None]:
    """Rows of derived data read inside are checked: one that does not decode is a
    :class:`DerivedDataError` naming ``what``, which a refresh answers by recomputing."""
    try:
        yield
    except UNDECODABLE as exc:
        raise derived_error(what, exc) from exc


def derived_error(what: str, problem: object) -> DerivedDataError:
    detail = " ".join(str(problem).split())[:_DETAIL_CHARS]
    return DerivedDataError(f"a stored {what} cannot be read ({detail})")


def missing_directory_error(path: Path) -> DatabaseCreateError:
    """The SQLite file's directory does not exist: never created for it, since a typo in
    the url would silently start a second, empty database somewhere else."""
    return DatabaseCreateError(
        f"the database's directory does not exist: {path.parent} (for {path.name})",
        hint="check the [database] url or HARVESTER_DATABASE_URL; harvest never creates it",
    )


def create_error(path: Path, exc: OSError) -> DatabaseCreateError:
    """The SQLite file (or its directory) cannot be created."""
    reason = exc.strerror or str(exc)
    return DatabaseCreateError(
        f"cannot create the database file {path}: {reason}",
        hint="create its directory, or make it writable by the user running harvest",
    )
