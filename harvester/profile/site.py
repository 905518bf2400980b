"""The static site: ``index.html``, ``all.atom``, and ``KEY.html`` and ``KEY.atom`` for
every profile.

Written after each harvest cycle when ``[output] html_dir`` is set. Every file is
written to a temporary file in the same directory, flushed to disk, then renamed over
the old one (:func:`atomic_write`), so a web server or a reader never sees half a page.
The pages are readable by everyone (mode 0644): they are meant to be published.

Only what changed is rewritten: ``.site-state.json`` in the directory keeps a stamp of
what each profile's page and feed were written from (its papers and their rows, its
similar authors, its events, the month, the renderer's version;
:meth:`~harvester.store.ProfileReader.page_stamps`). A page whose stamp is the
same, and whose files are there, is left alone; the index is written every time. The
feed of every profile's new papers, ``all.atom``, is stamped with a digest of its own
bytes: it is rewritten only when what it says changed (a feed reader that polls it with
``If-Modified-Since`` sees a new date only then).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..errors import OutputError
from ..records import FeedEntry, IndexRow, Profile
from ..store import Store
from .feed import SITE_FEED, render_feed, render_site_feed
from .render_html import render_html, render_index

logger = logging.getLogger(__name__)

FILE_MODE = 0o644


MANIFEST = ".site-state.json"
MAX_STATE_BYTES = 64_000_000
"""The manifest's largest size: a stamp is under 100 bytes a profile."""
RENDERING = "2"
"""Part of every stamp: a change to the pages' HTML or feeds must bump it (rewrite all)."""


def write_site(store: Store, directory: Path, *, now: datetime | None = None) -> list[Path]:
    """Rewrite the pages and feeds that changed, then the index; returns the files written.

    Every row is read first, on one connection closed before any file is written, so a
    slow disk never holds the database up.
    """
    _make_directory(directory)
    month = (now or datetime.now(UTC)).strftime("%Y-%m")
    written_from = _read_manifest(directory)
    with store.profiles() as reader:
        rows = reader.index()
        found = reader.page_stamps()
        stamps = {r.key: _stamp(r, found.get(r.key, ("", None))[0], month) for r in rows}
        stale = [r for r in rows if not _current(directory, r.key, stamps, written_from)]
        pages = [
            (row, reader.profile(row.key), reader.new_papers(row.key), found.get(row.key))
            for row in stale
        ]
        everyone = reader.all_new_papers()
    written = []
    for row, profile, entries, stamp in pages:
        written += _write_profile(directory, row, profile, entries, stamp[1] if stamp else None)
    stamps[SITE_FEED] = _write_site_feed(directory, rows, everyone, written_from, written)
    index = directory / "index.html"
    latest = max((r.last_harvest_at for r in rows if r.last_harvest_at), default=None)
    atomic_write(index, render_index(rows, latest).encode())
    atomic_write(directory / MANIFEST, json.dumps(stamps, sort_keys=True, indent=0).encode())
    _remove_gone(directory, set(written_from) - set(stamps))
    logger.info("site written: %d of %d profiles in %s", len(pages), len(rows), directory)
    return [*written, index]


def _write_site_feed(
    directory: Path,
    rows: list[IndexRow],
    entries: list[FeedEntry],
    written_from: dict[str, str],
    written: list[Path],
) -> str:
    """``all.atom``, unless it is there with the same bytes; its stamp for the manifest."""
    document = render_site_feed(entries, {r.key: r.name for r in rows})
    stamp = hashlib.sha256(document).hexdigest()
    path = directory / SITE_FEED
    if written_from.get(SITE_FEED) != stamp or not path.exists():
        atomic_write(path, document)
        written.append(path)
    return stamp


def _stamp(row: IndexRow, data: str, month: str) -> str:
    digest = hashlib.sha256(repr((RENDERING, month, row.name, data)).encode())
    return digest.hexdigest()


def _current(
    directory: Path, key: str, stamps: dict[str, str], written_from: dict[str, str]
) -> bool:
    """The page and feed of ``key`` are there and were written from what is stored now."""
    files = (directory / f"{key}.html", directory / f"{key}.atom")
    return written_from.get(key) == stamps[key] and all(f.exists() for f in files)


def _remove_gone(directory: Path, keys: set[str]) -> None:
    """Pages and feeds this site wrote for profiles the database no longer holds (purged
    with ``harvest authors --purge``); only files the manifest named are touched."""
    for key in sorted(keys):
        for path in (directory / f"{key}.html", directory / f"{key}.atom"):
            if path.parent != directory:  # a manifest edited by hand names no other place
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot remove {path}: {exc.strerror or exc}") from exc


def _read_manifest(directory: Path) -> dict[str, str]:
    """What each page was last written from; anything unreadable means: rewrite all (and
    the manifest written afterwards replaces it)."""
    path = directory / MANIFEST
    try:
        data = json.loads(_read_state(path))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as exc:
        logger.warning("%s cannot be read (%s): every page is written again", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _read_state(path: Path) -> str:
    """The manifest's text, if it is a regular file of at most :data:`MAX_STATE_BYTES`
    (as the configuration file must be): never a FIFO to wait on or a device to read
    without end. Opened without waiting, then checked, so nothing is swapped in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a device, a FIFO or a directory?)")
        if info.st_size > MAX_STATE_BYTES:
            raise ValueError(f"{info.st_size} bytes; it is at most {MAX_STATE_BYTES}")
        data = file.read(MAX_STATE_BYTES + 1)
    if len(data) > MAX_STATE_BYTES:
        raise ValueError(f"more than {MAX_STATE_BYTES} bytes")
    return data.decode("utf-8")


def _write_profile(
    directory: Path,
    row: IndexRow,
    profile: Profile,
    entries: list[FeedEntry],
    changed_at: datetime | None,
) -> list[Path]:
    page, feed = directory / f"{row.key}.html", directory / f"{row.key}.atom"
    atomic_write(page, render_html(profile, site=True, changed_at=changed_at).encode())
    atomic_write(feed, render_feed(row.key, row.name, entries, changed_at))
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
