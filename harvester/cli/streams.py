"""Standard streams a supervisor closed (``harvest --once 2>&-``, as some cron and
supervisor setups start a job): reopened on ``/dev/null`` before anything else runs.

Python leaves ``sys.stderr`` (or ``sys.stdout``, ``sys.stdin``) as None when its descriptor
was closed at start, and ``print(file=None)`` writes to *stdout*, so an error line would
land in the output and every ``isatty()`` or ``flush()`` would fail. Opening ``/dev/null``
on the closed descriptor itself, as ``daemon(3)`` does, also keeps descriptors 0 to 2 from
being handed to a database file or a socket that a stray write to "stderr" would then
corrupt. What would have gone there is dropped: the exit code still says how it went.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

STANDARD = (("stdin", 0, os.O_RDONLY), ("stdout", 1, os.O_WRONLY), ("stderr", 2, os.O_WRONLY))
"""``sys`` attribute, descriptor and the mode ``/dev/null`` is opened in, for each stream."""


def reopen_closed_streams() -> list[str]:
    """Give every standard stream Python found closed a ``/dev/null`` of its own; the
    names of those reopened (none, as a rule)."""
    reopened = []
    for name, fd, flags in STANDARD:
        if getattr(sys, name) is None:
            setattr(sys, name, _null_stream(fd, flags))
            reopened.append(name)
    return reopened


def _null_stream(fd: int, flags: int) -> TextIO:
    """``/dev/null`` on descriptor ``fd`` when that is free, else on a descriptor of its
    own (``fd`` was taken meanwhile: it is not ours to close)."""
    null = os.open(os.devnull, flags)
    if null != fd and not _is_open(fd):
        os.dup2(null, fd)
        os.close(null)
        null = fd
    if flags == os.O_RDONLY:
        return open(null, encoding="utf-8", closefd=null > 2)
    return open(null, "w", encoding="utf-8", errors="backslashreplace", closefd=null > 2)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
