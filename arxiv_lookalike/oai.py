"""The look-alike's OAI-PMH endpoint, ``/oai``, from the same corpus as its search API.

Verbs: ``Identify``, ``ListSets``, ``ListMetadataFormats``, ``ListRecords``,
``ListIdentifiers`` and ``GetRecord``; formats ``arXivRaw`` and ``arXiv``
(:mod:`arxiv_lookalike.oai_records`). As arXiv's service (see the project's OAI-PMH
reference and https://www.openarchives.org/OAI/openarchivesprotocol.html):

* records are ordered by (datestamp, id); ``from``/``until`` select by datestamp (day
  granularity); a ``from`` before the earliest datestamp is ``badArgument``; an empty
  selection is ``noRecordsMatch``; a set selects itself and the sets below it;
* a page holds ``page_size`` records; the resumption token is an opaque offset into that
  order and expires at the next midnight UTC (``badResumptionToken``), or at once after
  :meth:`OaiService.expire_tokens`; the corpus is live, so a record revised mid-harvest
  moves to the end of the order: it can be repeated, and another skipped, as on arXiv;
* ``shape="2025"`` (the service since 2025: three-part set specs, no token on the last
  page) or ``"2015"`` (two-part set specs, an empty token with ``cursor`` and
  ``completeListSize`` on the last page);
* errors are HTTP 200 with an ``<error code=...>``, as the protocol says.

``repeat_records`` makes every later page start again with the last record of the page
before it (a record repeated across pages, as offset paging over a moving list does).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from arxiv_lookalike.corpus import Corpus
from arxiv_lookalike.oai_records import (
    PaperRecord,
    arxiv_raw_xml,
    arxiv_xml,
    attributes,
    header_xml,
    in_set,
    paper_record,
)

__all__ = ["EARLIEST_DATESTAMP", "OAI_PATH", "OaiService"]

OAI_PATH = "/oai"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
EARLIEST_DATESTAMP = date(2005, 9, 16)
PAGE_SIZE = 2500
FORMATS = {
    "arXivRaw": "http://arxiv.org/OAI/arXivRaw/",
    "arXiv": "http://arxiv.org/OAI/arXiv/",
}
_LIST_ARGS = {"metadataPrefix", "from", "until", "set"}
_ALLOWED = {
    "Identify": set(),
    "ListSets": {"resumptionToken"},
    "ListMetadataFormats": {"identifier"},
    "ListRecords": _LIST_ARGS | {"resumptionToken"},
    "ListIdentifiers": _LIST_ARGS | {"resumptionToken"},
    "GetRecord": {"identifier", "metadataPrefix"},
}


class OaiProblem(Exception):
    """An OAI-PMH error: its ``code`` and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ListQuery:
    prefix: str
    set_spec: str | None
    start: date | None
    until: date | None
    offset: int = 0


