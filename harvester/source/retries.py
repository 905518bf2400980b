"""How one request is retried (tenacity), the policies :class:`~harvester.source.api.ArxivSource`
combines: never sooner than a ``Retry-After`` and not at all past our cap; each kind of
fault with its own budget (:class:`RetryBudgets`); not once the endpoint's circuit breaker
is open; one log line per retry."""

from __future__ import annotations

import logging

import tenacity

from ..errors import FetchError, HTTPStatusError, UnreachableError
from .breaker import CircuitBreaker

logger = logging.getLogger(__name__)


def retry_after(state: tenacity.RetryCallState) -> float | None:
    exc = failure(state)
    return exc.retry_after if isinstance(exc, HTTPStatusError) else None


class StopIfRetryAfterExceeds(tenacity.stop.stop_base):
    """Give up rather than ask again before a ``Retry-After`` longer than our cap."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        asked = retry_after(retry_state)
        return asked is not None and asked > self.cap


class RetryBudgets(tenacity.stop.stop_base):
    """Each kind of fault keeps its own budget of attempts, counted over the attempts that
    failed with that kind only: ``budgets`` (``{kind: attempts}``) for the kinds asked about
    once more, ``others`` (``[arxiv] max_attempts``) for every other fault together. A page
    with invalid entries is asked about once more (a truncated transfer can look like a bad
    entry; still invalid, they are arXiv's data, not a passing fault), and a truncation or
    a 503 before does not spend that retry; a host that cannot be reached, too (twice in a
    row, the network is down or the URL wrong, and backing off for minutes would only hide
    it). So one request is tried at most ``others`` plus one or two times, and
    ``max_retry_seconds`` bounds it in time. One object per request: it remembers the kind
    each attempt failed with."""

    def __init__(self, budgets: dict[type[FetchError], int], *, others: int) -> None:
        self.budgets = budgets
        self.others = others
        self._failed: dict[int, type[BaseException] | None] = {}

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        failed = failure(retry_state)
        kind = next((k for k in self.budgets if isinstance(failed, k)), None)
        self._failed[retry_state.attempt_number] = kind
        spent = sum(1 for seen in self._failed.values() if seen is kind)
        return spent >= (self.others if kind is None else self.budgets[kind])


def failure(state: tenacity.RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None


def log_retry(state: tenacity.RetryCallState) -> None:
    """One line per retry: a warning, but only information for an unreachable host (the
    cycle's end says it once, in one line)."""
    failed = failure(state)
    level = logging.INFO if isinstance(failed, UnreachableError) else logging.WARNING
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    message = failed.message if isinstance(failed, FetchError) else repr(failed)
    logger.log(level, "retrying in %.1f s (attempt %d): %s", wait, state.attempt_number, message)


class StopIfBreakerOpen(tenacity.stop.stop_base):
    """Stop retrying once the cycle's circuit breaker has opened."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self.breaker = breaker

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.breaker.open
