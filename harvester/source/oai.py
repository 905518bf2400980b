"""arXiv's OAI-PMH service (https://info.arxiv.org/help/oa/index.html): bulk harvesting.

No OAI-PMH library is used for the requests: ``sickle`` and ``oaipmh-scythe`` each bring
their own HTTP client (requests, httpx) with their own retries and no size cap, no deadline
over a whole exchange and no pacing shared with the rest of the process, while the
protocol itself is a URL per request, a resumption token and four error codes. So every
request goes through :meth:`ArxivSource.request` (one session and so one connection, the
shared pacer, timeouts and total deadline, the size cap, retries that obey ``Retry-After``
within ``[arxiv] max_wait_seconds``, the circuit breaker), and
:mod:`harvester.source.oaipage` parses the answers.

The faults arXiv's service is known for, handled as the protocol says:

* ``503`` with ``Retry-After``: waited for, then asked again (the source's retries);
* ``badResumptionToken`` (tokens expire at midnight UTC): the window is asked again from
  its start, at most :data:`MAX_RESTARTS` times; records already handed out are not
  handed out again;
* ``noRecordsMatch``: a quiet day, an empty and complete window;
* a record repeated across pages (offset paging over a list that moves): handed out once,
  again only with a newer datestamp;
* a ``from`` earlier than the service's earliest datestamp (``badArgument``): the window
  starts at the earliest datestamp instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from ..errors import OaiProtocolError
from ..records import OaiRecord
from .api import ArxivSource
from .oaipage import Identity, OaiPage, parse_identify, parse_list
from .transport import check_oai

__all__ = ["MAX_RESTARTS", "OaiClient", "WindowReport"]

logger = logging.getLogger(__name__)

MAX_RESTARTS = 3
"""How often one window is asked again from its start after an expired token."""
RAW = "arXivRaw"


@dataclass
class WindowReport:
    """What harvesting one window took and found."""

    set_spec: str | None
    start: date | None
    until: date | None = None
    pages: int = 0
    records: int = 0
    repeated: int = 0
    restarts: int = 0
    newest: date | None = None
    complete: bool = False
    problems: list[str] = field(default_factory=list)


class OaiClient:
    """``ListRecords``, ``GetRecord`` and ``Identify`` of the service at ``base_url``,
    through ``source`` (whose session, pacer and retries every request shares)."""

    def __init__(self, source: ArxivSource, base_url: str) -> None:
        self.source = source
        self.base_url = base_url
        self._identity: Identity | None = None

    @property
    def requests_sent(self) -> int:
        return self.source.requests_sent

    def identify(self) -> Identity:
        """The service's ``Identify`` (asked once per client)."""
        if self._identity is None:
            url = self._url(verb="Identify")
            self._identity = self.source.request(url, parse_identify, check_oai)
        return self._identity

    def get_record(self, arxiv_id: str, prefix: str = RAW) -> OaiRecord | None:
        """One paper's record; None when the service does not know the id."""
        url = self._url(verb="GetRecord", identifier=f"oai:arXiv.org:{arxiv_id}",
                        metadataPrefix=prefix)  # fmt: skip
        try:
            page = self.source.request(url, _get_record, check_oai)
        except OaiProtocolError as exc:
            if exc.code == "idDoesNotExist":
                return None
            raise
        return page.records[0] if page.records else None

    def list_records(
        self,
        report: WindowReport,
        *,
        prefix: str = RAW,
    ) -> Iterator[OaiRecord]:
        """Every record of the window ``report`` names (set, ``from``, ``until``), each
        handed out once, page by page; ``report`` counts as it goes and says ``complete``
        once the last page has been read."""
        seen: dict[str, date] = {}
        while True:
            try:
                yield from self._window(report, prefix, seen)
            except OaiProtocolError as exc:
                if not self._recover(exc, report):
                    raise
                continue
            report.complete = True
            return

    def _recover(self, exc: OaiProtocolError, report: WindowReport) -> bool:
        """Whether the window can be asked again (and ``report`` now says how)."""
        if exc.code == "badResumptionToken" and report.restarts < MAX_RESTARTS:
            report.restarts += 1
            logger.warning("resumption token refused (%s): asking the window again", exc.detail)
            return True
        if exc.code == "badArgument" and report.start is not None and report.pages == 0:
            earliest = self.identify().earliest
            if report.start < earliest:
                logger.info("from %s is before the earliest datestamp %s", report.start, earliest)
                report.start = earliest
                return True
        return False

    def _window(
        self, report: WindowReport, prefix: str, seen: dict[str, date]
    ) -> Iterator[OaiRecord]:
        url: str | None = self._url(
            verb="ListRecords",
            metadataPrefix=prefix,
            set=report.set_spec,
            **{"from": _iso(report.start), "until": _iso(report.until)},
        )
        while url is not None:
            page = self.source.request(url, parse_list, check_oai)
            report.pages += 1
            report.problems += page.problems
            for record in page.records:
                if seen.get(record.arxiv_id, date.min) >= record.datestamp:
                    report.repeated += 1
                    continue
                seen[record.arxiv_id] = record.datestamp
                report.records += 1
                if report.newest is None or record.datestamp > report.newest:
                    report.newest = record.datestamp
                yield record
            url = self._url(verb="ListRecords", resumptionToken=page.token) if page.token else None

    def _url(self, **params: str | None) -> str:
        given = {key: value for key, value in params.items() if value}
        return f"{self.base_url}?{urlencode(given)}"


def _get_record(body: bytes, url: str) -> OaiPage:
    return parse_list(body, url, "GetRecord")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
