"""Every exit code ``harvest`` can end with, and the one rule that picks a cycle's.

Sysexits where they fit (see ``sysexits.h``); the README's exit-code table lists the same.
Errors carry theirs as ``HarvesterError.exit_code`` (:mod:`harvester.errors`), set from
these names.
"""

from __future__ import annotations

from collections.abc import Iterable

from .vocabulary import RunStatus

OK = 0
"""Everything asked for was done."""
INCOMPLETE = 1
"""Some author failed, was incomplete or suspect (the others were harvested), or
``harvest status`` found an author stale or failing."""
USAGE = 2
"""Configuration or usage error: nothing was written."""
UNAVAILABLE = 69
"""arXiv refused or could not serve a request in a way retrying will not fix."""
INTERNAL = 70
"""A bug: an error the harvester did not expect."""
CANNOT_CREATE = 73
"""The database file, or the static site, cannot be created or written."""
DATABASE = 74
"""The database cannot be opened, read or written."""
TEMPORARY = 75
"""Nothing could be done now and every failure was temporary: try again later."""
INTERRUPTED = 130
"""Interrupted from the keyboard (128 + SIGINT)."""
PIPE_CLOSED = 141
"""The reader of the output went away (``| head``), as for a writer killed by SIGPIPE."""
TERMINATED = 143
"""Stopped by SIGTERM (128 + 15): the harvests it reached are ``stopped``, their leases
released."""


NOT_TRIED = (RunStatus.SKIPPED, RunStatus.STOPPED)
"""Authors another process had, or a shutdown reached first: neither success nor failure."""


def cycle_exit_code(outcomes: Iterable[tuple[RunStatus, bool]]) -> int:
    """A cycle's code from each author's ``(status, temporary)``, :data:`NOT_TRIED` aside:
    :data:`OK` if every author tried was harvested completely; :data:`TEMPORARY` if none
    was and every failure was temporary (or every author was skipped); else
    :data:`INCOMPLETE`."""
    tried = [(s, temporary) for s, temporary in outcomes if s not in NOT_TRIED]
    if tried and all(status == RunStatus.OK for status, _ in tried):
        return OK
    if all(status != RunStatus.OK and temporary for status, temporary in tried):
        return TEMPORARY
    return INCOMPLETE
