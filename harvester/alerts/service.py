"""The one boundary of ``apprise``: a target's URL opened as a service, a message sent to it
with retries, and every secret the URL holds kept out of logs and errors.

- One ``Apprise`` object per target: ``notify()`` answers one boolean for all its targets.
- Retries with backoff are ours (``tenacity``: :data:`ATTEMPTS` tries); apprise's own are off.
- Secrets: apprise's ``url(privacy=True)`` hides a password but prints a path token in
  full, and so do apprise's DEBUG lines and urllib3's request line. :class:`Redactor` masks
  every part of the URL that may be secret (user, password, each path segment, each query
  value) in the log records of ``apprise`` and ``urllib3`` while a message is sent, and in
  the reason a delivery failed. Nothing of ours prints a target's URL: a target is named.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ..config import NotifySettings
from ..errors import ConfigError, DeliveryError
from .compose import Message

logger = logging.getLogger(__name__)

ATTEMPTS = 3
"""Tries of one message in one delivery (then it waits in the outbox for the next cycle)."""
FIRST_WAIT_SECONDS = 0.2
MAX_WAIT_SECONDS = 5.0
APPRISE_LOGGER = apprise.LOGGER_NAME
URLLIB3_LOGGER = "urllib3.connectionpool"
MIN_SECRET_CHARS = 3
"""Parts of a URL shorter than this are not masked (``/v1/`` is not a secret)."""


class Redactor(logging.Filter):
    """Masks the secret parts of ``urls`` in text and in log records."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        parts = {p for url in urls for p in _secret_parts(url) if len(p) >= MIN_SECRET_CHARS}
        ordered = sorted(parts, key=len, reverse=True)  # longest first: no partial leftovers
        self.pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def mask(self, text: str) -> str:
        return self.pattern.sub("***", text) if self.pattern is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        return True

    @contextmanager
    def guarding(self) -> Iterator[None]:
        """While inside, urllib3's records are masked, and apprise's reach the log only as
        masked DEBUG lines of ours (its warnings would repeat what a
        :class:`DeliveryError` says once); apprise still sees them, for its results."""
        pool = logging.getLogger(URLLIB3_LOGGER)
        vendor = logging.getLogger(APPRISE_LOGGER)
        forward = _Forward(self)
        propagate = vendor.propagate
        pool.addFilter(self)
        vendor.addHandler(forward)
        vendor.propagate = False
        try:
            yield
        finally:
            vendor.propagate = propagate
            vendor.removeHandler(forward)
            pool.removeFilter(self)


class _Forward(logging.Handler):
    """apprise's records, masked, as DEBUG lines of this module's logger."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(logging.DEBUG)
        self.redactor = redactor

    def emit(self, record: logging.LogRecord) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("apprise: %s", self.redactor.mask(record.getMessage()))


def _secret_parts(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.username or "", parts.password or ""]
    found += [unquote(s) for s in parts.path.split("/")] + parts.path.split("/")
    found += [v for _, v in parse_qsl(parts.query)] + parts.query.split("&")
    host = parts.netloc.rpartition("@")[2].partition(":")[0]  # as written, not lower-cased
    if "." not in host and ":" not in host and host != "localhost":  # slack://TOKEN/...
        found.append(host)
    return found


class Service:
    """One target, opened: :meth:`send` delivers a message or raises :class:`DeliveryError`."""

    def __init__(self, target: NotifySettings, config_path: Path) -> None:
        self.name = target.name
        self.redactor = Redactor([target.url])
        self.apprise = apprise.Apprise()
        with self.redactor.guarding():
            known = self.apprise.add(target.url)
        if not known:
            raise ConfigError(
                config_path,
                f"notify target {target.name}",
                "the url is not one of a service apprise knows (see apprise's list of services)",
            )

    def send(self, message: Message, attempts: int = ATTEMPTS) -> int:
        """Deliver ``message``, retrying with exponential backoff; returns the tries it
        took. :class:`DeliveryError` (with its ``attempts``) when every try failed."""
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=FIRST_WAIT_SECONDS, max=MAX_WAIT_SECONDS),
            retry=retry_if_exception_type(DeliveryError),
            reraise=True,
        )
        tries = 0
        try:
            with self.redactor.guarding():
                for attempt in retrying:
                    with attempt:
                        tries += 1
                        self._send_once(message)
        except DeliveryError as exc:
            raise DeliveryError(self.name, exc.reason, attempts=tries) from None
        return tries

    def _send_once(self, message: Message) -> None:
        result = self.apprise.notify(
            body=message.body, title=message.title, body_format=apprise.NotifyFormat.MARKDOWN
        )
        if not result:
            reason = self.redactor.mask(_reason(result))
            raise DeliveryError(self.name, reason)


def _reason(result: apprise.AppriseResult) -> str:
    """The last warning apprise noted while sending, else its status."""
    lines = [
        entry.message
        for each in result.results
        for entry in each.logs()
        if entry.level in ("WARNING", "ERROR", "CRITICAL")
    ]
    return " ".join(lines[-1].split()) if lines else f"the service answered {result.status!r}"
