"""The corpus written as arXiv's public metadata snapshot (JSON lines, plain or gzip), for
``harvest import`` tests and benchmarks: the same papers the search API and ``/oai`` serve.

One record a line, with the snapshot's keys: ``id``, ``submitter``, ``authors`` (the raw
string, TeX accents as submitters write them), ``authors_parsed`` (``[last, first, suffix,
affiliation...]``, Unicode), ``title``, ``comments``, ``journal-ref``, ``doi``,
``categories``, ``license``, ``abstract``, ``versions`` (``{"version": "v1", "created":
RFC 2822}``) and ``update_date``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arxiv_lookalike.corpus import CorpusPaper
from arxiv_lookalike.oai_records import paper_record, raw_authors, rfc2822

__all__ = ["snapshot_record", "write_snapshot"]


def snapshot_record(paper: CorpusPaper) -> dict[str, Any]:
    record = paper_record(paper)
    return {
        "id": paper.arxiv_id,
        "submitter": paper.authors[0].name if paper.authors else None,
        "authors": raw_authors(paper.authors),
        "title": paper.title,
        "comments": paper.comment,
        "journal-ref": paper.journal_ref,
        "doi": paper.doi,
        "report-no": None,
        "categories": " ".join(paper.categories),
        "license": None,
        "abstract": paper.summary,
        "versions": [
            {"version": f"v{v.number}", "created": rfc2822(v.submitted)} for v in record.versions
        ],
        "update_date": record.datestamp.isoformat(),
        "authors_parsed": [_parsed(a.name, a.affiliations) for a in paper.authors],
    }


def _parsed(name: str, affiliations: tuple[str, ...]) -> list[str]:
    *first, last = name.split() or [""]
    return [last, " ".join(first), "", *affiliations]


def write_snapshot(papers: Iterable[CorpusPaper], path: Path, *, gzipped: bool = False) -> int:
    """Write ``papers`` as a snapshot file; returns how many records."""
    count = 0
    opener = gzip.open if gzipped else open
    with opener(path, "wt", encoding="utf-8") as out:
        for paper in papers:
            out.write(json.dumps(snapshot_record(paper), ensure_ascii=False) + "\n")
            count += 1
    return count
