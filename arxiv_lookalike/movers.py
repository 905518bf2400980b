"""A unique name whose work moves between fields: the corpus of issue 24's first case.

Nobody else is written "Ysolde Marchetti-Quist". She has 30 papers in stat.ML/cs.LG with six
usual co-authors, then 4 in q-bio.NC with her most frequent co-author (on 7 of her other
papers) and newcomers, and 2 in physics.optics with two of her usual co-authors. Every one
of the 36 shares a co-author with another: a shared co-author is the strongest sign there
is, so all 36 are hers whatever their category::

    corpus = mover_corpus(seed=0)
    records = namesake_records(corpus, ())   # for Corpus.from_dicts

Built like :mod:`.namesakes` (the same fields' words, the same record shape), deterministic
from ``seed``.
"""

from __future__ import annotations

import random
from datetime import date

from .namesakes import NamesakeCorpus, NamesakePaper, Person, _NameSource, _phrases, _text

__all__ = ["MOVER", "mover_corpus"]

MOVER = "Ysolde Marchetti-Quist"
"""Her name, shared with nobody."""

_HER = Person(
    label="stat.ML: kernel methods, then neuroscience and optics",
    primary=("stat.ML", "cs.LG"),
    secondary=(("cs.LG", 0.5),),
    field="ml",
    topic=_phrases(
        "kernel methods; Gaussian processes; conformal prediction; causal inference; "
        "uncertainty quantification; Bayesian optimisation; variational inference"
    ),
    papers=30,
    years=(2015, 2021),
    pool=6,
)
_NEURO = Person(
    label="q-bio.NC",
    primary=("q-bio.NC",),
    secondary=(),
    field="bio",
    topic=_phrases("spiking neurons; cortical circuits; synaptic plasticity; neural recordings"),
    papers=4,
    years=(2022, 2023),
    pool=0,
)
_OPTICS = Person(
    label="physics.optics",
    primary=("physics.optics",),
    secondary=(),
    field="mat",
    topic=_phrases("photonic crystals; optical lattices; laser cooling; metasurfaces"),
    papers=2,
    years=(2024, 2024),
    pool=0,
)
FREQUENT_ON_MAIN = 7
"""Papers of her main field her most frequent co-author is on."""


def mover_corpus(seed: int = 0) -> NamesakeCorpus:
    """Her 36 papers (all hers: ``owner`` is 0 for each, ``tracked`` 0, no feed)."""
    rng = random.Random(seed)
    names = _NameSource(rng)
    pool = [names.fresh() for _ in range(6)]
    frequent, usual = pool[0], pool[1:]
    papers: list[tuple[date, tuple[str, ...], Person]] = []
    for k in range(_HER.papers):
        others = rng.sample(usual, rng.randint(1, 2))
        authors = [frequent, *others] if k < FREQUENT_ON_MAIN else others
        papers.append((_date(rng, _HER), tuple(authors), _HER))
    newcomers = [names.fresh() for _ in range(3)]
    for _ in range(_NEURO.papers):
        papers.append((_date(rng, _NEURO), (frequent, *rng.sample(newcomers, 2)), _NEURO))
    for _ in range(_OPTICS.papers):
        papers.append((_date(rng, _OPTICS), tuple(usual[:2]), _OPTICS))
    built = [_paper(rng, k, when, authors, who) for k, (when, authors, who) in enumerate(papers)]
    ordered = tuple(sorted(built, key=lambda p: p.arxiv_id))
    return NamesakeCorpus(ordered, dict.fromkeys((p.arxiv_id for p in ordered), 0), 0,
                          frozenset(), ((frequent, *usual),), seed)  # fmt: skip


def _date(rng: random.Random, person: Person) -> date:
    return date(rng.randint(*person.years), rng.randint(1, 12), rng.randint(1, 28))


def _paper(
    rng: random.Random, number: int, when: date, coauthors: tuple[str, ...], person: Person
) -> NamesakePaper:
    title, abstract = _text(rng, person)
    authors = list(coauthors)
    authors.insert(rng.randint(0, len(authors)), MOVER)
    categories = (rng.choice(person.primary),)
    cross = tuple(
        c for c, chance in person.secondary if c not in categories and rng.random() < chance
    )
    arxiv_id = f"{when.year % 100:02d}{when.month:02d}.{7000 + number:05d}"
    return NamesakePaper(arxiv_id, title, abstract, tuple(authors), categories + cross, when)
