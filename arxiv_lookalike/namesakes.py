"""A deterministic corpus of namesakes: several researchers all written "Wei Zhang".

Issue 11 measures identity decisions on "several people of one name, one of them in the
tracked author's own main field, whose co-author pools barely overlap, and an identifier
feed listing fewer than half of her papers". :func:`namesake_corpus` builds exactly that,
as plain data (no database, no server), so the identity tests, ``harvest demo --identity``
and ``python -m arxiv_lookalike --namesakes`` all use it::

    corpus = namesake_corpus(seed=0)
    hers = corpus.papers_of(corpus.tracked)
    claimed = corpus.feed_ids              # what her identifier feed lists
    later = later_papers(corpus)           # a few new papers per person, same rules
    records = namesake_records(corpus, CLAIMANTS)   # for Corpus.from_dicts

The people (:data:`PEOPLE`): the tracked one (index 0) works on reinforcement learning and
optimisation in cs.LG; another on graph and vision learning, also in cs.LG, with one
co-author in common with her (:data:`BRIDGE`); the others are in hep-th, q-bio and
cond-mat. The q-bio one cross-lists to cs.LG now and then, and one hep-th co-author
shares a name with one of hers (:data:`COLLISION`): common names collide on real author
lists too. Titles and abstracts are built from each field's words and the person's own
subtopic words, so TF-IDF sees what it would see on arXiv: same-field people look alike,
people of other fields do not. A few papers of each person are written with strangers only
(or alone): the papers no co-author can vouch for.

Every choice comes from one :class:`random.Random` seeded with ``seed``: the same seed gives
the same corpus. No co-author name contains the tokens "Wei" or "Zhang", so a phrase search
for "Wei Zhang" over a joined author list finds exactly the namesakes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

__all__ = [
    "BRIDGE",
    "CLAIMANTS",
    "COLLISION",
    "NAME",
    "PEOPLE",
    "NamesakeCorpus",
    "NamesakePaper",
    "Person",
    "later_papers",
    "namesake_corpus",
    "namesake_records",
]

NAME = "Wei Zhang"
"""How every person of the corpus is written on their papers."""
BRIDGE = "Rosa Lindqvist"
"""The co-author the two cs.LG people have in common (frequent for her, rare for him)."""
COLLISION = "Lei Wang"
"""Two different people of that name: one of her co-authors, one of the hep-th person's."""
CLAIMANTS = ("zhang_w_1", "0000-0002-1825-0097")
"""The tracked person's arXiv author identifier and ORCID iD: her feed lists ``feed_ids``."""


@dataclass(frozen=True, slots=True)
class NamesakePaper:
    """One paper as arXiv would list it (its latest version)."""

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    """Display names in paper order; :data:`NAME` is one of them."""
    categories: tuple[str, ...]
    """Primary category first."""
    published: date


@dataclass(frozen=True, slots=True)
class Person:
    """One of the namesakes: field, own words, career and collaborators."""

    label: str
    primary: tuple[str, ...]
    """Primary categories, one drawn per paper."""
    secondary: tuple[tuple[str, float], ...]
    """Cross-list categories, each with its probability."""
    field: str
    """Key of :data:`FIELDS`: the words and sentences of the field."""
    topic: tuple[str, ...]
    """The person's own subtopic phrases."""
    papers: int
    years: tuple[int, int]
    pool: int
    """Size of the recurring co-author pool."""


@dataclass(frozen=True, slots=True)
class NamesakeCorpus:
    """Papers (ordered by id), who wrote each, and what the tracked person's feed claims."""

    papers: tuple[NamesakePaper, ...]
    owner: dict[str, int]
    """``arxiv_id`` -> index in :data:`PEOPLE` of the Wei Zhang who wrote it."""
    tracked: int
    feed_ids: frozenset[str]
    """What the tracked person's identifier feed lists."""
    pools: tuple[tuple[str, ...], ...]
    """Each person's recurring co-authors, most frequent first."""
    seed: int
    same_topic: bool = False
    """The second cs.LG person writes with her very words and categories (a stress case
    beyond the issue's: only co-authors can tell them apart)."""

    def papers_of(self, person: int) -> tuple[NamesakePaper, ...]:
        return tuple(p for p in self.papers if self.owner[p.arxiv_id] == person)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in text.split(";"))


FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "ml": {
        "sentences": (
            "we propose a {adj} algorithm for {a} that scales to {b}.",
            "our method improves {a} while reducing the cost of {b}.",
            "we prove that {a} achieves near-optimal rates under {b}.",
            "empirically, {a} outperforms prior methods on {b}.",
            "we train models with {a} and evaluate them on {b}.",
            "a careful ablation isolates the effect of {a} on {b}.",
        ),
        "words": _phrases(
            "deep networks; training dynamics; generalization; benchmarks; representation "
            "learning; neural network architectures; loss landscapes; large-scale experiments; "
            "transformers; scalability; overparameterized models; empirical risk minimization; "
            "hyperparameter tuning; pretrained models"
        ),
        "adjectives": _phrases("efficient; provable; scalable; robust; simple; adaptive"),
        "closing": (
            "Experiments on standard benchmarks show consistent gains over strong baselines.",
            "Code and trained models are publicly available.",
            "Our experiments confirm the theory across architectures and datasets.",
        ),
    },
    "hep": {
        "sentences": (
            "we compute {a} in {b} at one loop.",
            "using {a}, we derive the spectrum of {b}.",
            "the {adj} limit of {a} is matched to {b} on the gravity side.",
            "we construct {a} and show that {b} is protected.",
            "the partition function of {a} reproduces {b}.",
            "we argue that {a} constrains {b} in any consistent theory.",
        ),
        "words": _phrases(
            "gauge theories; conformal symmetry; string theory; quantum gravity; effective field "
            "theory; the large N limit; supersymmetry; dualities; the holographic dictionary; "
            "spacetime geometry; the renormalization group"
        ),
        "adjectives": _phrases("nonperturbative; exact; holographic; universal; chiral"),
        "closing": (
            "Our results are consistent with the expected behaviour at strong coupling.",
            "We comment on implications for the swampland program.",
            "The construction generalizes to higher dimensions.",
        ),
    },
    "bio": {
        "sentences": (
            "we fit a {adj} model of {a} to measurements of {b}.",
            "simulations reveal how {a} shapes {b} across conditions.",
            "we infer {a} from {b} in patient samples.",
            "knockout experiments support the role of {a} in {b}.",
            "the model predicts how {a} responds to perturbations of {b}.",
            "we quantify variability in {a} among cells and organisms with {b}.",
        ),
        "words": _phrases(
            "cellular processes; gene expression; experimental data; stochastic models; "
            "evolutionary pressure; tissue organization; biological networks; sequencing data; "
            "mechanistic models; clinical cohorts"
        ),
        "adjectives": _phrases("quantitative; mechanistic; stochastic; predictive; minimal"),
        "closing": (
            "We validate the model against published experimental measurements.",
            "The framework yields testable predictions for future experiments.",
            "Our analysis suggests new targets for therapeutic intervention.",
        ),
    },
    "mat": {
        "sentences": (
            "we compute {a} for {b} using density functional theory.",
            "measurements reveal {adj} {a} below the transition in {b}.",
            "doping suppresses {a} and stabilizes {b}.",
            "we map {a} as a function of pressure and {b}.",
            "the {adj} phase hosts {a} coexisting with {b}.",
            "quantum Monte Carlo simulations of {a} reveal {b}.",
        ),
        "words": _phrases(
            "strongly correlated electrons; the phase diagram; low temperatures; band structure; "
            "lattice models; magnetic order; quantum materials; spin fluctuations; "
            "first-principles calculations; the ground state"
        ),
        "adjectives": _phrases("unconventional; topological; frustrated; anisotropic; emergent"),
        "closing": (
            "The results agree with recent transport and neutron scattering measurements.",
            "We discuss the relevance for layered cuprates and nickelates.",
            "Our predictions can be tested in angle-resolved photoemission experiments.",
        ),
    },
}
"""Per field: its sentences, shared phrases, title adjectives and closing sentences."""

