"""The papers a refresh of the similar authors reads, as a :class:`Corpus`.

A corpus holds some profiles' papers (or all of them), their authors and every active
membership of those papers, or the recent papers of some co-authors (:func:`load_recent`,
for :mod:`.coauthors`); both read in the refresh's snapshot
(:func:`harvester.store.derived.corpus_snapshot`). Papers are row numbers in id order,
whichever subset is loaded, so a profile's vectors come out the same from any corpus that
holds its papers.

Names are compared folded (:func:`harvester.names.fold_name`, the folding used for
matching and stored in ``paper_author.folded_name``). A profile's *own* folded names are
its configured name plus every spelling its papers were matched under; they are never
counted as its co-authors.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..names import fold_name
from ..store import CorpusRows


@dataclass(slots=True)
class Corpus:
    """Papers as row numbers ``0..n-1`` plus the indexes :mod:`.similar` needs."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    published: list[datetime] = field(default_factory=list)
    authors: list[set[str]] = field(default_factory=list)
    """Folded author names of each paper."""
    papers_by_name: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    spellings: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    profiles: dict[str, str] = field(default_factory=dict)
    """Tracked profiles: key -> display name."""
    profile_papers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    own_names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def display_name(self, folded: str) -> str:
        """The most common spelling of a folded name (ties: alphabetical)."""
        return shown_name(folded, self.spellings.get(folded, {}))


def shown_name(folded: str, counts: Mapping[str, int]) -> str:
    """The most common of a folded name's spellings (``counts``: spelling -> papers; ties:
    alphabetical); the folded name itself when none is known."""
    if not counts:
        return folded
    return min(counts, key=lambda name: (-counts[name], name))


def load_corpus(
    rows: CorpusRows,
    keys: Collection[str],
    profiles: Mapping[str, str],
    *,
    authors: bool = False,
    names: Collection[str] = (),
) -> Corpus:
    """The papers of the profiles ``keys`` (``profiles``: every tracked key -> name).

    With ``authors``, also their authors and every profile's memberships of them (what a
    list counts its shared papers and chooses its co-authors from); with ``names``, also
    every paper by one of those (folded), with its authors."""
    mine = rows.memberships(keys=list(keys))
    ids = sorted({arxiv_id for _, arxiv_id, _ in mine})
    papers = rows.papers(ids)
    if not authors and not names:
        return build_corpus(papers, (), profiles, mine)
    more = sorted(rows.papers_by(sorted(names)) - set(ids))
    return build_corpus(
        [*papers, *rows.papers(more)],
        [*rows.paper_authors(ids), *rows.paper_authors(more)],
        profiles,
        [*mine, *rows.memberships(ids=ids)],
    )


def load_recent(rows: CorpusRows, names: Collection[str], recent: int) -> Corpus:
    """The ``recent`` most recent papers of each of ``names`` (folded), no profile's."""
    ids = sorted(rows.recent_papers_by(sorted(names), recent))
    return build_corpus(rows.papers(ids), rows.paper_authors(ids), {}, ())


def build_corpus(
    papers: Iterable[tuple[str, str, str, str, datetime]],
    authors: Iterable[tuple[str, str, str]],
    profiles: Mapping[str, str],
    memberships: Iterable[tuple[str, str, str | None]],
) -> Corpus:
    """A corpus of paper rows, author rows, the tracked profiles and membership rows
    (rows naming a paper not given are skipped)."""
    corpus = Corpus()
    for arxiv_id, title, summary, categories, published in sorted(papers):
        corpus.ids.append(arxiv_id)
        corpus.texts.append(f"{title}. {summary}")
        corpus.categories.append(categories)
        corpus.years.append(published.year)
        corpus.published.append(published)
        corpus.authors.append(set())
    row_of = {arxiv_id: i for i, arxiv_id in enumerate(corpus.ids)}
    for arxiv_id, name, folded in authors:
        i = row_of.get(arxiv_id)
        if i is None:
            continue
        if folded not in corpus.authors[i]:
            corpus.authors[i].add(folded)
            corpus.papers_by_name[folded].append(i)
        corpus.spellings[folded][name] += 1
    corpus.profiles.update(profiles)
    for key, arxiv_id, matched_name in set(memberships):
        if arxiv_id not in row_of or key not in corpus.profiles:
            continue
        if key not in corpus.own_names:  # folded once, for the profiles this corpus holds
            corpus.own_names[key].add(fold_name(corpus.profiles[key]))
        corpus.profile_papers[key].append(row_of[arxiv_id])
        if matched_name:
            corpus.own_names[key].add(fold_name(matched_name))
    for rows_of in (corpus.papers_by_name, corpus.profile_papers):
        for found in rows_of.values():
            found.sort()
    return corpus
