"""The locks processes sharing a database take turns through, as the request lock
(:mod:`~harvester.store.pacing`) and the cycles' lock (:mod:`~harvester.store.sharing`)
use them: ``flock`` on a file beside a SQLite database (the kernel lets go of it if a
process dies), and the connection of a PostgreSQL session advisory lock, let go of when
the lock is closed."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import DatabaseError
from .engine import DATABASE_FILE_MODE
from .problems import database_error

logger = logging.getLogger(__name__)

SHARED = fcntl.LOCK_SH
EXCLUSIVE = fcntl.LOCK_EX


class LockFile:
    """A lock file, opened on first use; ``what`` names it in an error."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def try_lock(self, mode: int) -> bool:
        """Take the lock (:data:`SHARED` or :data:`EXCLUSIVE`) if it is free; never wait."""
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, DATABASE_FILE_MODE)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot open the {self.what} {self.path}: {exc.strerror or exc}"
                ) from exc
        try:
            fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def close_session(conn: Connection, what: str) -> None:
    """Give a session advisory lock's connection back to the pool, which would keep the
    session's locks alive: they are released first, or the connection is discarded."""
    try:
        conn.execute(_UNLOCK_ALL)
        conn.close()
    except SQLAlchemyError as exc:
        logger.warning("%s", database_error(exc, f"could not release the {what}"))
        conn.invalidate()


_UNLOCK_ALL = text("SELECT pg_advisory_unlock_all()")
