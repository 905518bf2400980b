"""Co-author centroids kept between refreshes (``coauthor_centroid``, migration 0012): a
refresh by change reads back those no change touched, computes the others, and what it
stores equals a full recompute with the same model; a damaged stored centroid is computed
again, never used; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.corpus import CorpusAuthor
from arxiv_lookalike.synthetic import add_new_papers, author_config
from harvester.names import fold_name
from harvester.profile import refresh_similar_authors
from harvester.profile.coauthors import CoauthorVectors
from harvester.profile.derive import _model, _patch
from harvester.profile.similar import TOP_SIMILAR
from harvester.records import SimilarAuthor
from harvester.store import Store
from harvester.store.papers import log_changes

from .support import downgrade, harvest, make_settings, rows
from .test_derived import AUTHORS, START, _change, _computed_at, _joint_corpus, _stored


def _centroids(store: Store) -> dict[str, tuple[Any, ...]]:
    found = rows(store, "SELECT * FROM coauthor_centroid")
    return {
        r.folded_name: tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in found
    }


def _same_as_full(store: Store, when: datetime) -> dict[str, tuple[Any, ...]]:
    """Lists, profiles and centroids a refresh by change stored equal those of a full
    recompute with the same model (centroids: every name both stored); returns the
    centroids the refresh by change left."""
    updated, kept = _stored(store), _centroids(store)
    assert refresh_similar_authors(store, now=when, everything=True, refit=False)
    assert _stored(store) == updated
    full = _centroids(store)
    assert full and set(full) <= set(kept)
    assert {name: kept[name] for name in full} == full
    return kept


def test_stored_centroids_stay_those_of_a_full_recompute_after_changes(
    store: Store, db_url: str
) -> None:
    corpus, tracked = _joint_corpus(3)
    rng = random.Random(3)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
        first = _centroids(store)
        assert first  # the full recompute stored every co-author it read
        for day in range(1, 4):
            when = START + timedelta(days=day)
            _change(corpus, tracked, rng, when)  # new papers, new authors, a paper gone
            assert harvest(store, settings, full=True, when=when).exit_code == 0
            before = _centroids(store)
            assert refresh_similar_authors(store, now=when)
            after = _same_as_full(store, when)
            moved = {n for n in before if n in after and after[n] != before[n]}
            assert moved, f"day {day}: no co-author's recent papers changed"


def test_a_refresh_by_change_reads_stored_centroids_and_computes_the_touched(
    store: Store, db_url: str
) -> None:
    corpus, tracked = _joint_corpus(4)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
    names = sorted(_centroids(store))[:6]
    touched = set(names[:2])
    with store.corpus() as corpus_rows:
        stored = corpus_rows.model()
        assert stored is not None
        model = _model(stored)
        reading = CoauthorVectors(corpus_rows, model, reuse=True, touched=touched)
        computing = CoauthorVectors(corpus_rows, model)
        read, computed = reading.of(names), computing.of(names)
        assert (reading.computed, reading.read) == (2, 4)
        assert reading.unchanged(touched) == touched  # nothing changed since they were stored
    for i in range(len(names)):
        assert _row_of(read, i) == _row_of(computed, i)
    assert {c.name for c in reading.to_store()} == touched  # only what it computed


def test_a_damaged_stored_centroid_is_computed_again(store: Store, db_url: str) -> None:
    corpus, tracked = _joint_corpus(6)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
    good = _centroids(store)
    # a paper noted as changed: its profile's list is recomputed, reading the co-authors
    # not on that paper from the stored rows, three of which are damaged
    paper, owner = rows(store, "SELECT arxiv_id, author_key FROM membership ORDER BY arxiv_id")[0]
    on_paper = {
        r[0]
        for r in rows(store, "SELECT folded_name FROM paper_author WHERE arxiv_id = :i", i=paper)
    }
    (lines,) = rows(store, "SELECT coauthors FROM similar_profile WHERE author_key = :k", k=owner)[
        0
    ]
    read = [line.split("\t")[0] for line in lines.split("\n")]
    damaged = [name for name in read if name not in on_paper and name in good][:3]
    assert len(damaged) == 3
    weights = np.frombuffer(good[damaged[0]][4], dtype=np.float32) * 3  # no longer length 1
    update = "UPDATE coauthor_centroid SET {} = :value WHERE folded_name = :name"
    with store.engine.begin() as conn:
        conn.execute(
            text(update.format("topic_weights")), {"value": weights.tobytes(), "name": damaged[0]}
        )
        conn.execute(
            text(update.format("topic_terms")), {"value": b"\x01\x02\x03", "name": damaged[1]}
        )
        conn.execute(text(update.format("papers")), {"value": 10**6, "name": damaged[2]})
    with store.corpus() as corpus_rows:
        stored = corpus_rows.model()
        assert stored is not None
        reading = CoauthorVectors(corpus_rows, _model(stored), reuse=True)
        found = reading.of(damaged)
        assert (reading.read, reading.computed) == (0, 3)
        again = CoauthorVectors(corpus_rows, _model(stored)).of(damaged)
    for i in range(3):
        assert _row_of(found, i) == _row_of(again, i)
    with store.engine.begin() as conn:
        log_changes(conn, [paper])
    when = START + timedelta(days=1)
    before = _computed_at(store)
    assert refresh_similar_authors(store, now=when)
    assert _computed_at(store)[owner] != before[owner]
    after = _same_as_full(store, when)
    assert {name: after[name] for name in damaged} == {name: good[name] for name in damaged}


def test_a_change_that_leaves_a_co_author_s_papers_as_they_were_moves_no_list_of_theirs(
    store: Store, db_url: str
) -> None:
    """A paper noted as changed but written the same: its co-authors' centroids come out
    as stored, so only the lists of its own profiles (and those listing them) are
    recomputed, and the result is still a full recompute's."""
    corpus, tracked = _joint_corpus(7)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
    paper = rows(store, "SELECT arxiv_id FROM paper ORDER BY arxiv_id")[5][0]
    with store.engine.begin() as conn:
        log_changes(conn, [paper])
    before = _computed_at(store)
    when = START + timedelta(days=1)
    assert refresh_similar_authors(store, now=when)
    recomputed = {k for k, at in _computed_at(store).items() if at != before.get(k)}
    owners = {
        r[0] for r in rows(store, "SELECT author_key FROM membership WHERE arxiv_id = :i", i=paper)
    }
    assert owners <= recomputed
    assert len(recomputed) < AUTHORS
    _same_as_full(store, when)


