"""ORCID public records, ``/orcid/{orcid}/works``, the way ORCID's public API v3.0 writes them.

``GET https://pub.orcid.org/v3.0/{orcid}/works`` (``Accept: application/json``) answers the
works of a record grouped by their external ids: ``{"group": [{"external-ids":
{"external-id": [{"external-id-type": "arxiv", "external-id-value": "1507.05965", ...}]},
"work-summary": [{"title": {"title": {"value": ...}}, "external-ids": {...}, ...}]}]}``
(https://info.orcid.org/documentation/api-tutorials/api-tutorial-read-data-on-a-record/).
Here every corpus paper an ORCID iD claims (``claimants``) is one group with an ``arxiv``
external id, and every second one also carries arXiv's DataCite DOI
(``10.48550/arXiv.{id}``), as ORCID's arXiv import writes it. An iD nobody has is
``404 Not Found`` with ORCID's JSON error body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from arxiv_lookalike.corpus import CorpusPaper

__all__ = ["JSON_CONTENT_TYPE", "ORCID_WORKS", "render_missing", "render_works"]

ORCID_WORKS = re.compile(r"/orcid/(?P<orcid>\d{4}-\d{4}-\d{4}-\d{3}[\dX])/works")
"""The path of a record's works (the look-alike's stand-in for ``{api_url}/{orcid}/works``)."""
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


def render_works(orcid: str, papers: Sequence[CorpusPaper]) -> bytes:
    """The works of ``orcid``: one group per paper, newest first."""
    groups = [_group(orcid, k, p) for k, p in enumerate(sorted(papers, key=_newest))]
    body = {"last-modified-date": None, "group": groups, "path": f"/{orcid}/works"}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def render_missing(orcid: str) -> bytes:
    """ORCID's answer to an iD that does not exist (HTTP 404)."""
    error = {
        "response-code": 404,
        "developer-message": f"404 Not Found: The resource was not found. ORCID {orcid}",
        "user-message": "The resource was not found.",
        "error-code": 9016,
    }
    return json.dumps(error).encode("utf-8")


def _newest(paper: CorpusPaper) -> tuple[str, str]:
    return (str(paper.published), paper.arxiv_id)


def _group(orcid: str, number: int, paper: CorpusPaper) -> dict[str, object]:
    ids = [_external("arxiv", paper.arxiv_id)]
    if number % 2:
        ids.append(_external("doi", f"10.48550/arXiv.{paper.arxiv_id}"))
    external = {"external-id": ids}
    summary = {
        "put-code": 100000 + number,
        "path": f"/{orcid}/work/{100000 + number}",
        "title": {"title": {"value": paper.title}},
        "external-ids": external,
        "type": "preprint",
        "publication-date": {"year": {"value": str(paper.published.year)}},
    }
    return {"external-ids": external, "work-summary": [summary]}


def _external(kind: str, value: str) -> dict[str, object]:
    return {
        "external-id-type": kind,
        "external-id-value": value,
        "external-id-url": None,
        "external-id-relationship": "self",
    }
