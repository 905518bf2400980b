"""A refresh goes a pass of profiles at a time and keeps the co-authors' centroids across
passes (:mod:`harvester.profile.coauthors`): neither the size of a pass nor what is kept
changes what is stored, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.synthetic import author_config
from harvester.profile.coauthors import CoauthorVectors
from harvester.profile.corpus import load_corpus
from harvester.profile.derive import Request, _model, plan_refresh
from harvester.profile.similar import compute_similar
from harvester.store import SimilarUpdate, Store

from .support import harvest, make_settings, rows
from .test_derived import AUTHORS, START, _change, _joint_corpus, _stored

SIZES = (1, 2, AUTHORS + 1)


def _harvested(store: Store, db_url: str, seed: int) -> Any:
    """The joint corpus of ``seed`` harvested, its derived data computed."""
    corpus, tracked = _joint_corpus(seed)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START, derive=True)
    return corpus


"""Profiles a pass: one, two, more than there are."""


def _plan(store: Store, request: Request, now: datetime) -> SimilarUpdate:
    with store.corpus() as corpus_rows:
        update = plan_refresh(corpus_rows, request, now)
    assert update is not None
    return update


def test_a_full_recompute_stores_the_same_whatever_the_pass_size(store: Store, db_url: str) -> None:
    _harvested(store, db_url, 8)
    stored = []
    for size in SIZES:
        update = _plan(store, Request(everything=True, per_pass=size), START)
        assert store.store_similar(update, START, force=True)
        stored.append(_stored(store))
    assert stored[0] == stored[1] == stored[2]
    assert len({r[0] for r in stored[0][0]}) == AUTHORS  # every profile has its list


def test_an_update_by_change_is_the_same_whatever_the_pass_size(store: Store, db_url: str) -> None:
    corpus, tracked = _joint_corpus(9)
    rng = random.Random(9)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START, derive=True)
        when = START + timedelta(days=1)
        _change(corpus, tracked, rng, when)
        harvest(store, settings, full=True, when=when)
    updates = [_plan(store, Request(per_pass=size), when) for size in SIZES]
    assert not updates[0].full and len(updates[0].lists) > 2  # more than one pass of two
    assert updates[0].lists == updates[1].lists == updates[2].lists
    assert updates[0].profiles == updates[1].profiles == updates[2].profiles


def test_lists_by_passes_equal_those_of_the_whole_corpus_at_once(store: Store, db_url: str) -> None:
    """The kept centroids are those each co-author's recent papers give: the lists equal
    :func:`~harvester.profile.similar.compute_similar` on a corpus holding every paper."""
    corpus = _harvested(store, db_url, 10)
    with store.corpus() as corpus_rows:
        update = plan_refresh(corpus_rows, Request(everything=True, per_pass=3), START)
        model = corpus_rows.model()
        profiles = dict(corpus_rows.tracked_profiles())
        whole = load_corpus(corpus_rows, list(profiles), profiles, authors=True)
    assert update is not None and model is not None
    assert len(whole.ids) == len(corpus)  # every paper has a tracked author: all are here
    assert update.lists == compute_similar(whole, _model(model))


def test_a_co_author_s_centroid_is_computed_once_while_it_is_kept(
    store: Store, db_url: str
) -> None:
    _harvested(store, db_url, 11)
    names = [r[0] for r in rows(store, "SELECT DISTINCT folded_name FROM paper_author")][:6]
    with store.corpus() as corpus_rows:
        stored = corpus_rows.model()
        assert stored is not None
        kept = CoauthorVectors(corpus_rows, _model(stored))
        one = kept.of(names[:4])
        again = kept.of([names[3], *names[4:], names[0]])
        assert kept.computed == 6  # names[3] and names[0] were kept
        small = CoauthorVectors(corpus_rows, _model(stored), limit=2)
        small.of(names[:4])
        small.of(names[:2])
        assert small.computed == 6  # only names[2:4] were kept, the first two again
    assert _rows_of(again, 0) == _rows_of(one, 3) and _rows_of(again, 3) == _rows_of(one, 0)
    assert all(count > 0 for count in one.papers)
    assert one.topics.shape[0] == 4 and one.cats.shape[0] == 4


def _rows_of(found: Any, i: int) -> tuple[Any, ...]:
    topic, cats = found.topics[i], found.cats[i]
    return (
        found.shown[i],
        topic.indices.tolist(),
        topic.data.tolist(),
        cats.indices.tolist(),
        cats.data.tolist(),
    )
