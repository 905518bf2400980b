"""The synthetic corpus generator: deterministic, well-formed ids, no namesakes, servable."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.query import contains_run, fold
from arxiv_lookalike.search import document
from arxiv_lookalike.synthetic import (
    END,
    FIRST_NAMES,
    START,
    SyntheticAuthor,
    add_new_papers,
    author_config,
    synthetic_authors,
    synthetic_corpus,
)
from harvester.normalise import parse_arxiv_id

NAME = re.compile(r"[A-Z][a-z]+ [A-Z][a-z]+")
TOTAL = re.compile(rb"<opensearch:totalResults>(\d+)</opensearch:totalResults>")


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    first, authors = synthetic_corpus(30, 4, seed=7)
    again, authors_again = synthetic_corpus(30, 4, seed=7)
    other, other_authors = synthetic_corpus(30, 4, seed=8)
    assert first.to_dicts() == again.to_dicts()
    assert authors == authors_again
    assert first.to_dicts() != other.to_dicts()
    assert authors != other_authors


def test_sizes_versions_dates_and_authors_per_paper() -> None:
    corpus, authors = synthetic_corpus(40, 5, seed=1, coauthors=3)
    papers = corpus.papers()
    assert len(papers) == 200
    assert [a.key for a in authors[:2]] == ["a0000", "a0001"]
    tracked = {a.name for a in authors}
    per_author = Counter(n.name for p in papers for n in p.authors if n.name in tracked)
    assert set(per_author.values()) == {5}
    assert all(len(p.authors) == 4 for p in papers)
    assert {p.version for p in papers} == {1, 2}
    assert all(START <= p.published < END and p.published <= p.updated for p in papers)
    assert all(p.categories[0] == p.primary_category for p in papers)
    assert all(len(p.summary.split()) >= 10 and len(p.title.split()) >= 6 for p in papers)


def test_ids_are_unique_valid_and_numbered_per_month_in_submission_order() -> None:
    corpus, _ = synthetic_corpus(500, 20, seed=2)
    papers = corpus.papers()
    ids = [p.arxiv_id for p in papers]
    assert len(set(ids)) == len(ids) == 10_000
    assert all(parse_arxiv_id(i) == (i, None) and re.fullmatch(r"\d{4}\.\d{5}", i) for i in ids)
    assert all(p.arxiv_id[:4] == f"{p.published:%y%m}" for p in papers)
    assert [p.published for p in papers] == sorted(p.published for p in papers)
    by_month: dict[str, list[int]] = {}
    for arxiv_id in ids:
        by_month.setdefault(arxiv_id[:4], []).append(int(arxiv_id[5:]))
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in by_month.values())


def test_names_are_distinct_two_words_of_letters() -> None:
    authors = synthetic_authors(5000, seed=3)
    names = [a.name for a in authors]
    assert len({fold(name) for name in names}) == len(names)
    assert all(NAME.fullmatch(name) for name in names)
    assert len({a.key for a in authors}) == len(authors)


def test_no_name_is_a_phrase_of_another_name_or_of_two_adjacent_names() -> None:
    names = [fold(a.name) for a in synthetic_authors(150, seed=4)]
    assert all(len(tokens) == 2 for tokens in names)  # so runs of two tokens are every phrase
    known = set(names)
    for left in names:
        for right in names:
            joined = fold(f"{' '.join(left)}, {' '.join(right)}")
            runs = {joined[k : k + 2] for k in range(len(joined) - 1)}
            assert runs & known <= {left, right}, (left, right)


def test_token_sets_of_first_names_tracked_and_filler_surnames_are_disjoint() -> None:
    corpus, authors = synthetic_corpus(2000, 2, seed=5)
    tracked = {a.name for a in authors}
    tracked_surnames = {fold(name)[1] for name in tracked}
    fillers = {n.name for p in corpus for n in p.authors if n.name not in tracked}
    filler_surnames = {fold(name)[1] for name in fillers}
    first_names = {fold(name)[0] for name in FIRST_NAMES}
    assert {fold(name)[0] for name in tracked | fillers} <= first_names
    assert not tracked_surnames & filler_surnames
    assert not (tracked_surnames | filler_surnames) & first_names


def test_each_tracked_phrase_matches_exactly_its_own_papers() -> None:
    corpus, authors = synthetic_corpus(60, 5, seed=6, coauthors=4)
    phrases = {a.name: fold(a.name) for a in authors}
    for paper in corpus:
        au = document(paper).tokens["au"]
        owners = {a.name for a in paper.authors if a.name in phrases}
        assert len(owners) == 1
        matched = {name for name, phrase in phrases.items() if contains_run(au, phrase)}
        assert matched == owners, paper.arxiv_id


def test_add_new_papers_are_newest_v1_and_continue_the_month_numbering() -> None:
    corpus, authors = synthetic_corpus(20, 10, seed=8)
    newest = max(p.published for p in corpus)
    when = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)
    assert newest < when
    before = {p.arxiv_id for p in corpus}
    month = [int(i[5:]) for i in before if i.startswith("2609.")]
    ids = add_new_papers(corpus, authors, 5, published=when, seed=1)
    assert len(ids) == 5 and not before & set(ids)
    assert [int(i[5:]) for i in ids] == list(range(max(month, default=0) + 1, len(month) + 6))
    added = [corpus.get(i) for i in ids]
    assert all(p is not None and p.version == 1 and p.published >= when for p in added)
    assert len(corpus) == 205
    again, _ = synthetic_corpus(20, 10, seed=8)
    assert add_new_papers(again, authors, 5, published=when, seed=1) == ids
    assert again.to_dicts() == corpus.to_dicts()


def test_add_new_papers_defaults_to_a_day_after_the_newest() -> None:
    corpus, authors = synthetic_corpus(3, 3, seed=9)
    newest = max(p.published for p in corpus)
    (arxiv_id,) = add_new_papers(corpus, authors, 1)
    paper = corpus.get(arxiv_id)
    assert paper is not None and paper.published == newest + timedelta(days=1)


def test_author_config_is_toml_ready() -> None:
    authors = [SyntheticAuthor("a0000", "Ada Kodaver"), SyntheticAuthor("a0001", "Bea Timigol")]
    assert author_config(authors) == [
        {"key": "a0000", "name": "Ada Kodaver"},
        {"key": "a0001", "name": "Bea Timigol"},
    ]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="April 2007"):
        synthetic_corpus(1, 1, start=datetime(2006, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="before end"):
        synthetic_corpus(1, 1, start=END, end=START)
    with pytest.raises(ValueError, match="negative"):
        synthetic_corpus(1, 1, coauthors=-1)


def _total_results(url: str, query: str) -> int:
    params = urllib.parse.urlencode({"search_query": query, "max_results": 1})
    with urllib.request.urlopen(f"{url}?{params}", timeout=10) as response:
        found = TOTAL.search(response.read())
    assert found is not None
    return int(found.group(1))


def test_the_lookalike_serves_each_author_exactly_their_papers() -> None:
    corpus, authors = synthetic_corpus(12, 7, seed=10)
    with LookalikeServer(corpus) as server:
        for author in authors[:4]:
            assert _total_results(server.url, f'au:"{author.name}"') == 7
        add_new_papers(corpus, authors[:1], 2, seed=2)
        assert _total_results(server.url, f'au:"{authors[0].name}"') == 9
        assert len(server.requests) == 5
