"""Derived data by change: a refresh recomputes only the lists a cycle's changes reach,
and what it stores equals a full recompute with the same model, on SQLite and PostgreSQL.

The corpus is synthetic: tracked authors who write together and share filler co-authors,
then rounds of upstream changes of every kind a harvest records (new papers, new versions
with new text, categories or authors, a tracked author added to a paper, a paper gone).
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.corpus import CorpusAuthor
from arxiv_lookalike.synthetic import add_new_papers, author_config, synthetic_corpus
from harvester.profile import refresh_similar_authors
from harvester.store import Store

from .support import harvest, make_settings, rows, run_cli, write_config

AUTHORS, PAPERS, TEAM = 60, 5, 6
START = datetime(2026, 11, 1, 6, tzinfo=UTC)


def _joint_corpus(seed: int) -> tuple[Corpus, list[Any]]:
    """A synthetic corpus where a third of the papers have a second tracked author, from
    the first one's team of :data:`TEAM`."""
    corpus, tracked = synthetic_corpus(AUTHORS, PAPERS, seed=seed, coauthors=3)
    team = {a.name: i // TEAM for i, a in enumerate(tracked)}
    rng = random.Random(seed)
    for paper in corpus.papers():
        first = next(team[a.name] for a in paper.authors if a.name in team)
        if rng.random() < 0.33:
            other = CorpusAuthor(rng.choice(tracked[first * TEAM : (first + 1) * TEAM]).name)
            if other not in paper.authors:
                corpus.upsert(replace(paper, authors=(*paper.authors, other)))
    return corpus, tracked


def _change(corpus: Corpus, tracked: list[Any], rng: random.Random, when: datetime) -> None:
    """One round of upstream changes, all dated ``when``."""
    papers = list(corpus.papers())
    add_new_papers(corpus, tracked, 2, published=when - timedelta(hours=2), seed=rng.random())
    text, authors, categories, gone = rng.sample(papers, 4)
    corpus.revise(text.arxiv_id, updated=when, summary=f"{text.summary} Sparse spectral bandits.")
    moved = (
        *authors.authors[:-1],
        CorpusAuthor(rng.choice(tracked).name),
        CorpusAuthor("Q Newcomer"),
    )
    corpus.revise(authors.arxiv_id, updated=when, authors=moved)
    corpus.revise(
        categories.arxiv_id, updated=when, categories=("q-bio.NC",), primary_category="q-bio.NC"
    )
    corpus.remove(gone.arxiv_id)


def _stored(store: Store) -> tuple[list[Any], list[Any]]:
    lists = rows(
        store,
        "SELECT author_key, position, similar_name, similar_key, score, shared_papers,"
        " coauthor_score, topic_score, category_score, shared_terms, shared_categories, reason"
        " FROM similar_author ORDER BY author_key, position",
    )
    profiles = rows(store, "SELECT * FROM similar_profile ORDER BY author_key")
    return [tuple(r) for r in lists], [tuple(r) for r in profiles]


def _computed_at(store: Store) -> dict[str, datetime]:
    found = rows(
        store, "SELECT author_key, max(computed_at) AS at FROM similar_author GROUP BY author_key"
    )
    return {r.author_key: r.at for r in found}


@pytest.mark.parametrize("seed", [1, 2])
def test_an_update_by_change_equals_a_full_recompute_with_the_same_model(
    store: Store, db_url: str, seed: int
) -> None:
    corpus, tracked = _joint_corpus(seed)
    rng = random.Random(seed)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        assert harvest(store, settings, full=True, when=START, derive=True).exit_code == 0
        assert rows(store, "SELECT count(*) FROM derived_change") == [(0,)]
        for day in range(1, 4):
            when = START + timedelta(days=day)
            _change(corpus, tracked, rng, when)
            report = harvest(store, settings, full=True, when=when)
            assert report.exit_code == 0
            assert rows(store, "SELECT count(*) FROM derived_change")[0][0] > 0
            before = _computed_at(store)
            assert refresh_similar_authors(store, now=when)
            updated = _stored(store)
            touched = [k for k, at in _computed_at(store).items() if at != before.get(k)]
            assert refresh_similar_authors(store, now=when, everything=True, refit=False)
            assert _stored(store) == updated, f"day {day}"
            assert 0 < len(touched) < AUTHORS, touched  # the cost follows the change
    assert refresh_similar_authors(store) is False  # nothing changed since


def test_a_quiet_cycle_leaves_nothing_to_recompute(store: Store, db_url: str) -> None:
    corpus, tracked = _joint_corpus(5)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START, derive=True)
        stored = _stored(store)
        harvest(store, settings, when=START + timedelta(days=1), derive=True)
    assert rows(store, "SELECT count(*) FROM derived_change") == [(0,)]
    assert _stored(store) == stored
    assert refresh_similar_authors(store) is False


