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

from sqlalchemy import Connection, text

from ..errors import OutputError
from ..store import Store
from ..store.schema import UTCDateTime
from .feed import new_papers, render_feed
from .render_html import IndexRow, render_html, render_index
from .stats import read_profile

logger = logging.getLogger(__name__)

FILE_MODE = 0o644

_INDEX = text(
    "SELECT author_key, name, paper_count, withdrawn_count, papers_last_12_months,"
    " latest_published, last_harvest_at, last_harvest_status"
    " FROM profile_stats ORDER BY name, author_key"
).columns(latest_published=UTCDateTime, last_harvest_at=UTCDateTime)


def write_site(store: Store, directory: Path) -> list[Path]:
    """Rewrite every page and feed, then the index; returns the files written."""
    _make_directory(directory)
    written = []
    with store.engine.connect() as conn:
        rows = [IndexRow(*r) for r in conn.execute(_INDEX)]
        for row in rows:
            written += _write_profile(conn, directory, row)
    index = directory / "index.html"
    latest = max((r.last_harvest_at for r in rows if r.last_harvest_at), default=None)
    atomic_write(index, render_index(rows, latest).encode())
    logger.info("site written: %d profiles in %s", len(rows), directory)
    return [*written, index]


def _write_profile(conn: Connection, directory: Path, row: IndexRow) -> list[Path]:
    profile = read_profile(conn, row.key)
    page, feed = directory / f"{row.key}.html", directory / f"{row.key}.atom"
    atomic_write(page, render_html(profile, site=True).encode())
    entries = new_papers(conn, row.key)
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
