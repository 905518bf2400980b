"""What every command shares: the context a failure message names, the settings, the
store opened and closed, and how a command speaks (``-q`` silences chatter only)."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store


@dataclass
class Context:
    """One run of ``harvest``: its arguments, and what a failure message names (the
    configuration file and the database, once known)."""

    args: argparse.Namespace
    config: Path | None = None
    database: str | None = None

    def describe(self) -> str:
        known = [f"config {self.config}"] if self.config else []
        known += [f"database {self.database}"] if self.database else []
        return f" [{'; '.join(known)}]" if known else ""

    def settings(self) -> Settings:
        """Load the settings; ``[logging] level`` applies unless -v or -q was given."""
        from ..config import load_settings, locate_config

        self.config = locate_config(self.args.config, os.environ, Path.cwd())
        settings = load_settings(self.config, os.environ)
        self.database = masked(settings.database.url)
        if not (self.args.verbose or self.args.quiet):
            logging.getLogger().setLevel(settings.logging.level)
        return settings


def masked(url: str) -> str:
    from ..store import masked_url

    return masked_url(url)


class opened:
    """``with opened(settings) as store``: a Store closed on the way out."""

    def __init__(self, settings: Settings) -> None:
        from ..store import Store

        self.store = Store.open(settings.database.url)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


@contextmanager
def schema_checked(settings: Settings, *, write: bool = False) -> Iterator[Store]:
    """A store on a read-only engine (``write``: a writing one), refused unless its schema
    is the newest: these commands never migrate (a reader may have a read-only role)."""
    from ..profile import check_schema
    from ..store import Store

    url = settings.database.url
    store = Store.open(url) if write else Store.reader(url)
    try:
        check_schema(store)
        yield store
    finally:
        store.close()


def say(text: str, *, quiet: bool) -> None:
    if not quiet:
        print(text)


def one_line(text: str) -> str:
    return " ".join(text.split())
