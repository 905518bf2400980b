"""What a seed alone brought in goes with it, end to end (:mod:`harvester.identity.provenance`).

A small corpus of one name, served by the look-alike over HTTP, harvested into a real
SQLite file and a real PostgreSQL schema: Lena Okafor's machine-learning papers (co-authors
of their own, half of them in her identifier feed) and a line of neuroscience papers of the
same name with other co-authors. When her feed also claims two of the neuroscience papers,
the evidence draws the other four in through their co-authors; when the feed stops claiming
them, the next complete full harvest takes the six out with an event each, and keeps her own
papers (her remaining claims support them). A person's acceptance draws nothing in, and
forgetting it takes out only the papers it named.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect

from arxiv_lookalike import Corpus, LookalikeServer
from harvester.store import Store

from .support import downgrade, harvest, make_settings, rows

NAME = "Lena Okafor"
KEY = "okafor"
FEED = "okafor_l_1"
HERS = [f"2401.{n:05d}" for n in range(1, 11)]
THEIRS = [f"2402.{n:05d}" for n in range(1, 7)]
CLAIMED_HERS = HERS[:5]
CLAIMED_THEIRS = THEIRS[:2]

ML_TEXT = """graph neural networks message passing node embeddings attention transformers
gradient descent convergence regularisation benchmark generalisation optimiser contrastive
representation learning sparse training datasets"""
NEURO_TEXT = """cortical neurons synaptic plasticity hippocampus spike trains calcium imaging
dendritic integration neural circuits mice behaviour recordings electrophysiology
oscillations place cells memory consolidation"""
ML_WORDS, NEURO_WORDS = ML_TEXT.split(), NEURO_TEXT.split()
ML_PEOPLE = ("Ivo Marsh", "Tomas Reyes", "Ana Kovac", "Pia Lund")
NEURO_PEOPLE = ("Omar Haddad", "Sara Niemi", "Jon Alto")


def _record(arxiv_id: str, n: int, words: list[str], people: tuple[str, ...]) -> dict[str, Any]:
    rng = random.Random(arxiv_id)
    title = " ".join(rng.sample(words, 5)).capitalize()
    summary = ". ".join(" ".join(rng.sample(words, 9)) for _ in range(3)) + "."
    coauthors = [people[n % len(people)], people[(n + 1) % len(people)]]
    neuro = people == NEURO_PEOPLE
    when = f"20{20 + n % 5}-0{1 + n % 9}-1{n % 9}T12:00:00Z"
    return {
        "id": arxiv_id,
        "version": 1,
        "title": title,
        "summary": summary,
        "authors": [NAME, *coauthors],
        "published": when,
        "updated": when,
        "primary_category": "q-bio.NC" if neuro else "cs.LG",
        "categories": ["q-bio.NC"] if neuro else ["cs.LG", "stat.ML"],
        "claimants": [],
    }


def records(claimed: set[str]) -> list[dict[str, Any]]:
    papers = [_record(i, n, ML_WORDS, ML_PEOPLE) for n, i in enumerate(HERS)]
    papers += [_record(i, n, NEURO_WORDS, NEURO_PEOPLE) for n, i in enumerate(THEIRS)]
    return [{**p, "claimants": [FEED] if p["id"] in claimed else []} for p in papers]


def claim(server: LookalikeServer, claimed: set[str]) -> None:
    """The feed claims exactly ``claimed`` from now on."""
    for record in records(claimed):
        server.corpus.upsert(record)


@pytest.fixture
def okafor_server() -> Iterator[LookalikeServer]:
    corpus = Corpus.from_dicts(records(set(CLAIMED_HERS)))
    with LookalikeServer(corpus) as server:
        yield server


def settings_for(server: LookalikeServer, db_url: str, **arxiv: Any) -> Any:
    who = {"key": KEY, "name": NAME, "arxiv_author_id": FEED}
    feeds = server.base_url + "/a"
    return make_settings(db_url, server.url, authors=[who], author_feed_url=feeds, **arxiv)


def members(store: Store) -> set[str]:
    return {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM profile_papers")}


def drawn_by(store: Store) -> dict[str, str | None]:
    found = rows(store, "SELECT arxiv_id, drawn_by FROM membership WHERE status = 'active'")
    return {r.arxiv_id: r.drawn_by for r in found}


def events(store: Store, kind: str) -> dict[str, str]:
    found = rows(store, "SELECT arxiv_id, detail FROM paper_events WHERE kind = :k", k=kind)
    return {r.arxiv_id: r.detail for r in found}


def test_what_a_claim_alone_drew_in_goes_with_the_claim(
    store: Store, okafor_server: LookalikeServer, db_url: str
) -> None:
    settings = settings_for(okafor_server, db_url)
    assert harvest(store, settings).exit_code == 0
    assert members(store) == set(HERS), "her claims bring in hers, and nothing of the other line"
    claim(okafor_server, {*CLAIMED_HERS, *CLAIMED_THEIRS})
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == {*HERS, *THEIRS}, "two genuine claims draw the other four in"
    provenance = drawn_by(store)
    drawn = THEIRS[2:]
    assert all(set(CLAIMED_THEIRS) <= set((provenance[i] or "").split()) for i in drawn)
    assert all(provenance[i] == i for i in CLAIMED_THEIRS), "a claim keeps itself in"
    assert set(events(store, "new_paper")) == set(THEIRS)

    claim(okafor_server, set(CLAIMED_HERS))
    assert harvest(store, settings).exit_code == 0  # incremental: nothing is taken out
    assert members(store) == {*HERS, *THEIRS}
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == set(HERS), "her own papers stay: her remaining claims hold them"
    excluded = events(store, "excluded")
    assert set(excluded) == set(THEIRS), "each paper that goes says why"
    for arxiv_id in CLAIMED_THEIRS:
        assert excluded[arxiv_id].startswith("no longer claimed; "), excluded[arxiv_id]
    for arxiv_id in drawn:
        gone = f"brought in by {', '.join(CLAIMED_THEIRS)}, no longer claimed; "
        assert excluded[arxiv_id].startswith(gone), excluded[arxiv_id]
    count = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = :k", k=KEY)
    assert count == [(len(HERS),)]
    assert not set(THEIRS) & set(drawn_by(store)), "none of them is a member"
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == set(HERS) and set(events(store, "excluded")) == set(THEIRS)


def test_when_a_person_rejects_the_claims_what_they_drew_in_goes(
    store: Store, okafor_server: LookalikeServer, db_url: str
) -> None:
    """A person wins over the feed: rejecting the two claims at once takes them out, and
    the next full harvest the four papers they drew in, each with why."""
    from harvester.review import decide

    settings = settings_for(okafor_server, db_url)
    claim(okafor_server, {*CLAIMED_HERS, *CLAIMED_THEIRS})
    assert harvest(store, settings).exit_code == 0
    assert members(store) == {*HERS, *THEIRS}
    decide(store, KEY, [], CLAIMED_THEIRS, datetime.now(UTC))
    assert members(store) == {*HERS, *THEIRS[2:]}, "the decision applies at once to those named"
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == set(HERS)
    excluded = events(store, "excluded")
    assert set(excluded) == set(THEIRS)
    gone = f"brought in by {', '.join(CLAIMED_THEIRS)}, rejected by a person; "
    assert all(excluded[i].startswith(gone) for i in THEIRS[2:]), excluded


def test_a_persons_acceptance_draws_nothing_and_forgetting_it_takes_what_it_named(
    store: Store, okafor_server: LookalikeServer, db_url: str
) -> None:
    from harvester.review import decide

    settings = settings_for(okafor_server, db_url)
    assert harvest(store, settings).exit_code == 0
    taken = CLAIMED_THEIRS
    decide(store, KEY, taken, [], datetime.now(UTC))
    assert members(store) == {*HERS, *taken}, "applied at once, to the papers named"
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == {*HERS, *taken}, "the evidence draws nothing after them"
    assert not any(drawn_by(store)[i] for i in taken)
    decide(store, KEY, [], [], datetime.now(UTC), forget=taken)
    assert members(store) == set(HERS)
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == set(HERS), "nothing of that line stays behind"
    assert set(events(store, "excluded")) == set(taken)


def test_migration_0010_keeps_the_memberships_and_goes_back(
    store: Store, okafor_server: LookalikeServer, db_url: str
) -> None:
    """Down to 0009 the column goes and the memberships stay; up again, the next full
    harvest records the provenance anew."""
    settings = settings_for(okafor_server, db_url)
    assert harvest(store, settings).exit_code == 0
    downgrade(store, "0009")
    columns = {c["name"] for c in inspect(store.engine).get_columns("membership")}
    assert "drawn_by" not in columns
    assert members(store) == set(HERS)
    store.upgrade()
    assert set(drawn_by(store).values()) == {None}
    assert harvest(store, settings, full=True).exit_code == 0
    assert members(store) == set(HERS)
    provenance = drawn_by(store)
    assert all(provenance[i] == i for i in CLAIMED_HERS), "a claim keeps itself in"


def test_when_her_feed_drops_one_claim_her_papers_stay(store: Store, db_url: str) -> None:
    """The five "Wei Zhang"s: her feed stops claiming one of her 49 papers; the papers the
    evidence accepted through her claims are judged again, and every one stays (the other
    claims support them); the paper itself stays on its co-authors."""
    from arxiv_lookalike.namesakes import NAME as ZHANG
    from arxiv_lookalike.namesakes import namesake_corpus, namesake_records

    namesakes = namesake_corpus(seed=0)
    feed = "zhang_w_1"
    with LookalikeServer(Corpus.from_dicts(namesake_records(namesakes, (feed,)))) as server:
        who = {"key": "zhang", "name": ZHANG, "arxiv_author_id": feed}
        settings = make_settings(
            db_url, server.url, authors=[who], author_feed_url=server.base_url + "/a", page_size=200
        )
        assert harvest(store, settings).exit_code == 0
        before = members(store)
        drawn = {i for i, d in drawn_by(store).items() if d and d != i}
        assert drawn, "her claims drew papers in"
        dropped = sorted(namesakes.feed_ids)[0]
        paper = server.corpus.get(dropped)
        assert paper is not None
        server.corpus.upsert({**paper.to_dict(), "claimants": []})
        assert harvest(store, settings, full=True).exit_code == 0
        assert members(store) == before
        assert events(store, "excluded") == {}
        print(f"\n{len(before)} members, {len(drawn)} drawn by her claims")


def test_a_new_paper_of_a_line_a_person_accepted_is_not_drawn_in(
    store: Store, okafor_server: LookalikeServer, db_url: str
) -> None:
    """The papers a person accepted are not evidence in an incremental harvest either
    (there they are members the answer did not return: pages of 5 papers, newest first): a
    new paper of that line with their co-authors is not drawn in after them."""
    from harvester.review import decide

    settings = settings_for(okafor_server, db_url, page_size=5)
    assert harvest(store, settings).exit_code == 0
    decide(store, KEY, THEIRS, [], datetime.now(UTC))
    assert members(store) == {*HERS, *THEIRS}
    when = "2026-03-02T12:00:00Z"
    later = _record("2603.00001", 1, NEURO_WORDS, NEURO_PEOPLE)
    okafor_server.corpus.upsert({**later, "published": when, "updated": when})
    assert harvest(store, settings).exit_code == 0
    modes = rows(store, "SELECT mode FROM harvest_runs ORDER BY run_id")
    assert modes[-1] == ("incremental",)
    assert "2603.00001" not in members(store), "a decision draws nothing after it"
    returned = rows(store, "SELECT entries_seen FROM run ORDER BY run_id DESC LIMIT 1")
    assert returned[0][0] < len(HERS) + len(THEIRS), "the papers accepted were not returned"
