"""Profile statistics views, similar authors and the renderings, on SQLite and PostgreSQL.

One harvest of the seed corpus per database (two tracked profiles: the seed author and
a frequent co-author) serves every read-only test of this module.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import astuple, fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from harvester.errors import SchemaOutdatedError
from harvester.names import fold_name
from harvester.profile import check_schema, load_profile, refresh_similar_authors, render
from harvester.profile.similar import WEIGHTS, coauthorship
from harvester.records import Stats
from harvester.store import PUBLIC_VIEWS, Store
from harvester.store.schema import UTCDateTime

from .support import REPO, Harvested, downgrade, months_ago_start, run_cli, seed_papers

SEED_PROFILE = REPO / "tests" / "data" / "seed_profile.txt"
"""A copy of the captured seed profile (../shared/seed/profile.txt) the text must resemble."""
CORE_STATS_COLUMNS = [
    "author_key",
    "name",
    "paper_count",
    "withdrawn_count",
    "first_published",
    "latest_published",
    "last_harvest_at",
    "last_harvest_status",
    "last_complete_at",
]


def test_papers_by_year_counts_every_year_from_first_to_last(harvested: Harvested) -> None:
    rows = harvested.rows(
        "SELECT year, papers FROM papers_by_year WHERE author_key = 'kakade' ORDER BY year"
    )
    expected = Counter(p.published.year for p in seed_papers(harvested.corpus))
    assert [r.year for r in rows] == list(range(min(expected), max(expected) + 1))
    assert {r.year: r.papers for r in rows} == {y: expected.get(y, 0) for y, _ in rows}


def test_a_profile_counts_its_papers_by_year_as_the_view_does(harvested: Harvested) -> None:
    """The profile counts its years from its papers (one statement less, and the
    dearest one on PostgreSQL): the same rows as the public view, for every profile."""
    for key in sorted({r.key for r in harvested.rows("SELECT key FROM author")}):
        view = harvested.rows(
            "SELECT year, papers FROM papers_by_year WHERE author_key = :key ORDER BY year", key=key
        )
        profile = load_profile(harvested.store, key)
        assert [(y.year, y.papers) for y in profile.years] == [tuple(r) for r in view]
    assert len(load_profile(harvested.store, "kakade").years) > 3


def test_a_profile_counts_its_statistics_as_the_view_does(harvested: Harvested) -> None:
    """What the papers give of ``profile_stats`` (counts, first and latest, versions,
    references) is counted from them: the same row as the view's, for every profile."""
    columns = ", ".join(f.name for f in fields(Stats))
    for key in sorted({r.key for r in harvested.rows("SELECT key FROM author")}):
        (view,) = harvested.rows(
            f"SELECT {columns} FROM profile_stats WHERE author_key = :key", key=key
        )
        stats = load_profile(harvested.store, key).stats
        assert astuple(stats) == tuple(_utc(v) for v in view)
    assert load_profile(harvested.store, "kakade").stats.withdrawn_count == 1


def _utc(value: object) -> object:
    """A timestamp as the store reads it (SQLite gives text, PostgreSQL an aware datetime)."""
    if isinstance(value, str) and value[:4].isdigit() and "-" in value:
        return UTCDateTime().process_result_value(value, None)
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def test_papers_by_category_counts_papers_and_primaries(harvested: Harvested) -> None:
    rows = harvested.rows(
        "SELECT category, papers, as_primary FROM papers_by_category WHERE author_key = 'kakade'"
    )
    papers, primary = Counter[str](), Counter[str]()
    for p in seed_papers(harvested.corpus):
        papers.update(list(dict.fromkeys([p.primary_category, *p.categories])))
        primary[p.primary_category] += 1
    assert {r.category: (r.papers, r.as_primary) for r in rows} == {
        c: (n, primary[c]) for c, n in papers.items()
    }


def test_coauthors_are_counted_without_the_author(harvested: Harvested) -> None:
    rows = harvested.rows(
        "SELECT coauthor, shared_papers, first_year, last_year FROM coauthors"
        " WHERE author_key = 'kakade'"
    )
    seed = seed_papers(harvested.corpus)
    names = Counter(fold_name(a.name) for p in seed for a in p.authors)
    del names["sham kakade"]
    assert {fold_name(r.coauthor): r.shared_papers for r in rows} == dict(names)
    morwani = [p for p in seed if any(a.name == "Depen Morwani" for a in p.authors)]
    (row,) = [r for r in rows if r.coauthor == "Depen Morwani"]
    assert (row.shared_papers, row.first_year, row.last_year) == (
        len(morwani),
        min(p.published.year for p in morwani),
        max(p.published.year for p in morwani),
    )