def test_the_model_is_refitted_when_asked_and_when_the_corpus_has_grown(
    store: Store, db_url: str
) -> None:
    corpus, tracked = _joint_corpus(7)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START, derive=True)
        ((fitted, papers),) = rows(store, "SELECT fitted_at, papers FROM similar_model")
        assert papers == len(corpus)
        add_new_papers(corpus, tracked, 3, published=START + timedelta(hours=20))
        later = START + timedelta(days=1)
        harvest(store, settings, when=later, derive=True)  # 3 of 126: the same model
        assert rows(store, "SELECT fitted_at FROM similar_model") == [(fitted,)]
        grown = len(corpus) // 5
        add_new_papers(corpus, tracked, grown, published=later + timedelta(hours=20))
        harvest(store, settings, when=later + timedelta(days=1), derive=True)
        ((refitted, papers),) = rows(store, "SELECT fitted_at, papers FROM similar_model")
        assert refitted > fitted and papers == len(corpus)
    assert refresh_similar_authors(store, everything=True)
    assert rows(store, "SELECT count(*) FROM similar_model") == [(1,)]


ASTRONOMY = (
    "Quasar absorption spectra trace galactic outflows; we measure redshift distributions "
    "of circumgalactic gas with spectroscopic surveys of nebulae and stellar halos."
)


def test_a_profile_that_moves_towards_another_enters_its_list_without_touching_it(
    store: Store, db_url: str
) -> None:
    """B writes alone on a subject of its own; the only change: new papers of A on B's
    subject. B's papers did not change, but A is now among B's most similar authors: B's
    list is recomputed too."""
    corpus, tracked = _joint_corpus(3)
    a, b = tracked[0], tracked[-1]
    theirs = [p for p in corpus.papers() if b.name in {x.name for x in p.authors}]
    for paper in theirs:
        corpus.upsert(
            replace(
                paper,
                authors=(CorpusAuthor(b.name),),
                summary=ASTRONOMY,
                categories=("astro-ph.GA",),
                primary_category="astro-ph.GA",
            )
        )
    sql = f"SELECT similar_key FROM similar_author WHERE author_key = '{b.key}'"
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START, derive=True)
        assert a.key not in {r[0] for r in rows(store, sql)}
        ids = add_new_papers(corpus, [a], 3 * len(theirs), published=START + timedelta(hours=20))
        for new in ids:
            paper = corpus.get(new)
            assert paper is not None
            corpus.upsert(
                replace(
                    paper,
                    summary=ASTRONOMY,
                    categories=("astro-ph.GA",),
                    primary_category="astro-ph.GA",
                )
            )
        when = START + timedelta(days=1)
        harvest(store, settings, when=when)
    assert refresh_similar_authors(store, now=when)
    assert a.key in {r[0] for r in rows(store, sql)}
    updated = _stored(store)
    assert refresh_similar_authors(store, now=when, everything=True, refit=False)
    assert _stored(store) == updated


def test_refresh_from_the_command_line(store: Store, db_url: str, tmp_path: Path) -> None:
    corpus, tracked = _joint_corpus(4)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START)
        site = tmp_path / "site"
        config = write_config(
            tmp_path,
            db_url,
            server.url,
            authors=author_config(tracked),
            output={"html_dir": str(site)},
        )
        first = run_cli("refresh", "--config", str(config))
        pages = len([p for p in site.iterdir() if not p.name.startswith(".")])
        again = run_cli("refresh", "--config", str(config))
        everything = run_cli("refresh", "--all", "--config", str(config))
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == (  # says what it did: the site was not there, all of it is new
        f"similar authors updated\nsite: {pages} files rewritten in {site}\n"
    )
    assert pages > AUTHORS
    assert again.returncode == 0
    similar, site_line = again.stdout.splitlines()
    assert similar == "similar authors are current"
    assert re.fullmatch(rf"site: (\d+) files? rewritten in {re.escape(str(site))}", site_line)
    assert int(site_line.split()[1]) < pages  # the pages nothing changed kept
    assert everything.returncode == 0
    assert everything.stdout.startswith(
        "similar authors recomputed for every profile, with a newly fitted model\n"
    )
    assert len(rows(store, "SELECT DISTINCT author_key FROM similar_author")) == AUTHORS


