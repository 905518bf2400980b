"""SIGTERM during ``harvest --once``: a stop, not a crash.

The cycle runs in the main thread, which the signal interrupts wherever it is, so the
handler only writes a byte to a pipe (setting a ``threading.Event`` from a handler can
deadlock the very thread it interrupts, as :mod:`harvester.daemon` notes). A watcher thread
reads it and sets the cycle's stop event: no new author starts, pacer waits and retry
sleeps end at once (:class:`~harvester.errors.StopRequested`), the author being written
commits or rolls back, and the runs the stop reaches end ``stopped`` with their leases
released (:mod:`harvester.cycle.query`). A request in flight cannot be cut from outside:
after :data:`STOP_GRACE_SECONDS` the watcher calls ``leave``, which closes this process's
runs as ``stopped``, releases its leases and ends the process, as the daemon does.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

STOP_GRACE_SECONDS = 5.0
"""How long a stop waits for the harvest in flight before leaving without it (the daemon's
grace too: systemd and supervisors expect a stop within seconds)."""

_SIGTERM = b"T"
_DONE = b"D"


class SigtermStop:
    """``with SigtermStop(leave) as stop:`` SIGTERM sets ``stop.event``; ``leave`` runs (in
    the watcher thread, and must end the process) when the block has not ended
    :data:`STOP_GRACE_SECONDS` later. Outside the main thread it changes nothing (Python
    delivers signals there only)."""

    def __init__(self, leave: Callable[[], Any], grace: float = STOP_GRACE_SECONDS) -> None:
        self.event = threading.Event()
        self.requested = False
        self._leave = leave
        self._grace = grace
        self._done = threading.Event()
        self._pipe: tuple[int, int] | None = None
        self._previous: Any = None
        self._watcher: threading.Thread | None = None

    def __enter__(self) -> SigtermStop:
        if threading.current_thread() is not threading.main_thread():
            return self
        self._pipe = os.pipe()
        self._watcher = threading.Thread(target=self._watch, name="sigterm", daemon=True)
        self._watcher.start()
        self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pipe is None or self._watcher is None:
            return
        signal.signal(signal.SIGTERM, self._previous)
        self._done.set()
        os.write(self._pipe[1], _DONE)
        self._watcher.join()
        for fd in self._pipe:
            os.close(fd)
        self._pipe = None

    def _on_sigterm(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        if self._pipe is not None:
            os.write(self._pipe[1], _SIGTERM)

    def _watch(self) -> None:
        assert self._pipe is not None
        if os.read(self._pipe[0], 1) != _SIGTERM:
            return
        self.event.set()
        if not self._done.wait(self._grace):
            self._leave()
