"""Author identifier feeds, ``/a/{id}.atom2``, the way arxiv.org writes them.

An author who claimed their papers on arXiv (or linked an ORCID iD to their account) has a
public feed of those papers: ``https://arxiv.org/a/kakade_s_1.atom2``, or the ORCID iD in
place of the identifier. Its shape follows arXiv's own generator (arXiv/arxiv-browse,
``browse/controllers/author``) and the feeds shown in arXiv's help pages
(https://info.arxiv.org/help/author_identifiers.html): a plain Atom ``<feed>`` without
opensearch numbers or paging, titled ``NAME's articles on arXiv``, ``updated`` at today's
midnight, and per claimed paper an ``<entry>`` whose ONE ``<author><name>`` holds every
author's name joined by ``", "`` (that is what makes it ``atom2``). An identifier nobody
has is ``404 Not Found`` (arXiv's help: "An attempt to request information for an ORCID
that does not exist ... will result in an HTTP 404 Not Found response").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from arxiv_lookalike.atom import ARXIV_NS, ATOM_NS, _el, _empty, _one_line
from arxiv_lookalike.corpus import CorpusPaper

__all__ = ["AUTHOR_FEED", "render_author_feed"]

AUTHOR_FEED = re.compile(r"/a/(?P<id>[A-Za-z0-9_.-]+)\.atom2")
"""The path of an author identifier feed (``/a/zhang_w_1.atom2``, ``/a/0000-...-0097.atom2``)."""
_ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _entry(paper: CorpusPaper) -> str:
    versioned = paper.versioned_id
    scheme = ("scheme", ARXIV_NS)
    parts = [
        "  <entry>\n",
        _el(2, "id", f"http://arxiv.org/abs/{versioned}"),
        _el(2, "updated", _stamp(paper.updated)),
        _el(2, "published", _stamp(paper.published)),
        _el(2, "title", _one_line(paper.title)),
        _el(2, "summary", _one_line(paper.summary)),
        "    <author>\n",
        _el(3, "name", ", ".join(a.name for a in paper.authors)),
        "    </author>\n",
    ]
    if paper.doi is not None:
        parts.append(_el(2, "arxiv:doi", paper.doi))
    if paper.comment is not None:
        parts.append(_el(2, "arxiv:comment", paper.comment))
    if paper.journal_ref is not None:
        parts.append(_el(2, "arxiv:journal_ref", paper.journal_ref))
    abs_url, pdf_url = f"http://arxiv.org/abs/{versioned}", f"http://arxiv.org/pdf/{versioned}"
    parts += [
        _empty(2, "link", ("href", abs_url), ("rel", "alternate"), ("type", "text/html")),
        _empty(
            2,
            "link",
            ("title", "pdf"),
            ("href", pdf_url),
            ("rel", "related"),
            ("type", "application/pdf"),
        ),
        _empty(2, "arxiv:primary_category", ("term", paper.primary_category), scheme),
    ]
    parts += [_empty(2, "category", ("term", term), scheme) for term in paper.categories]
    parts.append("  </entry>\n")
    return "".join(parts)


def render_author_feed(ident: str, papers: Sequence[CorpusPaper], now: datetime) -> bytes:
    """The ``atom2`` feed of the papers ``ident`` claimed (serve with HTTP 200)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    orcid = f"https://orcid.org/{ident}" if _ORCID.fullmatch(ident) else ""
    head = [
        "<?xml version='1.0' encoding='utf-8'?>\n",
        f'<feed xmlns="{ATOM_NS}" xmlns:arxiv="{ARXIV_NS}">\n',
        _el(1, "title", f"{ident}'s articles on arXiv"),
        _empty(1, "link", ("rel", "describes"), ("href", orcid)),
        _el(1, "updated", _stamp(midnight)),
        _el(1, "id", f"http://arxiv.org/a/{ident}"),
        _empty(
            1,
            "link",
            ("href", f"http://arxiv.org/a/{ident}.atom2"),
            ("rel", "self"),
            ("type", "application/atom+xml"),
        ),
        _empty(1, "link", ("rel", "describes"), ("href", f"http://arxiv.org/a/{ident}")),
    ]
    return ("".join(head) + "".join(map(_entry, papers)) + "</feed>\n").encode("utf-8")
