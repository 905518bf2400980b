"""The sd_notify protocol: telling systemd we are ready, what we do, that we are alive.

A notification is one datagram of ``KEY=value`` lines sent to the unix socket named in
``$NOTIFY_SOCKET`` (a path, or an abstract name written with a leading ``@``); see
https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html. That is a dozen
lines of standard library, so we carry them rather than a dependency: ``systemd-python``
needs libsystemd headers and a compiler, and the small pure-Python packages are unmaintained.

Without ``$NOTIFY_SOCKET`` (not under systemd, or not ``Type=notify``) every call is a
no-op, and a failing send is logged, never raised: notifications must not stop a harvest.
A send never waits: a datagram socket blocks the sender while the reader's queue is full,
and a reader that stopped reading would then hang the daemon's main thread (and with it
SIGHUP, SIGTERM and the watchdog). A message that finds the queue full is dropped.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

logger = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to ``environ["NOTIFY_SOCKET"]``, if set."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self.address = _address(environ.get("NOTIFY_SOCKET", ""))
        self.watchdog_seconds = _watchdog_seconds(environ)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: str) -> bool:
        """One datagram of ``KEY=value`` lines; True if it was sent."""
        if self.address is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode("utf-8"), socket.MSG_DONTWAIT, self.address)
        except OSError as exc:
            logger.warning("sd_notify to %r failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(READY="1", STATUS=_one_line(status))

    def status(self, status: str) -> bool:
        return self.send(STATUS=_one_line(status))

    def watchdog(self) -> bool:
        return self.send(WATCHDOG="1")

    def stopping(self, status: str) -> bool:
        return self.send(STOPPING="1", STATUS=_one_line(status))


def _address(value: str) -> str | bytes | None:
    """``@name`` is an abstract socket: a leading NUL byte on the wire."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    logger.warning("ignoring NOTIFY_SOCKET=%r: not a path or an @abstract name", value)
    return None


def _watchdog_seconds(environ: Mapping[str, str]) -> float | None:
    """``WATCHDOG_USEC`` in seconds, if it is meant for this process (``WATCHDOG_PID``)."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000


def _one_line(text: str) -> str:
    return " ".join(text.split())
