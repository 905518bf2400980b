"""Deterministic synthetic corpora for the look-alike: many authors, many papers, no namesakes.

For benchmarks and scale tests: ``synthetic_corpus(1000, 100)`` builds 100,000 papers in a
few seconds. Each paper has one *tracked* author (the ones a harvester would configure) and
``coauthors`` untracked fillers; ids are new style (``YYMM.NNNNN``) numbered per month in
order of submission, as arXiv numbers them::

    corpus, authors = synthetic_corpus(100, 20, seed=1)
    new_ids = add_new_papers(corpus, authors, 5, published=datetime.now(UTC))
    toml_authors = author_config(authors)  # [{"key": "a0000", "name": "..."}, ...]

The look-alike's ``au:`` search is token matching over every author name joined with
``", "`` (:mod:`.query`), so a phrase can span two adjacent authors. Names are therefore
built from three disjoint token sets, and no ``au:"First Last"`` query of one tracked author
can match another paper's author list:

* first names: a fixed list of real ones, shared by tracked and filler authors;
* tracked surnames: three syllables and ``n``, ``r`` or ``l`` (``Kodaver``), one per author
  (a bijection from the author's index, so they are distinct by construction);
* filler surnames: two syllables and ``s`` or ``th`` (``Mirus``, ``Tanath``).

Everything comes from one :class:`random.Random` seeded with ``seed``: the same arguments
give the same corpus. Revising a paper needs no helper here: :meth:`Corpus.revise`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from arxiv_lookalike.corpus import Corpus, CorpusAuthor, CorpusPaper

__all__ = [
    "CATEGORIES",
    "END",
    "FIRST_NAMES",
    "START",
    "SyntheticAuthor",
    "add_new_papers",
    "author_config",
    "synthetic_authors",
    "synthetic_corpus",
]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


START = datetime(2015, 1, 1, tzinfo=UTC)
"""Default first submission date (5-digit ids start in January 2015)."""
END = datetime(2026, 10, 1, tzinfo=UTC)
"""Default end of the submission window."""

FIRST_NAMES = _words(
    "Ada Alan Anna Bea Bruno Carla Chen Dana Dev Eli Emil Farah Fatima Gil Goran Hana Hugo "
    "Ines Ivan Jonas Jun Kira Kofi Lars Lena Mateo Mei Nils Nora Omar Otto Paz Priya Quinn "
    "Rosa Rui Sam Sofia Tara Timo Uma Umar Vera Viktor Wen Xiu Yara Yusuf Zoe"
)
"""First names of every author, tracked or not."""

CATEGORIES = _words(
    "cs.LG stat.ML cs.AI cs.CL cs.CV math.OC cs.DS cs.IT math.ST quant-ph hep-th "
    "cond-mat.stat-mech astro-ph.CO q-bio.NC econ.EM eess.SP physics.soc-ph cs.RO"
)

_VOCABULARY = _words(
    "learning model models data network networks neural deep graph graphs optimal "
    "optimization convex stochastic gradient descent bound bounds regret policy policies "
    "reinforcement estimation estimator sample complexity theory analysis algorithm "
    "algorithms efficient robust adaptive online linear nonlinear kernel kernels sparse "
    "matrix tensor spectral random inference bayesian variational posterior prior "
    "distribution distributions gaussian approximation approximate convergence rate rates "
    "dynamics system systems control quantum state states field fields energy structure "
    "structures language vision image images representation representations training "
    "generalization transformer attention scaling large small fast provable lower upper "
    "minimax statistical causal effect effects experiments results method methods "
    "framework problem problems setting settings we show prove propose study a the of for "
    "in on with and under via towards new simple general"
)
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_SYLLABLES = tuple(c + v for c in _CONSONANTS for v in _VOWELS)
_TRACKED_ENDINGS = ("n", "r", "l")
_FILLER_ENDINGS = ("s", "th")
_TRACKED_SURNAMES = len(_SYLLABLES) ** 3 * len(_TRACKED_ENDINGS)
_FILLER_POOL = 2048
_TEXT_STREAM = 1 << 16
_SUMMARY_POOL = 512
_V2_SHARE = 0.2
_FIRST_NEW_STYLE = datetime(2007, 4, 1, tzinfo=UTC)
_FIVE_DIGITS_FROM = "1501"


@dataclass(frozen=True, slots=True)
class SyntheticAuthor:
    """A tracked author: ``key`` (``a0000``...) and a name no other author's contains."""

    key: str
    name: str


