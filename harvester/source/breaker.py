"""A circuit breaker: stop asking a service that keeps failing.

Every request the source sends ends in a success or a failure; a *failure* is a
temporary one (timeouts, resets, 429/5xx, broken or empty pages), the kind a
struggling service produces. ``threshold`` failures in a row open the breaker;
any other outcome (a page, or a definite answer such as a rejected query) closes
the count again. The cycle resets it at its start, so each cycle gets a fresh
chance (``[arxiv] max_consecutive_failures``). A failure that says the service cannot be
reached at all (:class:`~harvester.errors.UnreachableError`, after its own retry) opens it
at once: :meth:`trip`, and :attr:`cause` says why.
"""

from __future__ import annotations

import threading

from ..errors import FetchError


class CircuitBreaker:
    """Counts consecutive failed requests; :attr:`open` once there were ``threshold``."""

    def __init__(self, threshold: int) -> None:
        if threshold < 1:
            raise ValueError("the threshold must be at least 1")
        self.threshold = threshold
        self._failures = 0
        self._cause: FetchError | None = None
        self._lock = threading.Lock()

    @property
    def failures(self) -> int:
        """Failed requests in a row so far."""
        return self._failures

    @property
    def cause(self) -> FetchError | None:
        """The failure that tripped the breaker open (:meth:`trip`), if one did."""
        return self._cause

    @property
    def open(self) -> bool:
        return self._failures >= self.threshold

    def record(self, *, failed: bool) -> None:
        """Count one request's outcome."""
        with self._lock:
            self._failures = self._failures + 1 if failed else 0
            if not failed:
                self._cause = None

    def trip(self, cause: FetchError) -> None:
        """Open now: asking again this cycle is pointless (``cause`` says why)."""
        with self._lock:
            self._failures = max(self._failures, self.threshold)
            self._cause = cause

    def reset(self) -> None:
        with self._lock:
            self._failures = 0
            self._cause = None