def test_profile_stats_keeps_its_columns_and_adds_four(harvested: Harvested) -> None:
    with harvested.store.engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM profile_stats WHERE author_key = 'kakade'"))
        columns, row = list(result.keys()), result.one()
    assert columns[: len(CORE_STATS_COLUMNS)] == CORE_STATS_COLUMNS
    seed = seed_papers(harvested.corpus)
    since = months_ago_start(datetime.now(UTC), 11)
    coauthors = {fold_name(a.name) for p in seed for a in p.authors} - {"sham kakade"}
    assert row.papers_last_12_months == sum(p.published >= since for p in seed)
    assert row.coauthor_count == len(coauthors)
    assert row.version_count == sum(p.version for p in seed)
    assert row.journal_ref_or_doi_count == sum(bool(p.journal_ref or p.doi) for p in seed)


def test_similar_authors_are_ranked_scored_and_explained(harvested: Harvested) -> None:
    rows = harvested.rows(
        "SELECT * FROM similar_authors WHERE author_key = 'kakade' ORDER BY position"
    )
    assert len(rows) == 10
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    assert "Sham Kakade" not in {r.similar_name for r in rows}
    for r in rows:
        assert r.coauthor_score == pytest.approx(coauthorship(r.shared_papers), abs=1e-4)
        parts = (r.coauthor_score, r.topic_score, r.category_score)
        assert r.score == pytest.approx(
            sum(w * p for w, p in zip(WEIGHTS, parts, strict=True)), abs=1e-3
        )
        assert r.reason.startswith(f"{r.shared_papers} shared paper")
        assert "shared terms: " in r.reason and "shared categories: cs.LG" in r.reason
    (morwani,) = [r for r in rows if r.similar_key == "morwani"]
    assert (morwani.similar_name, morwani.shared_papers) == ("Depen Morwani", 12)
    assert morwani.position == 1


def test_a_tracked_coauthor_sees_the_author_as_a_tracked_profile(harvested: Harvested) -> None:
    rows = harvested.rows("SELECT * FROM similar_authors WHERE author_key = 'morwani'")
    (kakade,) = [r for r in rows if r.similar_key == "kakade"]
    assert (kakade.similar_name, kakade.shared_papers) == ("Sham Kakade", 12)
    assert "Depen Morwani" not in {r.similar_name for r in rows}


def test_refresh_does_nothing_when_nothing_changed(harvested: Harvested) -> None:
    assert refresh_similar_authors(harvested.store) is False


def test_text_reads_like_the_seed_profile(harvested: Harvested) -> None:
    rendered = render(load_profile(harvested.store, "kakade"), "text")
    lines = rendered.splitlines()
    assert lines[:2] == ["Sham Kakade", "76 papers on arXiv"]
    headings = ["Academic Profile", "Statistics", "Similar Authors", "Papers on arXiv"]
    assert [lines.index(h) for h in headings] == sorted(lines.index(h) for h in headings)
    assert "    2024   15  " in rendered
    assert "   1. Depen Morwani [morwani]  score " in rendered
    papers = lines[lines.index("Papers on arXiv") + 1 :]
    seed = SEED_PROFILE.read_text(encoding="utf-8").splitlines()
    seed = seed[seed.index("Papers on arXiv") + 1 :]
    for title, snippet in zip(seed[::2], seed[1::2], strict=True):
        at = next(i for i, line in enumerate(papers) if line.split(" [WITHDRAWN]")[0] == title)
        assert snippet.removesuffix("...").rstrip() == papers[at + 1].removesuffix("...").rstrip()
    withdrawn = [line for line in papers if line.endswith(" [WITHDRAWN]")]
    assert withdrawn == [
        "Variance Reduction Methods for Sublinear Reinforcement Learning [WITHDRAWN]"
    ]


def test_papers_are_newest_first_and_linked(harvested: Harvested) -> None:
    profile = load_profile(harvested.store, "kakade")
    dates = [p.published for p in profile.papers]
    assert dates == sorted(dates, reverse=True)
    rendered = render(profile, "text")
    for paper in profile.papers:
        assert f"  https://arxiv.org/abs/{paper.arxiv_id} · v{paper.version} · " in rendered


def test_json_carries_every_number(harvested: Harvested) -> None:
    document = json.loads(render(load_profile(harvested.store, "kakade"), "json"))
    (stats,) = harvested.rows("SELECT * FROM profile_stats WHERE author_key = 'kakade'")
    for column in ("paper_count", "coauthor_count", "version_count", "papers_last_12_months"):
        assert document["stats"][column] == getattr(stats, column)
    assert sum(y["papers"] for y in document["papers_by_year"]) == 76
    assert len(document["papers"]) == 76
    assert all(p["url"].startswith("https://arxiv.org/abs/") for p in document["papers"])
    first = document["similar_authors"][0]
    assert {"score", "coauthor_score", "topic_score", "category_score", "shared_papers"} <= set(
        first
    )
    assert document["papers_by_category"][0] == {
        "category": "cs.LG",
        "papers": 70,
        "as_primary": 68,
    }