def synthetic_authors(count: int, *, seed: int = 0) -> list[SyntheticAuthor]:
    """``count`` tracked authors with distinct names (see the module docstring)."""
    if not 0 <= count <= _TRACKED_SURNAMES:
        raise ValueError(f"between 0 and {_TRACKED_SURNAMES} authors, not {count}")
    rng = random.Random(seed)
    step = _coprime_step(rng, _TRACKED_SURNAMES)
    offset = rng.randrange(_TRACKED_SURNAMES)
    width = max(4, len(str(count - 1)))
    authors = []
    for index in range(count):
        surname = _tracked_surname((offset + index * step) % _TRACKED_SURNAMES)
        authors.append(
            SyntheticAuthor(f"a{index:0{width}d}", f"{rng.choice(FIRST_NAMES)} {surname}")
        )
    return authors


def author_config(authors: Sequence[SyntheticAuthor]) -> list[dict[str, str]]:
    """The ``[[authors]]`` tables of a harvester config: ``{"key": ..., "name": ...}``."""
    return [{"key": author.key, "name": author.name} for author in authors]


def synthetic_corpus(
    authors: int,
    papers_per_author: int,
    *,
    seed: int = 0,
    coauthors: int = 2,
    start: datetime = START,
    end: datetime = END,
) -> tuple[Corpus, list[SyntheticAuthor]]:
    """A corpus of ``authors * papers_per_author`` papers and its tracked authors.

    Each paper has one tracked author (at a random place in the list) and ``coauthors``
    fillers; it was submitted at a random second in ``[start, end)``, one in five has a
    second version. Ids are numbered per month in submission order; the corpus keeps
    that order.
    """
    _check_window(start, end)
    if coauthors < 0 or papers_per_author < 0:
        raise ValueError("coauthors and papers_per_author must not be negative")
    tracked = synthetic_authors(authors, seed=seed)
    maker = _PaperMaker(random.Random(f"papers:{seed}"), coauthors, end)
    span = int((end - start).total_seconds())
    drafts = sorted(
        (maker.rng.randrange(span), index % authors) for index in range(authors * papers_per_author)
    )
    people = [CorpusAuthor(author.name) for author in tracked]
    counters: dict[str, int] = {}
    papers = []
    for second, owner in drafts:
        published = start + timedelta(seconds=second)
        papers.append(maker.paper(_next_id(counters, published), published, people[owner]))
    return Corpus(papers), tracked


def add_new_papers(
    corpus: Corpus,
    authors: Sequence[SyntheticAuthor],
    count: int,
    *,
    published: datetime | None = None,
    seed: int = 0,
    coauthors: int = 2,
) -> list[str]:
    """Add ``count`` v1 papers by random ``authors``; returns their ids, oldest first.

    They are submitted one second apart from ``published`` on (default: a day after the
    newest paper of the corpus), so they are newer than everything already there.
    """
    existing = corpus.papers()
    if published is None:
        newest = max((paper.published for paper in existing), default=START)
        published = newest + timedelta(days=1)
    rng = random.Random(f"new:{seed}:{len(existing)}")
    maker = _PaperMaker(rng, coauthors, published + timedelta(seconds=count))
    counters = _month_counters(existing)
    ids = []
    for index in range(count):
        moment = published + timedelta(seconds=index)
        owner = CorpusAuthor(rng.choice(authors).name)
        paper = maker.paper(_next_id(counters, moment), moment, owner, version=1)
        ids.append(corpus.upsert(paper).arxiv_id)
    return ids


# --- names ----------------------------------------------------------------------------


def _coprime_step(rng: random.Random, modulus: int) -> int:
    """A random step coprime to ``modulus``: ``(offset + i * step) % modulus`` is a bijection."""
    while True:
        step = rng.randrange(1, modulus)
        if math.gcd(step, modulus) == 1:
            return step


