"""An author's public ORCID record: the arXiv ids among its works (a second anchor).

``GET {api_url}/{orcid}/works`` with ``Accept: application/json`` (ORCID's public API v3.0,
https://info.orcid.org/documentation/api-tutorials/api-tutorial-read-data-on-a-record/)
answers the record's works grouped by external ids. A work is the author's arXiv paper when
one of its external ids is of type ``arxiv`` (``1507.05965``, ``arXiv:1507.05965``) or a DOI
of arXiv's DataCite prefix (``10.48550/arXiv.1507.05965``). The ids are returned as
written; the caller makes them canonical (:func:`harvester.normalise.claimed_ids`).

The client follows the query API's rules: a bounded, paced :class:`GuardedSession` (its own
pacer at ``[orcid] delay_seconds``, well under ORCID's 12 requests a second), retries by
tenacity on temporary failures only, at most one request per author and cycle apart from
retries. An iD ORCID does not know (HTTP 404) is :class:`~harvester.errors.UnknownOrcidError`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import tenacity

from ..config import ArxivSettings, OrcidSettings
from ..errors import (
    IncompleteResponseError,
    QueryRejectedError,
    StopRequested,
    TransientFetchError,
    UnknownOrcidError,
)
from ..pacer import Pacer
from .transport import GuardedSession

__all__ = ["OrcidRecords", "arxiv_ids_of", "works_url"]

_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(?P<id>\S+)", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"^arxiv:\s*", re.IGNORECASE)
JSON = "application/json"


def works_url(api_url: str, orcid: str) -> str:
    """``{api_url}/{orcid}/works``."""
    return f"{api_url.rstrip('/')}/{quote(orcid, safe='')}/works"


def arxiv_ids_of(body: bytes, url: str) -> tuple[str, ...]:
    """The arXiv ids of a works answer, in order, each once; a body that is not such an
    answer is an :class:`~harvester.errors.IncompleteResponseError` (retried)."""
    try:
        data = json.loads(body)
        groups = data["group"]
    except (ValueError, KeyError, TypeError) as exc:
        raise IncompleteResponseError(f"not an ORCID works answer: {exc}", url=url) from exc
    if not isinstance(groups, list):
        raise IncompleteResponseError("not an ORCID works answer: 'group' is no list", url=url)
    return tuple(dict.fromkeys(_arxiv_ids(groups)))


def _arxiv_ids(groups: list[Any]) -> Iterator[str]:
    for group in groups:
        if not isinstance(group, Mapping):
            continue
        summaries = group.get("work-summary") or []
        for holder in (group, *(s for s in summaries if isinstance(s, Mapping))):
            for external in _externals(holder):
                found = _arxiv_id(external)
                if found:
                    yield found


def _externals(holder: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ids = (holder.get("external-ids") or {}).get("external-id") or []
    return [e for e in ids if isinstance(e, Mapping)]


def _arxiv_id(external: Mapping[str, Any]) -> str | None:
    kind = str(external.get("external-id-type") or "").lower()
    value = str(external.get("external-id-value") or "").strip()
    if kind == "arxiv" and value:
        return _ARXIV_PREFIX.sub("", value)
    doi = _ARXIV_DOI.fullmatch(value) if kind == "doi" else None
    return doi.group("id") if doi else None


class OrcidRecords:
    """Reads public ORCID records (see the module docstring)."""

    def __init__(
        self,
        settings: OrcidSettings,
        client: ArxivSettings,
        *,
        pacer: Pacer | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.settings, self.client = settings, client
        self.stop_event = stop_event or threading.Event()
        self.pacer = pacer or Pacer(settings.delay_seconds, stop_event=self.stop_event)
        self._session = GuardedSession(
            pacer=self.pacer,
            timeout_seconds=client.timeout_seconds,
            max_bytes=client.max_response_bytes,
            user_agent=client.user_agent,
        )

    @property
    def requests_sent(self) -> int:
        return self._session.request_count

    def close(self) -> None:
        self._session.close()
        self.pacer.close()

    def arxiv_ids(self, orcid: str) -> tuple[str, ...]:
        """The arXiv ids among the works of ``orcid``'s public record."""
        url = works_url(self.settings.api_url, orcid)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientFetchError),
            stop=tenacity.stop_after_attempt(self.client.max_attempts)
            | tenacity.stop_before_delay(self.client.max_retry_seconds)
            | tenacity.stop_when_event_set(self.stop_event),
            wait=tenacity.wait_exponential_jitter(
                multiplier=max(self.settings.delay_seconds, 0.05), max=self.client.max_wait_seconds
            ),
            sleep=self._sleep,
            reraise=True,
        )
        found: tuple[str, ...] = retrying(self._request, url, orcid)
        return found

    def _request(self, url: str, orcid: str) -> tuple[str, ...]:
        try:
            body = self._session.fetch_body(url, accept=JSON).body
        except QueryRejectedError as exc:
            if "HTTP 404" not in exc.message:
                raise
            message = f"ORCID has no public record {orcid!r} (HTTP 404)"
            raise UnknownOrcidError(message, url=url) from exc
        return arxiv_ids_of(body, url)

    def _sleep(self, seconds: float) -> None:
        if self.stop_event.wait(seconds):
            raise StopRequested("stop requested while waiting to retry")
