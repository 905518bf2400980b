"""Log records on stderr, one line each; with syslog priorities when systemd collects them.

journald stores each line of a service's stderr as one entry, adds the timestamp itself and
reads a leading ``<N>`` as the entry's syslog priority (``SyslogLevelPrefix=``, on by
default; https://www.freedesktop.org/software/systemd/man/latest/sd-daemon.html). So under
systemd a record is ``<4>WARNING harvester.cycle: ...``; elsewhere ``WARNING harvester.cycle:
...``, optionally after a timestamp. Tracebacks (``-v``) are folded into the same line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

SYSLOG_PRIORITIES = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}
"""Python level -> syslog priority (debug 7, info 6, warning 4, err 3, crit 2)."""

LINE_BREAK = " | "
"""What a newline inside a record (a traceback, a multi-line message) becomes."""


def under_systemd(environ: Mapping[str, str]) -> bool:
    """Whether systemd runs us (its journal then reads our stderr)."""
    return bool(environ.get("JOURNAL_STREAM") or environ.get("INVOCATION_ID"))


class OneLineFormatter(logging.Formatter):
    """``[<N>][time ]LEVEL logger: message``, never more than one line."""

    def __init__(self, *, journal: bool, timestamps: bool = False) -> None:
        stamp = "%(asctime)s " if timestamps and not journal else ""
        super().__init__(f"{stamp}%(levelname)s %(name)s: %(message)s")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = LINE_BREAK.join(line for line in super().format(record).splitlines() if line)
        if not self.journal:
            return text
        return f"<{_priority(record.levelno)}>{text}"


def _priority(levelno: int) -> int:
    for level in sorted(SYSLOG_PRIORITIES, reverse=True):
        if levelno >= level:
            return SYSLOG_PRIORITIES[level]
    return 7
