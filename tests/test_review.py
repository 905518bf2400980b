"""``harvest review`` on the command line against the seed corpus: which ids can be
decided, decisions applied at once (memberships, ``profile_stats``, events), forgotten, and
reasons that say why a paper is where it is now (the identifier feed
``/a/kakade_s_1.atom2`` claims the seed profile's papers).
"""

from __future__ import annotations

from pathlib import Path

from arxiv_lookalike import LookalikeServer
from harvester.store import Store

from .support import SEED_AUTHOR, harvest, make_settings, rows, run_cli, write_config

NAMESAKE = "2311.09876"  # "Sham Kakade-Rao": rejected by name, no candidate
MEMBER = "2310.11000"


def _config(
    tmp_path: Path, db_url: str, server: LookalikeServer, site: bool = False, **author: str
) -> str:
    feeds = {"author_feed_url": server.base_url + "/a", "delay_seconds": 0}
    authors = [{**SEED_AUTHOR, **author}]
    output = {"output": {"html_dir": str(tmp_path / "site")}} if site else {}
    return str(write_config(tmp_path, db_url, server.url, authors=authors, arxiv=feeds, **output))


def _page(tmp_path: Path) -> str:
    pages = [p for p in (tmp_path / "site").rglob("*.html") if "kakade" in p.name]
    return "".join(p.read_text(encoding="utf-8") for p in pages)


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


def _count(store: Store) -> int:
    sql = "SELECT paper_count FROM profile_stats WHERE author_key = 'kakade'"
    return int(rows(store, sql)[0][0])


def test_decisions_apply_at_once_with_their_reason_events_and_counts(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = _config(tmp_path, db_url, server, site=True)
    assert run_cli("--once", "--config", config).returncode == 0
    member, before = _member(store), _count(store)
    assert member in _page(tmp_path)
    done = run_cli("review", "kakade", "--reject", member, "--config", config)
    assert done.returncode == 0 and f"kakade: {member} rejected\napplied now\n" in done.stdout
    assert _count(store) == before - 1, "out of the profile at once"
    assert member not in _page(tmp_path), "the site is refreshed at once"
    sql = "SELECT status, reason FROM membership WHERE arxiv_id = :i"
    ((status, reason),) = rows(store, sql, i=member)
    assert status == "excluded" and reason.startswith("rejected by a person ")
    events = rows(store, "SELECT arxiv_id, kind, detail FROM paper_events")
    assert [(e.arxiv_id, e.kind) for e in events] == [(member, "excluded")]
    assert events[0].detail.startswith("rejected by a person ")
    listed = run_cli("review", "kakade", "--config", config).stdout
    assert listed == "kakade: no papers held for review\n", "nothing waits for a harvest"
    assert run_cli("--once", "--config", config).returncode == 0
    assert _count(store) == before - 1, "a harvest keeps the decision, with no new event"
    assert len(rows(store, "SELECT * FROM paper_events")) == 1
    again = run_cli("review", "kakade", "--accept", member, "--config", config)
    assert again.returncode == 0, "a person may change their mind"
    assert _count(store) == before and member in _page(tmp_path)
    kinds = [r.kind for r in rows(store, "SELECT kind FROM paper_events ORDER BY recorded_at")]
    assert kinds == ["excluded", "new_paper"]
    assert run_cli("--once", "--full", "--config", config).returncode == 0
    (kept,) = rows(store, "SELECT reason FROM profile_papers WHERE arxiv_id = :i", i=member)
    assert kept[0].startswith("accepted by a person ")
    forgot = run_cli("review", "kakade", "--forget", member, "--config", config)
    assert forgot.returncode == 0 and f"kakade: {member} forgotten" in forgot.stdout
    assert rows(store, "SELECT * FROM review_decision") == []
    queue = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM review_queue")}
    assert member in queue and _count(store) == before - 1
    nothing = run_cli("review", "kakade", "--forget", member, "--config", config)
    assert nothing.returncode == 2 and "no decision of a person to forget" in nothing.stderr
    assert run_cli("--once", "--full", "--config", config).returncode == 0
    assert _count(store) == before, "a full harvest judges it again: a member of one body"


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