def test_markdown_links_every_paper(harvested: Harvested) -> None:
    profile = load_profile(harvested.store, "kakade")
    markdown = render(profile, "markdown")
    assert markdown.startswith("# Sham Kakade\n\n**76 papers on arXiv**\n")
    assert markdown.count("](https://arxiv.org/abs/") == 76
    assert "## Similar Authors" in markdown and "**withdrawn**" in markdown


def test_cli_prints_the_profile_and_refuses_an_unknown_key(
    harvested: Harvested, tmp_path: Path
) -> None:
    config = tmp_path / "harvester.toml"
    config.write_text(
        f'[database]\nurl = "{harvested.url}"\n[[authors]]\nkey = "kakade"\nname = "Sham Kakade"\n',
        encoding="utf-8",
    )
    shown = _harvest("profile", "kakade", "--format", "text", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == render(load_profile(harvested.store, "kakade"), "text")
    unknown = _harvest("profile", "nobody", "--config", str(config))
    assert unknown.returncode == 2
    assert "no profile with key 'nobody'" in unknown.stderr and "kakade, morwani" in unknown.stderr


def _harvest(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=60)


def test_reading_commands_refuse_an_old_schema(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    with pytest.raises(SchemaOutdatedError, match="revision 0002") as info:
        check_schema(store)
    assert "harvest db upgrade" in str(info.value) and info.value.exit_code == 74


def test_migration_0003_downgrades_and_upgrades_again(store: Store) -> None:
    downgrade(store, "0002")
    with store.engine.connect() as conn:
        columns = list(conn.execute(text("SELECT * FROM profile_stats")).keys())
    assert columns == CORE_STATS_COLUMNS
    assert "similar_authors" not in inspect(store.engine).get_view_names()
    store.upgrade()
    assert set(PUBLIC_VIEWS) <= set(inspect(store.engine).get_view_names())


def test_similar_authors_of_degenerate_input_are_empty_parts_not_errors() -> None:
    """Twenty papers whose text leaves no term (stop words only), or a single paper:
    no topic similarity, but no ``Found array with 0 feature(s)`` either."""
    from harvester.profile.corpus import Corpus
    from harvester.profile.similar import compute_similar

    def corpus(papers: int, text: str) -> Corpus:
        c = Corpus()
        for i in range(papers):
            names = {"alice", f"bob{i % 3}"}
            c.ids.append(f"p{i}")
            c.texts.append(text)
            c.categories.append("cs.LG")
            c.years.append(2020)
            c.authors.append(names)
            for name in names:
                c.papers_by_name[name].append(i)
                c.spellings[name][name] += 1
        c.profiles["a"] = "alice"
        c.own_names["a"].add("alice")
        c.profile_papers["a"] = list(range(papers))
        return c

    for papers, words in ((25, "The of and. A an the."), (1, "the")):
        similar = compute_similar(corpus(papers, words))["a"]
        assert similar and all(s.topic_score == 0.0 and s.shared_terms == () for s in similar)


def test_similar_authors_computed_a_few_profiles_at_a_time_are_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tracked profiles' similarities are held :data:`TRACKED_ROWS` rows at a time (memory
    flat in the number of profiles): any chunk size gives the same lists."""
    import random

    from harvester.profile import similar
    from harvester.profile.corpus import Corpus

    rng = random.Random(3)
    words = [f"topic{i}" for i in range(40)]
    c = Corpus()
    for key in range(13):
        name = f"author{key}"
        c.profiles[f"k{key}"] = name.title()
        c.own_names[f"k{key}"].add(name)
        for _ in range(6):
            row = len(c.ids)
            names = {name, f"coauthor{rng.randrange(9)}", f"author{rng.randrange(13)}"}
            c.ids.append(f"p{row}")
            c.texts.append(" ".join(rng.choices(words, k=30)))
            c.categories.append(" ".join(rng.sample(["cs.LG", "stat.ML", "math.OC", "cs.AI"], 2)))
            c.years.append(rng.randrange(2015, 2027))
            c.authors.append(names)
            c.profile_papers[f"k{key}"].append(row)
            for n in names:
                c.papers_by_name[n].append(row)
                c.spellings[n][n.title()] += 1
    whole = similar.compute_similar(c)
    monkeypatch.setattr(similar, "TRACKED_ROWS", 4)
    assert similar.compute_similar(c) == whole
    assert sum(len(found) for found in whole.values()) > 13 * 3
