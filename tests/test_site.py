"""The static site ``[output] html_dir``: pages, index and Atom feeds, rewritten atomically."""

from __future__ import annotations

import stat
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from arxiv_lookalike import Corpus, LookalikeServer
from harvester.config import parse_settings
from harvester.errors import ConfigError, OutputError
from harvester.profile import after_cycle, refresh_similar_authors
from harvester.profile.site import atomic_write
from harvester.store import Store
from harvester.store.schema import derived_state, similar_author

from .support import (
    AUTHORS,
    SEED_AUTHOR,
    allow_inserts,
    harvest,
    make_settings,
    refuse_inserts,
    run_cli,
    seed_papers,
    with_html_dir,
)

ATOM = "{http://www.w3.org/2005/Atom}"
LATER = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_every_harvest_rewrites_pages_index_and_feeds(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    settings = with_html_dir(make_settings(db_url, server.url, authors=AUTHORS), site)
    harvest(store, settings, derive=True)
    names = {"index.html", "kakade.html", "kakade.atom", "morwani.html", "morwani.atom"}
    names |= {".site-state.json", "all.atom"}
    assert {p.name for p in site.iterdir()} == names  # no temporary file left behind
    for path in site.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert _entries(site / "kakade.atom") == []  # the baseline harvest records no new paper
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="kakade.html">Sham Kakade</a>' in index and 'href="kakade.atom"' in index

    new = _add_paper(corpus, "2611.09999", "A Brand New Paper on Shampoo & Adam")
    before = (site / "kakade.html").stat().st_ino
    harvest(store, settings, derive=True)
    assert (site / "kakade.html").stat().st_ino != before  # replaced, not rewritten in place
    (entry,) = _entries(site / "kakade.atom")
    assert entry.findtext(f"{ATOM}id") == f"https://arxiv.org/abs/{new}"
    assert entry.findtext(f"{ATOM}title") == "A Brand New Paper on Shampoo & Adam"
    assert entry.find(f"{ATOM}link").get("href") == f"https://arxiv.org/abs/{new}"  # type: ignore[union-attr]
    page = (site / "kakade.html").read_text(encoding="utf-8")
    assert "77 papers on arXiv" in page
    assert "A Brand New Paper on Shampoo &amp; Adam" in page
    assert page.index(new) < page.index(seed_papers(corpus)[0].arxiv_id)


def test_only_the_pages_whose_data_changed_are_rewritten(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    settings = with_html_dir(make_settings(db_url, server.url, authors=AUTHORS), site)
    harvest(store, settings, derive=True)

    def inodes() -> dict[str, int]:
        return {p.name: p.stat().st_ino for p in site.iterdir()}

    first = inodes()
    page = (site / "kakade.html").read_text(encoding="utf-8")
    assert "<dt>Last change</dt>" in page and "Last harvest" not in page
    harvest(store, settings, derive=True)  # nothing new upstream
    quiet = inodes()
    assert {n for n in first if quiet[n] != first[n]} == {"index.html", ".site-state.json"}
    _add_paper(corpus, "2611.09997", "One More Paper")
    harvest(store, settings, derive=True)
    changed = {n for n, ino in inodes().items() if ino != quiet[n]}
    assert {"kakade.html", "kakade.atom", "index.html"} <= changed
    (site / "morwani.atom").unlink()
    (site / "kakade.html").write_text("edited by hand", encoding="utf-8")
    before = inodes()
    harvest(store, settings, derive=True)
    after = inodes()
    assert after["morwani.atom"] and after["morwani.html"] != before["morwani.html"]
    assert after["kakade.html"] == before["kakade.html"]  # same data: the page is not read
    (site / ".site-state.json").write_text("{not json", encoding="utf-8")
    harvest(store, settings, derive=True)
    assert all(ino != after[n] for n, ino in inodes().items())  # no state: everything anew


def test_similar_authors_are_recomputed_only_when_data_changed(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    settings = make_settings(db_url, server.url, authors=AUTHORS)
    harvest(store, settings, derive=True)
    first = _refreshed_at(store)
    harvest(store, settings, derive=True)  # nothing changed upstream
    assert _refreshed_at(store) == first
    _add_paper(corpus, "2611.09998", "Another New Paper")
    harvest(store, settings, derive=True)
    assert _refreshed_at(store) > first


def test_concurrent_refreshes_take_turns(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    """Processes sharing a database may refresh at once: each writes whole results."""
    harvest(store, make_settings(db_url, server.url, authors=AUTHORS), derive=True)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            refresh_similar_authors(store, everything=True)
        except BaseException as exc:  # collected: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.engine.connect() as conn:
        positions = conn.execute(select(similar_author.c.author_key, similar_author.c.position))
        rows = list(positions)
    assert sorted(rows) == sorted(set(rows)) and len(rows) > 10


def test_an_unwritable_html_dir_is_logged_and_the_harvest_stands(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    settings = with_html_dir(make_settings(db_url, server.url), blocker / "site")
    report = harvest(store, settings, derive=True)
    assert report.exit_code == 0
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert line.startswith("static site not updated") and "html_dir" in line
    assert after_cycle(settings, store) == ["static site"]


def test_a_database_error_in_a_derived_step_is_logged_and_the_harvest_stands(
    store: Store, server: LookalikeServer, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """After the harvest has committed, the similar-authors step meets a database error
    (here a trigger; a write lock held by another program ends the same way): one error
    line, the exit code of the harvest, and the next refresh does the work."""
    refuse_inserts(store, "similar_author")
    settings = make_settings(db_url, server.url, authors=AUTHORS)
    report = harvest(store, settings, derive=True)
    assert report.exit_code == 0
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert line.startswith("similar authors not updated") and "refused by a test trigger" in line
    assert after_cycle(settings, store) == ["similar authors"]
    allow_inserts(store, "similar_author")
    assert after_cycle(settings, store) == []
    with store.engine.connect() as conn:
        assert conn.execute(select(similar_author.c.author_key)).first() is not None


def test_a_failed_rename_leaves_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.mkdir()  # a directory cannot be replaced by a file
    (target / "keep").write_text("kept", encoding="utf-8")
    with pytest.raises(OutputError, match=r"page\.html"):
        atomic_write(target, b"new")
    assert (target / "keep").read_text(encoding="utf-8") == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_html_dir_setting_is_validated(tmp_path: Path) -> None:
    def parse(output: dict[str, object]) -> object:
        data = {"authors": [SEED_AUTHOR], "output": output}
        return parse_settings(data, tmp_path / "h.toml", {}).output.html_dir  # type: ignore[arg-type]

    assert parse({}) is None
    assert parse({"html_dir": "site"}) == Path("site")
    assert parse({"html_dir": "~/site"}) == Path.home() / "site"
    for bad, problem in [("", "must not be empty"), (3, "expected a string"), ("a\nb", "control")]:
        with pytest.raises(ConfigError, match=problem) as info:
            parse({"html_dir": bad})
        assert info.value.key == "output.html_dir"
    with pytest.raises(ConfigError, match="did you mean 'html_dir'"):
        parse({"htmldir": "site"})


def test_harvest_once_writes_the_site(tmp_path: Path, server: LookalikeServer) -> None:
    config = tmp_path / "harvester.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n'
        f'[arxiv]\napi_url = "{server.url}"\ndelay_seconds = 0\n'
        '[output]\nhtml_dir = "public"\n'
        '[[authors]]\nkey = "kakade"\nname = "Sham Kakade"\n',
        encoding="utf-8",
    )
    result = run_cli("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "public" / "kakade.html").read_text(encoding="utf-8")
    assert "<h1>Sham Kakade</h1>" in page and "76 papers on arXiv" in page


def test_one_feed_of_every_profile_newest_first_rewritten_only_when_it_changes(
    server: LookalikeServer, db_url: str, corpus: Corpus, tmp_path: Path, store: Store
) -> None:
    """Four cycles in-process, as ``harvest --once`` runs them (that the command writes
    the site is :func:`test_harvest_once_writes_the_site`)."""
    site = tmp_path / "site"
    settings = make_settings(db_url, server.url, authors=AUTHORS, delay_seconds=0, page_size=100)
    settings = with_html_dir(settings, site)

    def once() -> None:
        report = harvest(store, settings, derive=True)
        assert report.exit_code == 0, report

    once()
    feed = site / "all.atom"
    assert _entries(feed) == []  # the baseline harvests record no new paper
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="all.atom"' in index and 'type="application/atom+xml"' in index
    papers = seed_papers(corpus)
    shared = next(p for p in papers if "Depen Morwani" in [a.name for a in p.authors])
    alone = next(p for p in papers if "Depen Morwani" not in [a.name for a in p.authors])
    corpus.upsert(replace(shared, arxiv_id="2611.09991", title="Shared", published=LATER))
    once()
    corpus.upsert(replace(alone, arxiv_id="2611.09992", title="Hers Alone", published=LATER))
    once()
    first, second = _entries(feed)
    assert first.findtext(f"{ATOM}title") == "[Sham Kakade] Hers Alone"
    assert second.findtext(f"{ATOM}title") == "[Sham Kakade, Depen Morwani] Shared"
    profiles = [
        (c.get("term"), c.get("label"))
        for c in second.findall(f"{ATOM}category")
        if c.get("scheme") == "arxiv-harvester:profile"
    ]
    assert profiles == [("kakade", "Sham Kakade"), ("morwani", "Depen Morwani")]
    written = feed.stat().st_ino
    once()  # nothing new: the same feed, not rewritten
    assert feed.stat().st_ino == written


def _add_paper(corpus: Corpus, arxiv_id: str, title: str) -> str:
    template = seed_papers(corpus)[0]
    corpus.upsert(
        replace(template, arxiv_id=arxiv_id, version=1, title=title, published=LATER, updated=LATER)
    )
    return arxiv_id


def _entries(feed: Path) -> list[ET.Element]:
    root = ET.parse(feed).getroot()
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}"), required
    return root.findall(f"{ATOM}entry")


def _refreshed_at(store: Store) -> datetime:
    with store.engine.connect() as conn:
        value: datetime = conn.execute(select(derived_state.c.refreshed_at)).scalar_one()
    return value
