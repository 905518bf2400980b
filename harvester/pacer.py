"""The request pacer: at least ``delay_seconds`` between the starts of any two requests.

Neutral ground between :mod:`harvester.source`, which paces its requests with it, and
:mod:`harvester.store.pacing`, whose :class:`~harvester.store.pacing.DatabasePacer` extends
it to every process sharing a database; neither of them imports the other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import StopRequested

__all__ = ["Pacer"]


class Pacer:
    """Keeps at least ``delay_seconds`` between the starts of any two requests.

    One pacer is shared by every request of the process, across authors, as
    arXiv's terms of use ask (one request every three seconds). ``stop_event``
    cuts a wait short with :class:`StopRequested`.
    """

    def __init__(
        self,
        delay_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.delay_seconds = delay_seconds
        self._clock = clock
        self._stop = stop_event or threading.Event()
        self._lock = threading.Lock()
        self._last_start: float | None = None

    def close(self) -> None:
        """Release what the pacer holds (nothing here; see DatabasePacer)."""

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One request's turn: wait for its start, hold the turn until it has ended.

        Within a process requests are sent one at a time anyway; a pacer shared between
        processes (:class:`~harvester.store.pacing.DatabasePacer`) also keeps their
        connections from overlapping.
        """
        self.wait()
        yield

    def wait(self) -> None:
        """Block until a request may start, then claim that start time."""
        with self._lock:
            if self._last_start is not None:
                remaining = self._last_start + self.delay_seconds - self._clock()
                if remaining > 0 and self._stop.wait(remaining):
                    raise StopRequested("stop requested while waiting to send a request")
            if self._stop.is_set():
                raise StopRequested("stop requested before sending a request")
            self._last_start = self._clock()
