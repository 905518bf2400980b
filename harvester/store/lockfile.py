"""``flock`` on a file beside a SQLite database: the processes sharing the file take turns
through it, and the kernel lets go of it if a process dies. The request lock
(:mod:`~harvester.store.pacing`) and the cycles' lock (:mod:`~harvester.store.sharing`)
are each one such file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import DatabaseError
from .engine import DATABASE_FILE_MODE

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
