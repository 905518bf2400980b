"""The one boundary of ``apprise``: a target's URL opened as a service, a message sent to it
with retries, and every secret the URL holds kept out of logs and errors.

- One ``Apprise`` object per target: ``notify()`` answers one boolean for all its targets.
- Retries with backoff are ours (``tenacity``, :data:`RETRY`); apprise's own are left off.
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
VENDOR_LOGGERS = ("apprise", "urllib3.connectionpool")
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
    def guarding(self, *, debug_only: bool = False) -> Iterator[None]:
        """While inside, the vendors' log records pass through :meth:`filter`;
        ``debug_only``: records above DEBUG are dropped (our own error says it)."""
        guard: logging.Filter = _DebugOnly(self) if debug_only else self
        loggers = [logging.getLogger(name) for name in VENDOR_LOGGERS]
        for each in loggers:
            each.addFilter(guard)
        try:
            yield
        finally:
            for each in loggers:
                each.removeFilter(guard)


class _DebugOnly(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno <= logging.DEBUG and self.redactor.filter(record)


def _secret_parts(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.username or "", parts.password or ""]
    found += [unquote(s) for s in parts.path.split("/")] + parts.path.split("/")
    found += [v for _, v in parse_qsl(parts.query)] + parts.query.split("&")
    if "@" in parts.netloc or not parts.path.strip("/"):  # slack://TOKEN/...: host is secret
        found.append(parts.hostname or "")
    return found


class Service:
    """One target, opened: :meth:`send` delivers a message or raises :class:`DeliveryError`."""

    def __init__(self, target: NotifySettings, config_path: Path) -> None:
        self.name = target.name
        self.redactor = Redactor([target.url])
        self.apprise = apprise.Apprise()
        with self.redactor.guarding(debug_only=True):
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
            raise DeliveryError(exc.message, attempts=tries) from None
        return tries

    def _send_once(self, message: Message) -> None:
        result = self.apprise.notify(
            body=message.body, title=message.title, body_format=apprise.NotifyFormat.MARKDOWN
        )
        if not result:
            reason = self.redactor.mask(_reason(result))
            raise DeliveryError(f"notify target {self.name}: not delivered: {reason}")


def _reason(result: apprise.AppriseResult) -> str:
    """The last warning apprise noted while sending, else its status."""
    lines = [
        entry.message
        for each in result.results
        for entry in each.logs()
        if entry.level in ("WARNING", "ERROR", "CRITICAL")
    ]
    return " ".join(lines[-1].split()) if lines else f"the service answered {result.status!r}"
