"""Identity beyond names, end to end: five "Wei Zhang"s served by the look-alike over HTTP,
harvested into a real SQLite file and a real PostgreSQL schema.

The corpus is :mod:`arxiv_lookalike.namesakes` (deterministic); the tracked Wei Zhang's identifier
feed, ``/a/zhang_w_1.atom2``, lists fewer than half of her papers. The issue's targets are
measured on what the views say: precision >= 0.98 and recall >= 0.95 of her accepted
papers, at most 10 % of her papers held, and after an upstream change her new papers
accepted or held and the others' never accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.faults import Status
from arxiv_lookalike.namesakes import (
    CLAIMANTS,
    NAME,
    NamesakeCorpus,
    later_papers,
    namesake_corpus,
    namesake_records,
)
from harvester.status import collect_status
from harvester.store import Store
from harvester.vocabulary import RunStatus

from .support import harvest, make_settings, rows, run_cli, write_config

KEY = "zhang"
AUTHOR_ID, ORCID = CLAIMANTS
PAGE = {"page_size": 200}


@pytest.fixture(scope="module")
def namesakes() -> NamesakeCorpus:
    return namesake_corpus(seed=0)


@pytest.fixture
def zhang_server(namesakes: NamesakeCorpus) -> Iterator[LookalikeServer]:
    corpus = Corpus.from_dicts(namesake_records(namesakes, (AUTHOR_ID, ORCID)))
    with LookalikeServer(corpus) as server:
        yield server


def zhang(server: LookalikeServer, db_url: str, **author: Any) -> Any:
    """Settings tracking the Wei Zhang of ``author`` (``arxiv_author_id=...``, ids ...)."""
    who = {"key": KEY, "name": NAME, **author}
    feeds = server.base_url + "/a"
    return make_settings(db_url, server.url, authors=[who], author_feed_url=feeds, **PAGE)


def accepted(store: Store) -> set[str]:
    return {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM profile_papers")}


def held(store: Store) -> set[str]:
    return {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM review_queue")}


def figures(store: Store, namesakes: NamesakeCorpus) -> dict[str, float]:
    hers = {p.arxiv_id for p in namesakes.papers_of(namesakes.tracked)}
    mine, waiting = accepted(store), held(store)
    return {
        "precision": len(mine & hers) / len(mine),
        "recall": len(mine & hers) / len(hers),
        "held": len(waiting & hers) / len(hers),
        "others_accepted": len(mine - hers),
    }


def test_with_her_identifier_feed_the_targets_are_met(
    store: Store, zhang_server: LookalikeServer, namesakes: NamesakeCorpus, db_url: str
) -> None:
    settings = zhang(zhang_server, db_url, arxiv_author_id=AUTHOR_ID)
    report = harvest(store, settings)
    assert report.exit_code == 0, report.authors[0].line()
    got = figures(store, namesakes)
    print(f"\nfigures: {got}; requests {report.authors[0].requests}")
    assert got["precision"] >= 0.98
    assert got["recall"] >= 0.95
    assert got["held"] <= 0.10
    feeds = [r for r in zhang_server.requests if r.path.startswith("/a/")]
    assert [r.path for r in feeds] == [f"/a/{AUTHOR_ID}.atom2"]
    count = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = :k", k=KEY)
    assert count == [(len(accepted(store)),)]


def test_after_an_upstream_change_her_new_papers_come_in_and_the_others_do_not(
    store: Store, zhang_server: LookalikeServer, namesakes: NamesakeCorpus, db_url: str
) -> None:
    settings = zhang(zhang_server, db_url, orcid=ORCID)
    assert harvest(store, settings).exit_code == 0
    later = later_papers(namesakes, per_person=3)
    for record in namesake_records(later, ()):
        zhang_server.corpus.upsert(record)
    report = harvest(store, settings)
    assert report.exit_code == 0
    new_hers = {p.arxiv_id for p in later.papers_of(later.tracked)}
    new_others = {p.arxiv_id for p in later.papers} - new_hers
    assert new_hers <= accepted(store) | held(store)
    assert not new_others & accepted(store)
    events = rows(store, "SELECT arxiv_id FROM paper_events WHERE kind = 'new_paper'")
    assert {e.arxiv_id for e in events} == new_hers & accepted(store)
    assert f"/a/{ORCID}.atom2" in {r.path for r in zhang_server.requests}
    modes = rows(store, "SELECT mode FROM harvest_runs ORDER BY run_id")
    assert modes == [("full",), ("incremental",)], "judged against the stored members"


def test_a_paper_claimed_later_joins_at_the_next_incremental_harvest(
    store: Store, zhang_server: LookalikeServer, namesakes: NamesakeCorpus, db_url: str
) -> None:
    """Her paper in a new field with a stranger: nobody vouches for it; her feed claims it
    later, and it joins (its co-authors are nobody else's: the claim is hers)."""
    lone = zhang_server.corpus.get(namesakes.papers_of(3)[0].arxiv_id)
    assert lone is not None
    claimed = "2512.09999"
    record = {**lone.to_dict(), "id": claimed, "authors": [NAME, "Nobody Known"]}
    zhang_server.corpus.upsert({**record, "categories": ["q-bio.NC"], "claimants": []})
    settings = zhang(zhang_server, db_url, arxiv_author_id=AUTHOR_ID)
    assert harvest(store, settings).exit_code == 0
    assert claimed not in accepted(store)
    zhang_server.corpus.upsert({**record, "categories": ["q-bio.NC"], "claimants": [AUTHOR_ID]})
    assert harvest(store, settings).exit_code == 0
    assert claimed in accepted(store) and claimed not in held(store)
    events = rows(store, "SELECT arxiv_id, kind FROM paper_events")
    assert events == [(claimed, "new_paper")]
    modes = rows(store, "SELECT mode FROM harvest_runs ORDER BY run_id")
    assert modes == [("full",), ("incremental",)]


def test_a_mistaken_claim_brings_in_nothing_else_and_goes_with_the_feed(
    store: Store, zhang_server: LookalikeServer, namesakes: NamesakeCorpus, db_url: str
) -> None:
    """Her feed claims one paper of the other cs.LG Wei Zhang by mistake: it is held with a
    reason, the profile flagged, none of his other papers comes in; once the feed is
    corrected, a full harvest does not keep it."""
    settings = zhang(zhang_server, db_url, arxiv_author_id=AUTHOR_ID)
    assert harvest(store, settings).exit_code == 0
    before = accepted(store)
    his = [p.arxiv_id for p in namesakes.papers_of(1)]
    wrong = zhang_server.corpus.get(his[len(his) // 2])
    assert wrong is not None
    zhang_server.corpus.upsert({**wrong.to_dict(), "claimants": [AUTHOR_ID]})
    assert harvest(store, settings).exit_code == 0
    assert accepted(store) == before, "nothing of his comes in"
    assert wrong.arxiv_id in held(store)
    (why,) = rows(store, "SELECT reason FROM review_queue WHERE arxiv_id = :i", i=wrong.arxiv_id)
    assert why.reason.startswith("claimed, but its co-authors are those of another body")
    assert rows(store, "SELECT ambiguous FROM author WHERE key = :k", k=KEY)[0][0]
    zhang_server.corpus.upsert({**wrong.to_dict(), "claimants": []})
    assert harvest(store, settings, full=True).exit_code == 0
    assert accepted(store) == before and wrong.arxiv_id not in held(store)
    events = rows(store, "SELECT arxiv_id FROM paper_events WHERE arxiv_id = :i", i=wrong.arxiv_id)
    assert events == []


def test_without_an_anchor_the_largest_body_is_kept_and_the_profile_is_ambiguous(
    store: Store, zhang_server: LookalikeServer, namesakes: NamesakeCorpus, db_url: str
) -> None:
    settings = zhang(zhang_server, db_url)
    assert harvest(store, settings).exit_code == 0
    mine, waiting = accepted(store), held(store)
    assert mine and waiting and not mine & waiting
    owners = [namesakes.owner[i] for i in mine]
    assert owners.count(namesakes.tracked) / len(owners) >= 0.95, "one person's body is kept"
    print(f"\nno anchor: {len(mine)} accepted, {len(waiting)} held")
    report = collect_status(store, settings, datetime.now(UTC))
    (health,) = report.authors
    assert health.ambiguous and health.held == len(waiting)
    assert f"{KEY}: ambiguous" in report.render()
    assert json.loads(report.to_json())["authors"][0]["ambiguous"] is True


def test_a_persons_decisions_last_across_harvests_full_ones_included(
    store: Store, zhang_server: LookalikeServer, namesakes: NamesakeCorpus, db_url: str
) -> None:
    from harvester.review import decide, review_queue

    settings = zhang(zhang_server, db_url)
    assert harvest(store, settings).exit_code == 0
    queue = review_queue(store, KEY)
    take, drop, leave = queue[0].arxiv_id, queue[1].arxiv_id, sorted(accepted(store))[0]
    count = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = :k", k=KEY)
    decide(store, KEY, [take], [leave, drop], datetime.now(UTC))
    assert take in accepted(store) and leave not in accepted(store), "applied at once"
    assert not {take, drop} & held(store)
    after = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = :k", k=KEY)
    assert after == count
    assert harvest(store, settings).exit_code == 0  # incremental: the decisions stand
    assert take in accepted(store) and leave not in accepted(store)
    assert not {take, drop} & held(store)
    rejected = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM rejected_papers")}
    assert drop in rejected
    kinds = {(r.arxiv_id, r.kind) for r in rows(store, "SELECT arxiv_id, kind FROM paper_events")}
    assert (take, "new_paper") in kinds and (leave, "excluded") in kinds
    assert harvest(store, settings, full=True).exit_code == 0
    assert take in accepted(store) and leave not in accepted(store)
    decided = rows(store, "SELECT arxiv_id, decision FROM review_decision")
    assert set(decided) == {(take, "accepted"), (leave, "rejected"), (drop, "rejected")}


def test_the_config_wins_over_a_persons_decision(
    store: Store, zhang_server: LookalikeServer, db_url: str
) -> None:
    from harvester.review import decide, review_queue

    assert harvest(store, zhang(zhang_server, db_url)).exit_code == 0
    queue = review_queue(store, KEY)
    included, excluded = queue[0].arxiv_id, queue[1].arxiv_id
    decide(store, KEY, [excluded], [included], datetime.now(UTC))
    settings = zhang(zhang_server, db_url, include_ids=[included], exclude_ids=[excluded])
    assert harvest(store, settings).exit_code == 0
    assert included in accepted(store) and excluded not in accepted(store)
    reasons = dict(rows(store, "SELECT arxiv_id, reason FROM rejected_papers"))
    assert reasons.get(excluded, "") == "excluded by exclude_ids" or excluded not in reasons


def test_the_views_show_scores_reasons_and_the_review_queue(
    store: Store, zhang_server: LookalikeServer, db_url: str
) -> None:
    assert harvest(store, zhang(zhang_server, db_url, arxiv_author_id=AUTHOR_ID)).exit_code == 0
    queue = rows(
        store, "SELECT author_key, arxiv_id, title, score, reason, held_since FROM review_queue"
    )
    assert all(r.author_key == KEY and r.reason and r.score is not None for r in queue)
    rejected = rows(store, "SELECT arxiv_id, reason, score FROM rejected_papers")
    assert rejected and all(r.score is not None and r.reason for r in rejected)
    stats = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = :k", k=KEY)
    assert stats == [(len(accepted(store)),)]
    why = rows(store, "SELECT score, reason FROM profile_papers WHERE author_key = :k", k=KEY)
    assert why and all(r.score is not None and r.reason for r in why)
    assert any("identifier feed" in r.reason for r in why)
    mine = accepted(store)
    theirs = {
        r.name
        for r in rows(store, "SELECT arxiv_id, name FROM paper_author")
        if r.arxiv_id in mine and r.name != NAME
    }
    coauthors = {r.coauthor for r in rows(store, "SELECT coauthor FROM coauthors")}
    assert coauthors and coauthors <= theirs, "co-authors come from accepted papers only"


def test_a_failing_identifier_feed_is_retried_and_an_unknown_one_is_one_clear_failure(
    store: Store, zhang_server: LookalikeServer, db_url: str
) -> None:
    zhang_server.faults.add(Status(503), times=1, when=lambda r: r.path.startswith("/a/"))
    assert harvest(store, zhang(zhang_server, db_url, arxiv_author_id=AUTHOR_ID)).exit_code == 0
    assert zhang_server.faults.history == ["status"]
    settings = zhang(zhang_server, db_url, arxiv_author_id="zhang_w_9")
    report = harvest(store, settings, full=True)
    (author,) = report.authors
    assert author.status == RunStatus.FAILED and "arXiv knows no author 'zhang_w_9'" in (
        author.error or ""
    )
    assert report.exit_code == 1


def test_review_on_the_command_line(
    tmp_path: Path, zhang_server: LookalikeServer, db_url: str, store: Store
) -> None:
    feeds = {"author_feed_url": zhang_server.base_url + "/a", "delay_seconds": 0, **PAGE}
    config = write_config(
        tmp_path, db_url, zhang_server.url, authors=[{"key": KEY, "name": NAME}], arxiv=feeds
    )
    assert harvest(store, zhang(zhang_server, db_url)).exit_code == 0
    listed = run_cli("review", KEY, "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"{KEY}: ") and "held for review" in listed.stdout
    as_json = json.loads(run_cli("review", KEY, "--json", "--config", str(config)).stdout)
    first = as_json["held"][0]
    assert set(first) == {"arxiv_id", "title", "score", "reason", "held_since", "pending"}
    done = run_cli("review", KEY, "--accept", first["arxiv_id"], "--config", str(config))
    assert done.returncode == 0 and f"{first['arxiv_id']} accepted" in done.stdout
    unknown = run_cli("review", "nobody", "--config", str(config))
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "no profile with key 'nobody'" in unknown.stderr
    stranger = run_cli("review", KEY, "--reject", "2101.99999", "--config", str(config))
    assert stranger.returncode == 2 and stranger.stderr.count("\n") == 1
    assert "2101.99999: not among the papers harvested" in stranger.stderr
    status = run_cli("status", "--config", str(config))
    assert f"{KEY}: ambiguous" in status.stdout


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("arxiv_author_id", "Zhang W 1", "expected an arXiv author identifier like 'zhang_w_1'"),
        ("arxiv_author_id", 7, "expected a string, got integer"),
        (
            "orcid",
            "0000-0002-1825-0098",
            "'0000-0002-1825-0098' is not an ORCID iD: its check digit",
        ),
        ("orcid", "0000-0002-1825", "expected an ORCID iD like '0000-0002-1825-0097'"),
    ],
)
def test_bad_identifiers_in_the_config_are_one_clear_line(
    tmp_path: Path, key: str, value: Any, problem: str
) -> None:
    author = {"key": KEY, "name": NAME, key: value}
    config = write_config(
        tmp_path, "sqlite:///x.db", "http://127.0.0.1:9/api/query", authors=[author]
    )
    result = run_cli("status", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"authors[0].{key}: {problem}" in result.stderr


def test_a_bad_author_feed_url_is_refused(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "sqlite:///x.db",
        "http://127.0.0.1:9/api/query",
        arxiv={"author_feed_url": "ftp://x"},
    )
    result = run_cli("status", "--config", str(config))
    assert result.returncode == 2 and "arxiv.author_feed_url: expected an http or https URL" in (
        result.stderr
    )


def test_namesakes_fold_into_one_query_phrase(namesakes: NamesakeCorpus) -> None:
    """The corpus is what the issue asks for (checked here so a change to it is noticed)."""
    hers = namesakes.papers_of(namesakes.tracked)
    assert len(namesakes.feed_ids) < len(hers) / 2
    assert all(NAME in p.authors for p in namesakes.papers)
    assert min(p.published for p in namesakes.papers) > date(1991, 8, 1)


def test_a_unique_name_with_an_identifier_comes_out_as_before(
    store: Store, server: LookalikeServer, corpus: Corpus, db_url: str
) -> None:
    """The seed author, anchored by a feed listing ten of his papers: still exactly the 76
    papers of the seed profile, nothing held, not ambiguous; one request more (the feed)."""
    from .support import SEED_AUTHOR

    his = [p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors)]
    for paper in his[:10]:
        corpus.upsert({**paper.to_dict(), "claimants": ["kakade_s_1"]})
    author = {**SEED_AUTHOR, "arxiv_author_id": "kakade_s_1"}
    settings = make_settings(
        db_url, server.url, authors=[author], author_feed_url=server.base_url + "/a"
    )
    report = harvest(store, settings)
    assert report.authors[0].paper_count == 76 and report.exit_code == 0
    assert held(store) == set()
    assert rows(store, "SELECT ambiguous FROM author") == [(False,)]


def test_a_claimed_paper_the_name_query_misses_is_fetched_and_kept(
    store: Store, server: LookalikeServer, corpus: Corpus, db_url: str
) -> None:
    """Every paper in the feed is the author's, even one whose author list spells him
    otherwise: a full harvest asks for it by id, as for include_ids."""
    from .support import SEED_AUTHOR

    other = next(p for p in corpus if all("Kakade" not in a.name for a in p.authors))
    corpus.upsert({**other.to_dict(), "claimants": ["kakade_s_1"]})
    author = {**SEED_AUTHOR, "arxiv_author_id": "kakade_s_1"}
    settings = make_settings(
        db_url, server.url, authors=[author], author_feed_url=server.base_url + "/a"
    )
    report = harvest(store, settings)
    assert report.authors[0].paper_count == 77
    assert other.arxiv_id in accepted(store)
    by_id = [r for r in server.requests if r.params.get("id_list") == other.arxiv_id]
    assert len(by_id) == 1


def test_one_accepted_paper_is_no_seed_for_a_whole_profile(
    store: Store, server: LookalikeServer, corpus: Corpus, db_url: str
) -> None:
    """A first harvest (or one after the identity changed) with one paper in include_ids
    and no feed: the seed profile still comes out whole, 76 papers."""
    from .support import SEED_AUTHOR

    his = sorted(p.arxiv_id for p in corpus if any(a.name == "Sham Kakade" for a in p.authors))
    author = {**SEED_AUTHOR, "include_ids": [his[5]]}
    report = harvest(store, make_settings(db_url, server.url, authors=[author]))
    assert report.authors[0].paper_count == 76
    assert held(store) == set()


def test_bulk_review_by_score_and_from_files_and_stdin(
    tmp_path: Path, zhang_server: LookalikeServer, db_url: str, store: Store
) -> None:
    feeds = {"author_feed_url": zhang_server.base_url + "/a", "delay_seconds": 0, **PAGE}
    config = str(
        write_config(
            tmp_path, db_url, zhang_server.url, authors=[{"key": KEY, "name": NAME}], arxiv=feeds
        )
    )
    assert harvest(store, zhang(zhang_server, db_url)).exit_code == 0
    queue = json.loads(run_cli("review", KEY, "--json", "--config", config).stdout)["held"]
    scores = sorted((p["score"] for p in queue), reverse=True)
    cut = scores[2]
    above = [p["arxiv_id"] for p in queue if p["score"] >= cut]
    rest = [p["arxiv_id"] for p in queue if p["score"] < cut]
    done = run_cli("review", KEY, "--accept-above", str(cut), "--config", config)
    assert done.returncode == 0, done.stderr
    assert f"{KEY}: {len(above)} held papers scored at least {cut:g} accepted" in done.stdout
    listing = tmp_path / "reject.txt"
    listing.write_text(f"# not hers\n{rest[0]}\n\n{rest[1]}  # same field\n", encoding="utf-8")
    rejected = run_cli("review", KEY, "--reject-from", str(listing), "--config", config)
    assert rejected.returncode == 0 and f"{rest[1]} rejected" in rejected.stdout
    piped = run_cli("review", KEY, "--accept-from", "-", "--config", config, stdin=rest[2] + "\n")
    assert piped.returncode == 0 and f"{rest[2]} accepted" in piped.stdout
    decided = dict(rows(store, "SELECT arxiv_id, decision FROM review_decision"))
    assert decided == {
        **dict.fromkeys([*above, rest[2]], "accepted"),
        **dict.fromkeys(rest[:2], "rejected"),
    }
    missing = run_cli("review", KEY, "--accept-from", str(tmp_path / "nope"), "--config", config)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "cannot read the ids in" in missing.stderr
    assert set(above) | {rest[2]} <= accepted(store), "applied at once, no harvest needed"
    reasons = dict(rows(store, "SELECT arxiv_id, reason FROM profile_papers"))
    assert reasons[rest[2]].startswith("accepted by a person ")
    after = json.loads(run_cli("review", KEY, "--json", "--config", config).stdout)
    assert after["pending_decisions"] == []