PEOPLE: tuple[Person, ...] = (
    Person(
        label="cs.LG: reinforcement learning and optimisation (tracked)",
        primary=("cs.LG",),
        secondary=(("stat.ML", 0.55), ("cs.AI", 0.25), ("math.OC", 0.2)),
        field="ml",
        topic=_phrases(
            "policy gradient methods; sample complexity; Markov decision processes; exploration; "
            "regret bounds; value function approximation; stochastic gradient descent; "
            "preconditioned optimizers; bandit feedback; offline reinforcement learning; linear "
            "function approximation; minimax lower bounds; reward models; natural gradient; "
            "Bellman error; learning rate schedules; second-order optimization; imitation "
            "learning"
        ),
        papers=124,
        years=(2015, 2025),
        pool=34,
    ),
    Person(
        label="cs.LG: graph and vision learning",
        primary=("cs.LG", "cs.LG", "cs.CV"),
        secondary=(("cs.CV", 0.4), ("cs.AI", 0.3), ("cs.SI", 0.15)),
        field="ml",
        topic=_phrases(
            "graph neural networks; message passing; node classification; point clouds; semantic "
            "segmentation; contrastive pretraining; vision transformers; object detection; "
            "knowledge graphs; link prediction; oversmoothing; image retrieval; few-shot "
            "recognition; graph pooling; spectral filters; domain adaptation; data augmentation; "
            "stochastic gradient descent; learning rate schedules; exploration; imitation "
            "learning"
        ),
        papers=108,
        years=(2016, 2025),
        pool=30,
    ),
    Person(
        label="hep-th: holography and strings",
        primary=("hep-th", "hep-th", "gr-qc"),
        secondary=(("gr-qc", 0.35), ("hep-ph", 0.15)),
        field="hep",
        topic=_phrases(
            "AdS/CFT correspondence; black hole entropy; string compactifications; scattering "
            "amplitudes; entanglement entropy; Calabi-Yau manifolds; Wilson loops; anomalies; "
            "moduli spaces; de Sitter space; swampland conjectures; higher-spin fields; BPS "
            "states; boundary conditions"
        ),
        papers=82,
        years=(2015, 2025),
        pool=22,
    ),
    Person(
        label="q-bio: systems biology",
        primary=("q-bio.QM", "q-bio.MN", "q-bio.PE"),
        secondary=(("physics.bio-ph", 0.3), ("cs.LG", 0.15)),
        field="bio",
        topic=_phrases(
            "protein folding; gene regulatory networks; single-cell RNA sequencing; epidemic "
            "models; evolutionary dynamics; population genetics; metabolic networks; cell "
            "migration; tumor growth; phylogenetic inference; transcriptional noise; "
            "protein-protein interactions; immune response"
        ),
        papers=64,
        years=(2017, 2025),
        pool=20,
    ),
    Person(
        label="cond-mat: correlated electrons",
        primary=("cond-mat.str-el", "cond-mat.supr-con"),
        secondary=(("cond-mat.mes-hall", 0.3), ("cond-mat.mtrl-sci", 0.2)),
        field="mat",
        topic=_phrases(
            "high-temperature superconductivity; spin liquids; topological insulators; the "
            "Hubbard model; quantum phase transitions; magnetic frustration; charge density "
            "waves; Fermi surface reconstruction; electron-phonon coupling; Kitaev materials; "
            "antiferromagnetic order; Dirac semimetals; moire superlattices"
        ),
        papers=56,
        years=(2018, 2025),
        pool=18,
    ),
)
"""The namesakes; index 0 is the tracked one. The second shares a few subtopics with her."""


TRACKED = 0
FEED_SHARE = 0.4
"""Share of her papers her identifier feed lists (the issue: fewer than half)."""
STRANGERS_ONLY = 0.04
"""Share of papers written alone or with one-off co-authors only."""
ONE_OFF = 0.12
"""Chance that one co-author of a paper is a one-off (never seen again)."""
COAUTHOR_COUNTS = ((1, 0.16), (2, 0.32), (3, 0.30), (4, 0.15), (5, 0.07))
BRIDGE_RANKS = {0: 3, 1: 14}
"""Where :data:`BRIDGE` sits in each cs.LG pool (0 is the most frequent)."""
COLLISION_RANKS = {0: 9, 2: 2}

