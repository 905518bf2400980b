"""The generated site in a real browser: headless Chromium from Debian, over file://.

Chromium loads the page with networking disabled (no DNS either), dumps the DOM it built
and takes a screenshot, kept in ``test-artifacts/profile.png`` for people to look at.
``make test`` installs Chromium when missing (scripts/ensure-chromium, which says so first);
``make test NO_INSTALL=1`` installs nothing and this test is skipped, saying why; otherwise
a missing Chromium skips it locally and fails it when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import Harvested, harvested_database

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WINDOW = (1100, 1500)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    if os.environ.get("NO_INSTALL") == "1":
        pytest.skip("chromium is not installed, and NO_INSTALL=1 asked make test not to")
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (scripts/ensure-chromium installs it)")
    pytest.skip("chromium is not installed (make test installs it; or apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harvested, Path]]:
    directory = tmp_path_factory.mktemp("browser")
    with harvested_database("sqlite", directory, html_dir=directory / "site") as harvested:
        yield harvested, directory / "site"


def browse(page: Path, profile_dir: Path, *extra: str) -> str:
    """Chromium's DOM of ``page`` after loading it offline."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile_dir}",
        *extra,
        "--dump-dom",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_profile_page_renders_offline(site: tuple[Harvested, Path], tmp_path: Path) -> None:
    _, directory = site
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "profile.png"
    shot.unlink(missing_ok=True)
    dom = browse(
        directory / "kakade.html",
        tmp_path / "chromium",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={shot}",
    )
    assert "<h1>Sham Kakade</h1>" in dom and "76 papers on arXiv" in dom
    assert dom.count('<g class="bar"') == 8  # 2019..2026
    assert dom.count('<li class="paper') == 76
    assert dom.count('<span class="badge">Withdrawn</span>') == 1
    assert '<a href="morwani.html">Depen Morwani</a>' in dom
    assert "<script" not in dom
    width, height = png_size(shot)
    assert (width, height) == WINDOW
    assert shot.stat().st_size > 50_000, "the screenshot looks blank"


def test_the_index_links_every_profile(site: tuple[Harvested, Path], tmp_path: Path) -> None:
    _, directory = site
    dom = browse(directory / "index.html", tmp_path / "chromium")
    assert '<a href="kakade.html">Sham Kakade</a>' in dom
    assert '<a href="morwani.html">Depen Morwani</a>' in dom


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