class OaiService:
    """Answers OAI-PMH requests from ``corpus`` (read live, so changes show at once)."""

    def __init__(
        self,
        corpus: Corpus,
        *,
        base_url: Callable[[], str],
        page_size: int = PAGE_SIZE,
        earliest: date = EARLIEST_DATESTAMP,
        shape: str = "2025",
    ) -> None:
        self.corpus = corpus
        self.page_size = page_size
        self.earliest = earliest
        self.shape = shape
        self.repeat_records = False
        self._base_url = base_url
        self._epoch = 0
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, str], tuple[PaperRecord, ...]] | None = None

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (as at midnight UTC)."""
        with self._lock:
            self._epoch += 1

    def answer(self, params: Mapping[str, str], now: datetime) -> bytes:
        """The XML body (always HTTP 200) of one request."""
        verb = params.get("verb", "")
        try:
            body = self._verb(verb, params, now)
        except OaiProblem as problem:
            request = f"<request>{self._base_url()}</request>"
            body = f'{request}<error code="{problem.code}">{_text(problem.message)}</error>'
        else:
            request = f"<request{attributes(dict(params))}>{self._base_url()}</request>"
            body = request + body
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI_NS}"><responseDate>{stamp}</responseDate>{body}</OAI-PMH>\n'
        ).encode()

    # --- verbs ---------------------------------------------------------------------------

    def _verb(self, verb: str, params: Mapping[str, str], now: datetime) -> str:
        if verb not in _ALLOWED:
            raise OaiProblem("badVerb", f"Illegal verb {verb!r}")
        extra = set(params) - _ALLOWED[verb] - {"verb"}
        if extra:
            raise OaiProblem("badArgument", f"Illegal arguments for {verb}: {sorted(extra)}")
        if verb == "Identify":
            return self._identify()
        if verb == "ListSets":
            return self._list_sets()
        if verb == "ListMetadataFormats":
            return (
                "<ListMetadataFormats>"
                + "".join(
                    f"<metadataFormat><metadataPrefix>{p}</metadataPrefix>"
                    f"<metadataNamespace>{ns}</metadataNamespace></metadataFormat>"
                    for p, ns in FORMATS.items()
                )
                + "</ListMetadataFormats>"
            )
        if verb == "GetRecord":
            return self._get_record(params)
        return self._list(verb, params, now)

    def _identify(self) -> str:
        return (
            "<Identify><repositoryName>arXiv</repositoryName>"
            f"<baseURL>{self._base_url()}</baseURL><protocolVersion>2.0</protocolVersion>"
            "<adminEmail>help@arxiv.org</adminEmail>"
            f"<earliestDatestamp>{self.earliest.isoformat()}</earliestDatestamp>"
            "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DD</granularity>"
            "</Identify>"
        )

    def _list_sets(self) -> str:
        specs = sorted({spec for r in self._records() for spec in _with_parents(r.sets)})
        return (
            "<ListSets>"
            + "".join(f"<set><setSpec>{s}</setSpec><setName>{s}</setName></set>" for s in specs)
            + "</ListSets>"
        )

    def _get_record(self, params: Mapping[str, str]) -> str:
        prefix = _prefix(params)
        wanted = params.get("identifier", "").removeprefix("oai:arXiv.org:")
        found = next((r for r in self._records() if r.paper.arxiv_id == wanted), None)
        if found is None:
            raise OaiProblem("idDoesNotExist", f"{params.get('identifier')!r} is unknown")
        return f"<GetRecord>{self._record_xml(found, prefix)}</GetRecord>"

    def _list(self, verb: str, params: Mapping[str, str], now: datetime) -> str:
        query = self._decode(params["resumptionToken"], now) if "resumptionToken" in params \
            else self._query(params)  # fmt: skip
        selected = [
            r for r in self._records()
            if in_set(r, query.set_spec)
            and (query.start is None or r.datestamp >= query.start)
            and (query.until is None or r.datestamp <= query.until)
        ]  # fmt: skip
        if not selected:
            raise OaiProblem("noRecordsMatch", "No records match the request")
        begin = query.offset
        if self.repeat_records and begin > 0:
            begin -= 1
        page = selected[begin : query.offset + self.page_size]
        end = query.offset + self.page_size
        more = end < len(selected)
        token = self._token(query, end, now) if more else ""
        if verb == "ListIdentifiers":
            items = "".join(header_xml(r) for r in page)
        else:
            items = "".join(self._record_xml(r, query.prefix) for r in page)
        return f"<{verb}>{items}{self._token_xml(token, query.offset, len(selected))}</{verb}>"

    def _token_xml(self, token: str, cursor: int, size: int) -> str:
        if self.shape == "2015":
            counts = f'cursor="{cursor}" completeListSize="{size}"'
            return f"<resumptionToken {counts}>{token}</resumptionToken>"
        return f"<resumptionToken>{token}</resumptionToken>" if token else ""

    def _record_xml(self, record: PaperRecord, prefix: str) -> str:
        new_shape = self.shape != "2015"
        metadata = (
            arxiv_raw_xml(record)
            if prefix == "arXivRaw"
            else arxiv_xml(record, new_shape=new_shape)
        )
        return f"<record>{header_xml(record)}<metadata>{metadata}</metadata></record>"

    # --- queries and tokens --------------------------------------------------------------

    def _query(self, params: Mapping[str, str]) -> ListQuery:
        prefix = _prefix(params)
        start, until = _day(params, "from"), _day(params, "until")
        if start is not None and start < self.earliest:
            raise OaiProblem(
                "badArgument", f"from {start} is before the earliest datestamp {self.earliest}"
            )
        if start is not None and until is not None and until < start:
            raise OaiProblem("badArgument", "until is before from")
        return ListQuery(prefix, params.get("set") or None, start, until)

    def _token(self, query: ListQuery, offset: int, now: datetime) -> str:
        with self._lock:
            epoch = self._epoch
        data = [epoch, now.astimezone(UTC).date().isoformat(), offset, query.prefix,
                query.set_spec, _iso(query.start), _iso(query.until)]  # fmt: skip
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    def _decode(self, token: str, now: datetime) -> ListQuery:
        try:
            padded = token + "=" * (-len(token) % 4)
            epoch, issued, offset, prefix, set_spec, start, until = json.loads(
                base64.urlsafe_b64decode(padded.encode())
            )
        except (ValueError, TypeError, binascii.Error):
            raise OaiProblem("badResumptionToken", "The resumptionToken is illegal") from None
        with self._lock:
            current = self._epoch
        if epoch != current or issued != now.astimezone(UTC).date().isoformat():
            raise OaiProblem("badResumptionToken", "The resumptionToken has expired")
        return ListQuery(prefix, set_spec, _parse_iso(start), _parse_iso(until), int(offset))

    def _records(self) -> tuple[PaperRecord, ...]:
        version, papers = self.corpus.snapshot()
        key = (version, self.shape)
        with self._lock:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
        records = tuple(sorted(
            (self._dated(paper_record(p, new_shape=self.shape != "2015")) for p in papers),
            key=lambda r: r.key,
        ))  # fmt: skip
        with self._lock:
            self._cache = (key, records)
        return records

    def _dated(self, record: PaperRecord) -> PaperRecord:
        """No datestamp before the earliest: arXiv's records all were touched since."""
        return replace(record, datestamp=max(record.datestamp, self.earliest))


def _prefix(params: Mapping[str, str]) -> str:
    prefix = params.get("metadataPrefix")
    if not prefix:
        raise OaiProblem("badArgument", "metadataPrefix is required")
    if prefix not in FORMATS:
        raise OaiProblem("cannotDisseminateFormat", f"{prefix!r} is not supported")
    return prefix


def _day(params: Mapping[str, str], name: str) -> date | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OaiProblem("badArgument", f"{name} {text!r} is not YYYY-MM-DD") from None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _parse_iso(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _with_parents(specs: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for spec in specs:
        parts = spec.split(":")
        found.update(":".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def _text(message: str) -> str:
    return message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