FIRST = _words(
    "Ada Alan Anna Bruno Carla Dana Dev Eli Emil Farah Fatima Gil Goran Hana Hugo Ines Ivan "
    "Jonas Jun Kira Kofi Lars Lena Mateo Mei Nils Nora Omar Otto Paz Priya Quinn Rafael "
    "Rina Sara Sofia Tariq Tomas Uma Vera Yara Yusuf Zoe Aiko Bilal Chiara Dmitri Elif "
    "Freya Gustavo Ilse Jakob Keiko Leila Marek Nadia Olga Pablo Ravi Selin Teo Vikram"
)
LAST = _words(
    "Abbott Alvarez Bauer Becker Castro Costa Dubois Eriksen Ferreira Fischer Garcia Haddad "
    "Hansen Ibrahim Ito Jensen Kato Keller Kowalski Kumar Larsen Lopez Moreau Morales Nakamura "
    "Novak Okafor Olsen Pereira Petrov Quinteros Rossi Sato Schmidt Silva Suzuki Tanaka "
    "Varga Vogel Weber Yilmaz Zielinski Andersson Brennan Chaudhry Demir Esposito Fontaine "
    "Grieve Horvat Iyer Jovanovic Kagame Lindgren Mbeki Nasser Oyelaran Park Rahman Sandoval"
)


def namesake_corpus(seed: int = 0, *, same_topic: bool = False) -> NamesakeCorpus:
    """The corpus of :data:`PEOPLE`, ids new style, numbered per month in date order."""
    rng = random.Random(seed)
    names = _NameSource(rng)
    pools = _pools(names)
    drafts = [
        (person, _draft(rng, index, person, pools[index], names))
        for index, person in enumerate(_people(same_topic))
        for _ in range(person.papers)
    ]
    papers, owner = _numbered(rng, drafts, start=1)
    hers = sorted(i for i, who in owner.items() if who == TRACKED)
    feed = frozenset(rng.sample(hers, int(len(hers) * FEED_SHARE)))
    return NamesakeCorpus(papers, owner, TRACKED, feed, tuple(pools), seed, same_topic)


def _people(same_topic: bool) -> tuple[Person, ...]:
    if not same_topic:
        return PEOPLE
    her, him = PEOPLE[TRACKED], PEOPLE[1]
    twin = replace(him, primary=her.primary, secondary=her.secondary, topic=her.topic)
    return (her, twin, *PEOPLE[2:])


def later_papers(corpus: NamesakeCorpus, per_person: int = 3) -> NamesakeCorpus:
    """``per_person`` new papers by each person, after every paper of ``corpus``.

    Same people, pools and rules (a new paper may bring a new collaborator); the ids
    continue the numbering. The feed claims none of them: evidence has to do the work.
    """
    rng = random.Random(f"later:{corpus.seed}:{per_person}")
    names = _NameSource(rng, taken=_all_names(corpus))
    last = max(p.published for p in corpus.papers)
    drafts = [
        (person, _draft(rng, index, person, corpus.pools[index], names, year=last.year + 1))
        for index, person in enumerate(_people(corpus.same_topic))
        for _ in range(per_person)
    ]
    papers, owner = _numbered(rng, drafts, start=_next_number(corpus))
    return replace(corpus, papers=papers, owner=owner, feed_ids=frozenset())


class _NameSource:
    """Distinct "First Last" names, never one already handed out."""

    def __init__(self, rng: random.Random, taken: set[str] | None = None) -> None:
        self.rng = rng
        self.taken = set(taken or ()) | {NAME, BRIDGE, COLLISION}

    def fresh(self) -> str:
        while True:
            name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def _pools(names: _NameSource) -> list[tuple[str, ...]]:
    """Disjoint pools, except :data:`BRIDGE` and :data:`COLLISION` where the issue puts them."""
    pools = []
    for index, person in enumerate(PEOPLE):
        pool = [names.fresh() for _ in range(person.pool)]
        for shared, ranks in ((BRIDGE, BRIDGE_RANKS), (COLLISION, COLLISION_RANKS)):
            if index in ranks:
                pool.insert(ranks[index], shared)
        pools.append(tuple(pool))
    return pools


@dataclass(frozen=True, slots=True)
class _Draft:
    """A paper before its id: ids are numbered per month once all dates are known."""

    owner: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published: date


def _draft(
    rng: random.Random,
    owner: int,
    person: Person,
    pool: Sequence[str],
    names: _NameSource,
    year: int | None = None,
) -> _Draft:
    coauthors = _coauthors(rng, pool, names)
    authors = list(coauthors)
    authors.insert(rng.randint(0, len(authors)), NAME)
    published = date(
        year if year is not None else rng.randint(*person.years),
        rng.randint(1, 12) if year is None else rng.randint(1, 3),
        rng.randint(1, 28),
    )
    title, abstract = _text(rng, person)
    return _Draft(owner, title, abstract, tuple(authors), _categories(rng, person), published)


