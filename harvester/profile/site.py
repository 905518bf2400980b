"""The static site: ``index.html``, ``KEY.html`` and ``KEY.atom`` for every profile.

Written after each harvest cycle when ``[output] html_dir`` is set. Every file is
written to a temporary file in the same directory, flushed to disk, then renamed over
the old one (:func:`atomic_write`), so a web server or a reader never sees half a page.
The pages are readable by everyone (mode 0644): they are meant to be published.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from ..errors import OutputError
from ..records import FeedEntry, IndexRow, Profile
from ..store import Store
from ..store.profiles import profile_reader
from .feed import render_feed
from .render_html import render_html, render_index

logger = logging.getLogger(__name__)

FILE_MODE = 0o644


def write_site(store: Store, directory: Path) -> list[Path]:
    """Rewrite every page and feed, then the index; returns the files written.

    Every row is read first, on one connection closed before any file is written, so a
    slow disk never holds the database up.
    """
    _make_directory(directory)
    with profile_reader(store.engine) as reader:
        rows = reader.index()
        pages = [(row, reader.profile(row.key), reader.new_papers(row.key)) for row in rows]
    written = []
    for row, profile, entries in pages:
        written += _write_profile(directory, row, profile, entries)
    index = directory / "index.html"
    latest = max((r.last_harvest_at for r in rows if r.last_harvest_at), default=None)
    atomic_write(index, render_index(rows, latest).encode())
    logger.info("site written: %d profiles in %s", len(rows), directory)
    return [*written, index]


def _write_profile(
    directory: Path, row: IndexRow, profile: Profile, entries: list[FeedEntry]
) -> list[Path]:
    page, feed = directory / f"{row.key}.html", directory / f"{row.key}.atom"
    atomic_write(page, render_html(profile, site=True).encode())
    atomic_write(feed, render_feed(row.key, row.name, entries, row.last_harvest_at))
    return [page, feed]


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once (write, fsync, rename)."""
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in {path.parent}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _make_directory(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {directory}: {exc.strerror or exc}") from exc
