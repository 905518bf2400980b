"""Log records on stderr, one line each; with syslog priorities when systemd collects them.

journald stores each line of a service's stderr as one entry, adds the timestamp itself and
reads a leading ``<N>`` as the entry's syslog priority (``SyslogLevelPrefix=``, on by
default; https://www.freedesktop.org/software/systemd/man/latest/sd-daemon.html). So under
systemd a record is ``<4>WARNING harvester.cycle: ...``; elsewhere ``WARNING harvester.cycle:
...``, optionally after a timestamp. Tracebacks (``-v``) are folded into the same line.

A value that came from outside (an entry id, a feed's junk) is logged cut (:func:`cut`,
:func:`listed`), and no line is longer than :data:`MAX_LINE_CHARS` whatever it holds: a
feed of 10,000 junk ids is one short line, not 10 MB.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

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

SHOWN_CHARS = 120
"""How much of one hostile value a log line repeats (as the parsers' messages do)."""
SHOWN_ITEMS = 5
"""How many values of a list a log line names before it says how many more there are."""
MAX_LINE_CHARS = 8000
"""No record is longer than this (a traceback with ``-v`` included): the rest is cut."""


def cut(value: object, chars: int = SHOWN_CHARS) -> str:
    """``value`` as text, cut after ``chars`` characters (``...`` and the length say so)."""
    text = str(value)
    if len(text) <= chars:
        return text
    return f"{text[:chars]}... ({len(text):,} characters)"


def listed(values: Iterable[object], shown: int = SHOWN_ITEMS) -> str:
    """The first ``shown`` values, each :func:`cut`, then how many more: ``'a', 'b' (and
    9,998 more)``."""
    items = list(values)
    more = len(items) - shown
    return ", ".join(repr(cut(v)) for v in items[:shown]) + (
        f" (and {more:,} more)" if more > 0 else ""
    )


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
        if len(text) > MAX_LINE_CHARS:
            text = f"{text[:MAX_LINE_CHARS]}... (cut: {len(text):,} characters)"
        if not self.journal:
            return text
        return f"<{_priority(record.levelno)}>{text}"


def _priority(levelno: int) -> int:
    for level in sorted(SYSLOG_PRIORITIES, reverse=True):
        if levelno >= level:
            return SYSLOG_PRIORITIES[level]
    return 7