def _coauthors(rng: random.Random, pool: Sequence[str], names: _NameSource) -> list[str]:
    """Drawn from the pool with Zipf-like weights (a few close collaborators, many
    occasional ones); now and then a one-off; rarely strangers only, or nobody."""
    if rng.random() < STRANGERS_ONLY:
        return [names.fresh() for _ in range(rng.choice((0, 1, 2)))]
    count = rng.choices([c for c, _ in COAUTHOR_COUNTS], [w for _, w in COAUTHOR_COUNTS])[0]
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(pool))]
    chosen: list[str] = []
    while len(chosen) < count:
        name = rng.choices(pool, weights)[0]
        if name not in chosen:
            chosen.append(name)
    if rng.random() < ONE_OFF:
        chosen[rng.randrange(len(chosen))] = names.fresh()
    return chosen


def _categories(rng: random.Random, person: Person) -> tuple[str, ...]:
    primary = rng.choice(person.primary)
    cross = [c for c, chance in person.secondary if c != primary and rng.random() < chance]
    return (primary, *cross)


def _text(rng: random.Random, person: Person) -> tuple[str, str]:
    """A title and a five-sentence abstract from the person's and the field's words."""
    words = FIELDS[person.field]

    def phrase() -> str:
        pick = person.topic if rng.random() < 0.7 else words["words"]
        return rng.choice(pick)

    adjective = rng.choice(words["adjectives"])
    title = rng.choice(TITLES).format(a=phrase(), b=phrase(), adj=adjective)
    templates = rng.sample(words["sentences"], 4)
    sentences = [s.format(a=phrase(), b=phrase(), adj=adjective) for s in templates]
    sentences.append(rng.choice(words["closing"]))
    return title[0].upper() + title[1:], " ".join(s[0].upper() + s[1:] for s in sentences)


TITLES = (
    "{adj} {a} for {b}",
    "on {a} in {b}",
    "{a} via {b}",
    "towards {adj} {a}",
    "revisiting {a} through {b}",
    "{a} and {b}: a {adj} analysis",
    "when does {a} help {b}?",
)


def _numbered(
    rng: random.Random, drafts: list[tuple[Person, _Draft]], start: int
) -> tuple[tuple[NamesakePaper, ...], dict[str, int]]:
    """Ids ``YYMM.NNNNN`` in order of submission, with gaps (other people's papers)."""
    ordered = sorted((d for _, d in drafts), key=lambda d: (d.published, d.owner, d.title))
    counters: dict[tuple[int, int], int] = {}
    papers, owner = [], {}
    for draft in ordered:
        month = (draft.published.year, draft.published.month)
        number = counters.get(month, start) + rng.randint(1, 400)
        counters[month] = number
        arxiv_id = f"{month[0] % 100:02d}{month[1]:02d}.{number:05d}"
        papers.append(
            NamesakePaper(
                arxiv_id, draft.title, draft.abstract, draft.authors, draft.categories,
                draft.published,
            )
        )  # fmt: skip
        owner[arxiv_id] = draft.owner
    return tuple(sorted(papers, key=lambda p: p.arxiv_id)), owner


def _all_names(corpus: NamesakeCorpus) -> set[str]:
    return {name for paper in corpus.papers for name in paper.authors}


def _next_number(corpus: NamesakeCorpus) -> int:
    """Above every number used so far, so later ids never collide with earlier ones."""
    return max(int(p.arxiv_id.split(".")[1]) for p in corpus.papers) + 1


def namesake_records(corpus: NamesakeCorpus, claimants: Sequence[str]) -> list[dict[str, Any]]:
    """The papers as look-alike records (:meth:`Corpus.from_dicts`), each paper of the
    tracked person's feed claimed by ``claimants`` (served at ``/a/{claimant}.atom2``)."""
    return [
        {
            "id": p.arxiv_id,
            "version": 1,
            "title": p.title,
            "summary": p.abstract,
            "authors": list(p.authors),
            "published": f"{p.published.isoformat()}T12:00:00Z",
            "updated": f"{p.published.isoformat()}T12:00:00Z",
            "primary_category": p.categories[0],
            "categories": list(p.categories),
            "claimants": list(claimants) if p.arxiv_id in corpus.feed_ids else [],
        }
        for p in corpus.papers
    ]