def test_migration_0012_adds_the_centroids_and_goes_back(store: Store) -> None:
    from sqlalchemy import inspect

    def tables() -> set[str]:
        return set(inspect(store.engine).get_table_names())

    assert "coauthor_centroid" in tables()
    columns = {c["name"] for c in inspect(store.engine).get_columns("coauthor_centroid")}
    assert {"folded_name", "shown", "papers", "topic_terms", "category_weights"} <= columns
    downgrade(store, "0011")
    assert "coauthor_centroid" not in tables()
    store.upgrade()
    assert "coauthor_centroid" in tables()


def _row_of(found: Any, i: int) -> tuple[Any, ...]:
    topic, cats = found.topics[i], found.cats[i]
    return (
        found.shown[i],
        found.papers[i],
        topic.indices.tolist(),
        topic.data.tolist(),
        cats.indices.tolist(),
        cats.data.tolist(),
    )


def test_a_co_author_s_new_paper_settles_their_entries_in_place(
    store: Store, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """New papers of co-authors on others' lists (with a tracked author of their own):
    the lists that show them get their new entries in place, where the order is known,
    and everything stored still equals a full recompute's."""
    corpus, tracked = _joint_corpus(12)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
        shown = rows(
            store,
            "SELECT similar_name, count(*) AS lists FROM similar_author"
            " WHERE similar_key IS NULL GROUP BY similar_name ORDER BY lists DESC, similar_name",
        )
        names = [r[0] for r in shown[:6]]
        assert shown[0][1] >= 2
        when = START + timedelta(days=1)
        rng = random.Random(12)
        for name in names:  # a new paper of each, with a random tracked author
            (arxiv_id,) = add_new_papers(
                corpus, tracked, 1, published=when - timedelta(hours=3), seed=rng.random()
            )
            paper = corpus.get(arxiv_id)
            assert paper is not None
            corpus.upsert(replace(paper, authors=(*paper.authors, CorpusAuthor(name))))
        assert harvest(store, settings, full=True, when=when).exit_code == 0
    with caplog.at_level(logging.DEBUG, logger="harvester.profile.derive"):
        assert refresh_similar_authors(store, now=when)
    (line,) = [r.getMessage() for r in caplog.records if "settled in place" in r.getMessage()]
    settled = int(line.split(" settled")[0].rsplit(" ", 1)[1])
    assert settled > 0, line
    _same_as_full(store, when)


def _entry(name: str, score: float) -> SimilarAuthor:
    return SimilarAuthor(
        name=name,
        key=None,
        score=score,
        shared_papers=1,
        coauthor_score=0.3333,
        topic_score=0.1,
        category_score=0.2,
        shared_terms=("spectral",),
        shared_categories=("cs.LG",),
        reason="1 shared paper (2025); shared terms: spectral; shared categories: cs.LG",
    )


def test_an_entry_is_placed_only_where_its_rank_is_known() -> None:
    full = [_entry(f"Name {i:02d}", round(0.9 - 0.05 * i, 4)) for i in range(TOP_SIMILAR)]
    moved = full[3]

    def placed(score: float, stored: list[SimilarAuthor] = full) -> list[str] | None:
        fresh = {fold_name(moved.name): replace(moved, score=score)}
        found = _patch(stored, fresh)
        return None if found is None else [e.name for e in found]

    up = placed(0.87)  # above the second: it goes second, the rest keep their order
    assert up == [full[0].name, moved.name, *[e.name for e in full[1:] if e is not moved]]
    assert placed(full[-1].score + 0.01) is not None  # still above the last other one
    assert placed(full[-1].score - 0.01) is None  # below it: the 11th candidate is unknown
    assert placed(full[5].score + 0.0001) is None  # too close to a stored (rounded) score
    short = full[:4]
    assert placed(0.04, short) == [e.name for e in short if e is not moved]  # under 0.05
    assert placed(0.06, short) == [*[e.name for e in short if e is not moved], moved.name]
    every = {fold_name(e.name): replace(e, score=e.score + 0.01) for e in full}
    assert _patch(full, every) is None  # no other left to rank against
    found = _patch(full, {fold_name(moved.name): replace(moved, score=0.871234)})
    assert found is not None and found[1].score == 0.8712  # rounded as stored


def test_a_purge_notes_the_authors_of_the_papers_it_deletes(store: Store, db_url: str) -> None:
    """Their recent papers changed: the next refresh must not read their stored centroids
    back as if they held."""
    corpus, tracked = _joint_corpus(13)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
    key = rows(store, "SELECT author_key FROM membership ORDER BY author_key")[0][0]
    alone = rows(
        store,
        "SELECT m.arxiv_id FROM membership m WHERE m.author_key = :k AND NOT EXISTS"
        " (SELECT 1 FROM membership o WHERE o.arxiv_id = m.arxiv_id AND o.author_key <> :k)",
        k=key,
    )
    assert alone
    ids = sorted(r[0] for r in alone)
    authors = {
        (r[0], r[1])
        for r in rows(store, "SELECT arxiv_id, folded_name FROM paper_author")
        if r[0] in ids
    }
    store.purge_authors([key])
    noted = {
        (r[0], r[1])
        for r in rows(store, "SELECT arxiv_id, folded_name FROM derived_change")
        if r[1] is not None
    }
    assert authors and authors <= noted
    assert rows(store, "SELECT count(*) FROM paper WHERE arxiv_id = :i", i=ids[0]) == [(0,)]
    when = START + timedelta(days=1)
    assert refresh_similar_authors(store, now=when)
    _same_as_full(store, when)
