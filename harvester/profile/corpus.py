"""The database read once for :mod:`.similar`: papers, their authors and the profiles.

The rows come from one snapshot (:func:`harvester.store.derived.corpus_snapshot`); rows
that refer to a paper or an author read by none of the earlier queries are skipped all the
same (the data signature will have changed, so the next refresh takes them).

Names are compared folded (:func:`harvester.matching.fold_name`, the folding used for
matching and stored in ``paper_author.folded_name``). A profile's *own* folded names are
its configured name plus every spelling its papers were matched under; they are never
counted as its co-authors.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..matching import fold_name
from ..store.derived import CorpusRows


@dataclass(slots=True)
class Corpus:
    """Papers as row numbers ``0..n-1`` plus the indexes :mod:`.similar` needs."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
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
        counts = self.spellings.get(folded)
        if not counts:
            return folded
        return min(counts, key=lambda name: (-counts[name], name))


def read_corpus(rows: CorpusRows) -> Corpus:
    corpus = Corpus()
    _read_papers(rows, corpus)
    _read_authors(rows, corpus)
    _read_profiles(rows, corpus)
    return corpus


def _read_papers(rows: CorpusRows, corpus: Corpus) -> None:
    for arxiv_id, title, summary, categories, published in rows.papers():
        corpus.ids.append(arxiv_id)
        corpus.texts.append(f"{title}. {summary}")
        corpus.categories.append(categories)
        corpus.years.append(published.year)
        corpus.authors.append(set())


def _read_authors(rows: CorpusRows, corpus: Corpus) -> None:
    row_of = {arxiv_id: i for i, arxiv_id in enumerate(corpus.ids)}
    for arxiv_id, name, folded in rows.paper_authors():
        i = row_of.get(arxiv_id)
        if i is None:  # written after the papers were read
            continue
        if folded not in corpus.authors[i]:
            corpus.authors[i].add(folded)
            corpus.papers_by_name[folded].append(i)
        corpus.spellings[folded][name] += 1


def _read_profiles(rows: CorpusRows, corpus: Corpus) -> None:
    row_of = {arxiv_id: i for i, arxiv_id in enumerate(corpus.ids)}
    for key, name in rows.profiles():
        corpus.profiles[key] = name
        corpus.own_names[key].add(fold_name(name))
    for key, arxiv_id, matched_name in rows.memberships():
        if arxiv_id not in row_of or key not in corpus.profiles:  # written since: next time
            continue
        corpus.profile_papers[key].append(row_of[arxiv_id])
        if matched_name:
            corpus.own_names[key].add(fold_name(matched_name))
