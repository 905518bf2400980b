"""``harvest review`` on the command line against the seed corpus: which ids can be
decided, the decisions waiting for a harvest, and reasons that say why a paper is where it
is now (the identifier feed ``/a/kakade_s_1.atom2`` claims the seed profile's papers).
"""

from __future__ import annotations

import json
from pathlib import Path

from arxiv_lookalike import LookalikeServer
from harvester.store import Store

from .support import SEED_AUTHOR, harvest, make_settings, rows, run_cli, write_config

NAMESAKE = "2311.09876"  # "Sham Kakade-Rao": rejected by name, no candidate
MEMBER = "2310.11000"


def _config(tmp_path: Path, db_url: str, server: LookalikeServer, **author: str) -> str:
    feeds = {"author_feed_url": server.base_url + "/a", "delay_seconds": 0}
    authors = [{**SEED_AUTHOR, **author}]
    return str(write_config(tmp_path, db_url, server.url, authors=authors, arxiv=feeds))


def _harvest(store: Store, db_url: str, server: LookalikeServer, *, full: bool = False) -> None:
    """What ``harvest --once`` does with :func:`_config`'s settings, in-process: the
    subject here is ``review``, and the command line's harvest is tested below."""
    feeds = {"author_feed_url": server.base_url + "/a", "delay_seconds": 0}
    settings = make_settings(db_url, server.url, authors=[SEED_AUTHOR], **feeds)
    assert harvest(store, settings, full=full).exit_code == 0


def _member(store: Store) -> str:
    return str(rows(store, "SELECT MIN(arxiv_id) FROM profile_papers")[0][0])


def test_only_decisions_a_harvest_honours_are_taken(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = _config(tmp_path, db_url, server)
    _harvest(store, db_url, server)
    member = _member(store)
    by_name = run_cli("review", "kakade", "--accept", NAMESAKE, "--config", config)
    assert by_name.returncode == 2 and by_name.stderr.count("\n") == 1, by_name.stderr
    assert f"{NAMESAKE}: its author list does not name 'Sham Kakade'" in by_name.stderr
    already = run_cli("review", "kakade", "--accept", member, "--config", config)
    assert already.returncode == 2 and "already in the profile" in already.stderr
    ids = ["--reject", member, "2101.99999", "--accept", NAMESAKE]
    mixed = run_cli("review", "kakade", *ids, "--config", config)
    assert mixed.returncode == 2 and mixed.stderr.count("\n") == 1, mixed.stderr
    assert "2101.99999: not among the papers harvested" in mixed.stderr
    assert f"{NAMESAKE}: its author list does not name" in mixed.stderr
    assert rows(store, "SELECT * FROM review_decision") == [], "nothing written"


def test_decisions_waiting_for_a_harvest_are_listed_then_applied_with_their_reason(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = _config(tmp_path, db_url, server)
    _harvest(store, db_url, server)
    member = _member(store)
    done = run_cli("review", "kakade", "--reject", member, "--config", config)
    assert done.returncode == 0 and f"kakade: {member} rejected" in done.stdout
    listed = run_cli("review", "kakade", "--config", config).stdout
    assert "kakade: no papers held for review\n" in listed
    assert "kakade: 1 decision waiting for the next harvest\n" in listed
    assert f"{member}  rejected " in listed and "now active" in listed
    as_json = json.loads(run_cli("review", "kakade", "--json", "--config", config).stdout)
    (waiting,) = as_json["pending_decisions"]
    assert (waiting["arxiv_id"], waiting["decision"], waiting["status"]) == (
        member,
        "rejected",
        "active",
    )
    _harvest(store, db_url, server)
    after = run_cli("review", "kakade", "--config", config).stdout
    assert after == "kakade: no papers held for review\n"
    sql = "SELECT status, reason FROM membership WHERE arxiv_id = :i"
    ((status, reason),) = rows(store, sql, i=member)
    assert status == "excluded" and reason.startswith("rejected by a person ")
    again = run_cli("review", "kakade", "--accept", member, "--config", config)
    assert again.returncode == 0, "a person may change their mind"
    _harvest(store, db_url, server, full=True)
    (kept,) = rows(store, "SELECT reason FROM profile_papers WHERE arxiv_id = :i", i=member)
    assert kept[0].startswith("accepted by a person ")


def test_the_seed_identifier_feed_anchors_and_rewrites_the_reasons(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    _harvest(store, db_url, server)
    reasons = {r.reason for r in rows(store, "SELECT reason FROM profile_papers")}
    assert reasons == {"one body of 76 candidates"} or all("one body" in r for r in reasons)
    anchored = _config(tmp_path, db_url, server, arxiv_author_id="kakade_s_1")
    result = run_cli("--once", "--full", "--config", anchored)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kakade  76 papers")
    why = [r.reason for r in rows(store, "SELECT reason FROM profile_papers")]
    assert len(why) == 76 and all("identifier feed" in r for r in why), why[:3]
    unknown = _config(tmp_path, db_url, server, arxiv_author_id="kakade_s_9")
    failed = run_cli("--once", "--full", "--config", unknown)
    assert failed.returncode == 1 and "arXiv knows no author 'kakade_s_9'" in failed.stderr
