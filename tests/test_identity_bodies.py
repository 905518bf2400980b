"""Co-author links bind across fields, and bridges do not merge people (issue 24).

A unique name whose work moves to other fields (:mod:`arxiv_lookalike.movers`) keeps every
paper a co-author links to hers, with or without an anchor, in :func:`judge` and in a
harvest over HTTP into SQLite and PostgreSQL; two "Wei Zhang"s of one field who meet
through one co-author are kept apart without an anchor (:mod:`harvester.identity.communities`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.movers import MOVER, mover_corpus
from arxiv_lookalike.namesakes import BRIDGE, COLLISION, NamesakeCorpus, namesake_corpus
from arxiv_lookalike.namesakes import namesake_records as records_of
from harvester.identity import Candidate, judge
from harvester.identity.communities import Communities
from harvester.identity.space import Space
from harvester.store import Store
from harvester.vocabulary import Decision

from .support import harvest, make_settings, rows

SEEDS = [0, 1, 2, 3]


def candidates(corpus: NamesakeCorpus, name: str) -> list[Candidate]:
    return [
        Candidate(
            p.arxiv_id,
            tuple(a for a in p.authors if a != name),
            p.categories,
            f"{p.title}. {p.abstract}",
            p.published.year,
        )
        for p in corpus.papers
    ]


def test_the_mover_corpus_is_the_issues_case() -> None:
    corpus = mover_corpus(seed=0)
    main = [p for p in corpus.papers if p.categories[0] in {"stat.ML", "cs.LG"}]
    neuro = [p for p in corpus.papers if p.categories[0] == "q-bio.NC"]
    optics = [p for p in corpus.papers if p.categories[0] == "physics.optics"]
    assert (len(main), len(neuro), len(optics)) == (30, 4, 2)
    frequent, *usual = corpus.pools[0]
    assert sum(frequent in p.authors for p in main) == 7
    assert all(frequent in p.authors for p in neuro)
    assert all(set(p.authors) - {MOVER} <= set(usual) for p in optics)
    assert all(MOVER in p.authors for p in corpus.papers)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_unique_name_moving_between_fields_keeps_every_linked_paper(seed: int) -> None:
    corpus = mover_corpus(seed=seed)
    found = candidates(corpus, MOVER)
    main = sorted(p.arxiv_id for p in corpus.papers if p.categories[0] in {"stat.ML", "cs.LG"})
    for anchored in ((), main[:10]):
        judgement = judge(found, anchored=anchored)
        kept = {i for i, v in judgement.verdicts.items() if v.decision == Decision.ACCEPTED}
        assert kept == {p.arxiv_id for p in corpus.papers}, (seed, len(anchored))
        assert not judgement.ambiguous


def test_a_solo_paper_in_a_new_field_with_nobody_else_in_sight_is_held_never_rejected() -> None:
    corpus = mover_corpus(seed=0)
    found = candidates(corpus, MOVER)
    optics = next(c for c in found if c.categories[0] == "physics.optics")
    alone = Candidate(optics.arxiv_id, ("Somebody New",), optics.categories, optics.text, 2025)
    others = [c for c in found if c.arxiv_id != optics.arxiv_id]
    members = {c.arxiv_id for c in others}
    verdict = judge([*others, alone], accepted=members).verdicts[alone.arxiv_id]
    assert verdict.decision != Decision.REJECTED, verdict.reason


@pytest.mark.parametrize("seed", SEEDS)
def test_a_bridge_and_a_colliding_name_do_not_merge_communities(seed: int) -> None:
    corpus = namesake_corpus(seed=seed)
    space = Space(candidates(corpus, "Wei Zhang"))
    communities = Communities(space.coauthors, np.arange(len(space.ids)))
    cut = {space.names[name] for name, _ in communities.cut}
    assert {BRIDGE.casefold(), COLLISION.casefold()} <= {n.casefold() for n in cut}
    for group in communities.groups():
        if len(group) >= 10:
            owners = [corpus.owner[space.ids[i]] for i in group]
            top = max(set(owners), key=owners.count)
            assert owners.count(top) / len(owners) >= 0.95


@pytest.fixture
def mover_server() -> Iterator[LookalikeServer]:
    with LookalikeServer(Corpus.from_dicts(records_of(mover_corpus(seed=0), ()))) as server:
        yield server


def test_a_harvest_keeps_all_36_papers_of_the_moving_author(
    store: Store, mover_server: LookalikeServer, db_url: str
) -> None:
    who = {"key": "mover", "name": MOVER}
    settings = make_settings(db_url, mover_server.url, authors=[who], page_size=200)
    report = harvest(store, settings)
    assert report.exit_code == 0, report.authors[0].line()
    kept = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM profile_papers")}
    assert kept == {p.arxiv_id for p in mover_corpus(seed=0).papers}
    assert rows(store, "SELECT arxiv_id FROM review_queue") == []
    count = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = 'mover'")
    assert count == [(36,)]


# -- a claim is strong evidence, not a chain reaction ---------------------------------------


@pytest.fixture(scope="module")
def namesakes() -> NamesakeCorpus:
    return namesake_corpus(seed=0)


def test_a_mistaken_claim_is_held_and_brings_in_nothing(namesakes: NamesakeCorpus) -> None:
    found = candidates(namesakes, "Wei Zhang")
    his = [p.arxiv_id for p in namesakes.papers_of(1)]
    wrong = his[len(his) // 2]
    plain = judge(found, anchored=namesakes.feed_ids)
    judgement = judge(found, anchored={*namesakes.feed_ids, wrong})
    verdict = judgement.verdicts[wrong]
    assert verdict.decision == Decision.HELD
    assert verdict.reason.startswith("claimed, but its co-authors are those of another body")
    assert judgement.ambiguous, "the profile is flagged"
    kept = {i for i, v in judgement.verdicts.items() if v.decision == Decision.ACCEPTED}
    before = {i for i, v in plain.verdicts.items() if v.decision == Decision.ACCEPTED}
    assert kept == before


def test_a_persons_acceptances_apply_to_the_papers_named_only(namesakes: NamesakeCorpus) -> None:
    """Accepting 40 of the other Wei Zhang's held papers brings in those 40, no more; a
    rejection of them later leaves nothing of his behind."""
    found = candidates(namesakes, "Wei Zhang")
    his = [p.arxiv_id for p in namesakes.papers_of(1)]
    plain = judge(found, anchored=namesakes.feed_ids)
    before = {i for i, v in plain.verdicts.items() if v.decision == Decision.ACCEPTED}
    judgement = judge(found, anchored=namesakes.feed_ids, named=his[:40])
    kept = {i for i, v in judgement.verdicts.items() if v.decision == Decision.ACCEPTED}
    assert kept == before | set(his[:40])
    assert all(judgement.verdicts[i].reason.startswith("accepted by a person") for i in his[:40])
    undone = judge(found, anchored=namesakes.feed_ids, rejected=his[:40])
    after = {i for i, v in undone.verdicts.items() if v.decision == Decision.ACCEPTED}
    assert after == before


@pytest.mark.parametrize("seed", SEEDS)
def test_with_an_anchor_far_candidates_are_rejected_and_few_held(seed: int) -> None:
    corpus = namesake_corpus(seed=seed)
    judgement = judge(candidates(corpus, "Wei Zhang"), anchored=corpus.feed_ids)
    verdicts = judgement.verdicts.values()
    hers = {p.arxiv_id for p in corpus.papers_of(corpus.tracked)}
    kept = {v.arxiv_id for v in verdicts if v.decision == Decision.ACCEPTED}
    held = [v for v in verdicts if v.decision == Decision.HELD]
    precision, recall = len(kept & hers) / len(kept), len(kept & hers) / len(hers)
    print(f"\nseed {seed}: held {len(held)}/{len(verdicts)}, precision {precision:.3f},"
          f" recall {recall:.3f}")  # fmt: skip
    assert len(held) <= 0.10 * len(verdicts)
    assert precision >= 0.98 and recall >= 0.95
    far = [v for v in verdicts if v.reason.startswith("rejected: another body's")]
    assert far and all(v.decision == Decision.REJECTED and v.arxiv_id not in hers for v in far)


def test_a_held_paper_a_complete_harvest_no_longer_returns_leaves_the_queue() -> None:
    from harvester.changes import NO_LONGER_RETURNED, plan_changes
    from harvester.plans import Seen
    from harvester.vocabulary import Membership

    held = Seen("2401.00001", Membership.HELD, None, "held", 1, False, {}, 0.3)
    full = plan_changes({held.arxiv_id: held}, [], baseline=False, identity_changed=False,
                        still_belongs=lambda _: True)  # fmt: skip
    assert [(s.status, s.reason) for s in full.writes] == [
        (Membership.REJECTED, NO_LONGER_RETURNED)
    ]
    assert full.events == [] and full.paper_count == 0
    partial = plan_changes({held.arxiv_id: held}, [], baseline=False, identity_changed=False,
                           still_belongs=lambda _: True, partial=True)  # fmt: skip
    assert partial.writes == [], "an incremental harvest sees only recent papers"