def _tracked_surname(number: int) -> str:
    """The ``number``-th tracked surname: three syllables and an ending, capitalised."""
    number, ending = divmod(number, len(_TRACKED_ENDINGS))
    syllables = []
    for _ in range(3):
        number, digit = divmod(number, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
    return ("".join(syllables) + _TRACKED_ENDINGS[ending]).capitalize()


def _filler_name(rng: random.Random) -> str:
    surname = rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES) + rng.choice(_FILLER_ENDINGS)
    return f"{rng.choice(FIRST_NAMES)} {surname.capitalize()}"


# --- papers ---------------------------------------------------------------------------


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if not start < end:
        raise ValueError("start must be before end")
    if start < _FIRST_NEW_STYLE:
        raise ValueError("new-style ids start in April 2007")
    if end.year >= 2100:
        raise ValueError("new-style ids end in 2099")


def _next_id(counters: dict[str, int], published: datetime) -> str:
    """The next id of ``published``'s month (``YYMM.NNNNN``; 4 digits before 2015)."""
    month = f"{published.astimezone(UTC):%y%m}"
    number = counters.get(month, 0) + 1
    digits = 5 if month >= _FIVE_DIGITS_FROM else 4
    if number >= 10**digits:
        raise ValueError(f"more than {10**digits - 1} papers in month {month}")
    counters[month] = number
    return f"{month}.{number:0{digits}d}"


def _month_counters(papers: Sequence[CorpusPaper]) -> dict[str, int]:
    """The highest number used per month by new-style ids of ``papers``."""
    counters: dict[str, int] = {}
    for paper in papers:
        month, dot, number = paper.arxiv_id.partition(".")
        if dot and month.isdigit() and number.isdigit():
            counters[month] = max(counters.get(month, 0), int(number))
    return counters


class _PaperMaker:
    """Pseudo-text, categories and filler co-authors drawn from one ``rng``.

    Summaries, category lists and filler authors come from small pools and are shared
    between papers, which keeps 100,000 papers in well under 100 MB.
    """

    def __init__(self, rng: random.Random, coauthors: int, latest: datetime) -> None:
        self.rng = rng
        self.coauthors = coauthors
        self.latest = latest
        self.stream = rng.choices(_VOCABULARY, k=_TEXT_STREAM)
        self.summaries = [self.text(rng.randint(30, 60)) + "." for _ in range(_SUMMARY_POOL)]
        self.fillers = [CorpusAuthor(_filler_name(rng)) for _ in range(_FILLER_POOL)]
        self.categories = [
            (primary, *rng.sample([c for c in CATEGORIES if c != primary], extra))
            for primary in CATEGORIES
            for extra in (0, 1, 2)
        ]

    def text(self, words: int) -> str:
        begin = self.rng.randrange(_TEXT_STREAM - words)
        return " ".join(self.stream[begin : begin + words]).capitalize()

    def authors(self, tracked: CorpusAuthor) -> tuple[CorpusAuthor, ...]:
        first = self.rng.randrange(_FILLER_POOL)
        listed = [self.fillers[(first + k) % _FILLER_POOL] for k in range(self.coauthors)]
        listed.insert(self.rng.randrange(self.coauthors + 1), tracked)
        return tuple(listed)

    def paper(
        self, arxiv_id: str, published: datetime, tracked: CorpusAuthor, version: int = 0
    ) -> CorpusPaper:
        """A paper; ``version`` 0 means v1 or, one time in five, v2."""
        rng = self.rng
        if version == 0:
            version = 2 if rng.random() < _V2_SHARE else 1
        updated = published
        if version > 1:
            updated = min(published + timedelta(days=rng.randint(1, 300)), self.latest)
        categories = rng.choice(self.categories)
        return CorpusPaper(
            arxiv_id=arxiv_id,
            version=version,
            title=self.text(rng.randint(6, 14)),
            summary=rng.choice(self.summaries),
            authors=self.authors(tracked),
            published=published,
            updated=updated,
            primary_category=categories[0],
            categories=categories,
            comment=f"{rng.randint(4, 40)} pages" if rng.random() < 0.3 else None,
        )
