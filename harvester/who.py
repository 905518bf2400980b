"""``harvest who NAME``: the separate bodies of work behind a name, before tracking someone.

One search of the name as an ``au:`` phrase (at most :data:`WHO_MAX_PAPERS` papers: a few
requests), the papers whose author list names it, and the bodies the identity evidence sees
without an anchor (:func:`harvester.identity.judgement.bodies_of`: co-author communities,
then text and categories). Each body is summarised so a person can tell whose it is and pick
the right anchor (``arxiv_author_id``, ``orcid``) or aliases: its papers, years, main
categories, most frequent co-authors and a few ids to look up. The query API does not say
which arXiv author identifier or ORCID iD claimed a paper, so those are for the person to
find from the ids shown (``https://arxiv.org/abs/ID``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from .batching import names_query
from .identity import Matcher, candidate_of
from .normalise import normalise_entry
from .records import Paper
from .source import ArxivSource

__all__ = ["WHO_MAX_PAPERS", "Body", "bodies_behind", "render_who", "who", "who_json"]

WHO_MAX_PAPERS = 1000
"""A name matching more papers is refused (TooManyResultsError): an alias or a query then."""
SHOWN = 5


@dataclass(frozen=True, slots=True)
class Body:
    """One body of work behind a name."""

    papers: int
    first_year: int
    last_year: int
    categories: list[tuple[str, int]]
    """Main categories (primary first on each paper), most frequent first."""
    coauthors: list[tuple[str, int]]
    """Most frequent co-authors, as written, with their papers in the body."""
    examples: list[str]
    """The newest ids, to look up."""


def who(source: ArxivSource, name: str) -> list[Body]:
    """The bodies of work behind ``name`` on arXiv, the largest first."""
    papers = source.search(names_query([name]), normalise_entry, max_total=WHO_MAX_PAPERS).papers
    return bodies_behind(papers, name)


def bodies_behind(papers: Sequence[Paper], name: str) -> list[Body]:
    """Pure: the bodies of the papers whose author list names ``name``."""
    from .identity.judgement import bodies_of  # numpy and scipy, when asked

    matcher = Matcher.for_profile("who", name)
    named = {p.arxiv_id: p for p in papers if matcher.matching_author(p) is not None}
    candidates = {i: candidate_of(p, matcher) for i, p in named.items()}
    groups = bodies_of(list(candidates.values()))
    return [_summary([named[i] for i in ids], [candidates[i].coauthors for i in ids])
            for ids in groups]  # fmt: skip


def _summary(papers: Sequence[Paper], coauthors: Sequence[tuple[str, ...]]) -> Body:
    years = [p.published.year for p in papers]
    cats = Counter(p.categories[0] for p in papers if p.categories)
    names = Counter(name for names in coauthors for name in dict.fromkeys(names))
    newest = sorted(papers, key=lambda p: (p.published, p.arxiv_id), reverse=True)
    return Body(
        papers=len(papers),
        first_year=min(years),
        last_year=max(years),
        categories=_top(cats),
        coauthors=_top(names),
        examples=[p.arxiv_id for p in newest[:3]],
    )


def _top(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN]


def render_who(name: str, bodies: Sequence[Body]) -> str:
    """One paragraph per body, the largest first."""
    if not bodies:
        return f"{name}: no paper on arXiv names {name!r}\n"
    total = sum(b.papers for b in bodies)
    plural = "body" if len(bodies) == 1 else "separate bodies"
    lines = [f"{name}: {total} papers, {len(bodies)} {plural} of work"]
    for k, b in enumerate(bodies, start=1):
        span = str(b.first_year) if b.first_year == b.last_year else f"{b.first_year}-{b.last_year}"
        lines.append(f"{k}. {b.papers} papers, {span}; {_listed(b.categories)}")
        lines.append(f"   co-authors: {_listed(b.coauthors) or 'none'}")
        lines.append(f"   e.g. {', '.join(b.examples)}")
    lines.append("Pick the body to track: its arXiv author identifier or ORCID iD as an anchor")
    lines.append("(arxiv_author_id, orcid), or its spellings as aliases.")
    return "\n".join(lines) + "\n"


def _listed(counted: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{k} \N{MULTIPLICATION SIGN}{n}" for k, n in counted)


def who_json(name: str, bodies: Sequence[Body]) -> str:
    data = {"name": name, "bodies": [asdict(b) for b in bodies]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