def test_a_change_written_during_a_refresh_is_left_for_the_next(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A harvest may commit while a refresh reads its snapshot: its changes are not taken
    into account, so they are not deleted either; the next refresh takes them."""
    from harvester.profile import derive
    from harvester.store.papers import log_changes

    corpus, tracked = _joint_corpus(6)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, when=START, derive=True)
        add_new_papers(corpus, tracked, 2, published=START + timedelta(hours=20))
        harvest(store, settings, when=START + timedelta(days=1))
    some = corpus.papers()[0].arxiv_id
    planned = derive.plan_refresh

    def meanwhile(rows: Any, request: Any, now: datetime) -> Any:
        with store.engine.begin() as conn:
            log_changes(conn, [some])
        return planned(rows, request, now)

    monkeypatch.setattr(derive, "plan_refresh", meanwhile)
    assert refresh_similar_authors(store)
    monkeypatch.setattr(derive, "plan_refresh", planned)
    assert rows(store, "SELECT arxiv_id FROM derived_change") == [(some,)]
    assert refresh_similar_authors(store)
    assert rows(store, "SELECT count(*) FROM derived_change") == [(0,)]


HEAVY_PACKAGES = frozenset(
    {"sklearn", "scipy", "numpy", "networkx", "apprise", "alembic", "mako", "pygments"}
    | {"pylatexenc", "tqdm", "multiprocessing", "jinja2", "markdown"}
)
"""What a quiet ``harvest --once`` uses none of: the similar authors' method, the identity
evidence's graphs, notifications (none configured), migrations (the schema is at head),
raw author lists (OAI-PMH and snapshots), the progress bar (no terminal), the snapshot
import's worker process."""
HEAVY_MODULES = frozenset(
    {"harvester.profile.derive", "harvester.profile.site", "harvester.profile.render"}
    | {"harvester.profile.render_html", "harvester.profile.render_text"}
    | {"harvester.profile.stats", "harvester.identity.judgement", "harvester.daemon"}
)
"""Our own modules a quiet cycle has no use for: the refresh's method, the renderers."""
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$", re.MULTILINE)


def imported(stderr: str) -> set[str]:
    """The modules a process run with ``PYTHONPROFILEIMPORTTIME=1`` imported."""
    return set(_IMPORTED.findall(stderr))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY_PACKAGES or m in HEAVY_MODULES}


def test_a_quiet_cycle_imports_nothing_it_does_not_use(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """A steady ``harvest --once`` with nothing new decides the similar authors are current
    from the change count and the model's header, and finds the schema at its newest
    revision: none of :data:`HEAVY_PACKAGES` or :data:`HEAVY_MODULES` is imported. A cycle
    with a change does import the scientific libraries and the refresh's method."""
    corpus, tracked = _joint_corpus(5)
    with LookalikeServer(corpus) as server:
        settings = make_settings(db_url, server.url, authors=author_config(tracked))
        harvest(store, settings, full=True, derive=True)
        config = str(write_config(tmp_path, db_url, server.url, authors=author_config(tracked)))
        timed = {"PYTHONPROFILEIMPORTTIME": "1"}
        quiet = run_cli("--once", "--config", config, env=timed)
        add_new_papers(corpus, tracked[:1], 1, published=datetime.now(UTC), seed=5)
        changed = run_cli("--once", "--config", config, env=timed)
    assert (quiet.returncode, changed.returncode) == (0, 0)
    assert heavy(imported(quiet.stderr)) == set()
    found = heavy(imported(changed.stderr))
    assert {"sklearn", "scipy", "numpy", "harvester.profile.derive"} <= found


def test_version_and_help_import_nothing_heavy_and_a_migration_does(tmp_path: Path) -> None:
    """``harvest --version`` and ``--help`` (``harvest --help`` and a command's) start
    without any of the heavy modules; the first ``harvest db upgrade`` of a new database,
    which has migrations to run, does import Alembic: the check sees an import when there
    is one."""
    timed = {"PYTHONPROFILEIMPORTTIME": "1"}
    starts = [run_cli(*args, env=timed) for args in (["--version"], ["--help"], ["status", "-h"])]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'new.db'}", "http://127.0.0.1:9/")
    migrated = run_cli("db", "upgrade", "--config", str(config), env=timed)
    assert [run.returncode for run in [*starts, migrated]] == [0, 0, 0, 0]
    assert [heavy(imported(run.stderr)) for run in starts] == [set(), set(), set()]
    assert "alembic" in imported(migrated.stderr)
