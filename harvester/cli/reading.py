"""The commands that read profiles or decide on them: ``authors`` (and ``--purge``),
``profile``, ``history``, ``export`` and ``review``. Each takes the run's
:class:`~.context.Context` and returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .. import exits
from .context import Context, say, schema_checked

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store


def list_authors(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest authors [--json]``: the configured authors, then the profiles the
    database holds that the config no longer names; read-only."""
    from ..tracked import authors_json, render_authors, tracked_authors

    with schema_checked(settings) as store:
        rows = tracked_authors(settings.authors, store.stored_authors())
    sys.stdout.write(authors_json(rows) if args.json else render_authors(rows))  # asked for
    return exits.OK


def purge_authors(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest authors --purge KEY... [--dry-run] [--yes]``: remove profiles the config
    no longer names, in one transaction, after a confirmation."""
    from ..tracked import check_purge, render_purge

    keys = list(dict.fromkeys(args.purge))
    with schema_checked(settings, write=True) as store:
        check_purge(keys, settings.authors, store.stored_authors())
        if not (args.dry_run or args.yes):
            _confirm_purge(keys)
        purged = store.purge_authors(keys, dry_run=args.dry_run)
    say(render_purge(purged, dry_run=args.dry_run).rstrip("\n"), quiet=args.quiet)
    return exits.OK


def _confirm_purge(keys: list[str]) -> None:
    """On a terminal, the keys typed back; anywhere else, a refusal that says --yes."""
    from ..errors import RequestRefusedError

    if not sys.stdin.isatty():
        raise RequestRefusedError(
            f"purging {' '.join(keys)} needs a confirmation and stdin is not a terminal",
            hint="pass --yes to purge without asking; --dry-run shows what would go",
        )
    wanted = " ".join(keys)
    typed = input(f"This removes everything stored for {wanted}. Type {wanted!r} to go on: ")
    if typed.strip() != wanted:
        raise RequestRefusedError("not confirmed: nothing was removed")


def show_profile(settings: Settings, args: argparse.Namespace, what: str) -> int:
    """``harvest profile|history|export KEY`` (``what``): read-only, from the views."""
    from ..profile import export_profile, load_history, load_profile, render, render_history

    with schema_checked(settings) as store:
        if what == "profile":
            output = render(load_profile(store, args.key), args.format)
        elif what == "history":
            output = render_history(load_history(store, args.key, args.since))
        else:
            output = export_profile(store, args.key, args.format)
    sys.stdout.write(output)  # what was asked for: -q silences chatter, never this
    return exits.OK


def review_papers(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest review KEY [--json] [--accept ID...] [--reject ID...] [--forget ID...]
    [--accept-above SCORE] [--accept-from FILE] [--reject-from FILE]``, each option as often
    as wanted: listing only reads; a decision is written and applied at once, the derived
    data refreshed (the schema is never migrated here)."""
    from ..review import queue_json, render_queue, review_queue, waiting

    accept = [*args.accept, *(i for path in args.accept_from for i in _ids_from(path))]
    reject = [*args.reject, *(i for path in args.reject_from for i in _ids_from(path))]
    deciding = bool(accept or reject or args.forget) or args.accept_above is not None
    with schema_checked(settings, write=deciding) as store:
        if deciding:
            output = _decide(store, settings, args, accept, reject)
        else:
            held, pending = review_queue(store, args.key), waiting(store, args.key)
            render = queue_json if args.json else render_queue
            output = render(args.key, held, pending)
    if not (args.quiet and deciding):  # -q silences a confirmation, never the list asked for
        sys.stdout.write(output)
    return exits.OK


def _ids_from(path: str) -> list[str]:
    """The ids of one ``--accept-from``/``--reject-from`` file (``-``: stdin)."""
    from ..errors import ReviewInputError
    from ..review import read_ids

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewInputError(path, exc) from exc
    return read_ids(text)


def _decide(
    store: Store, settings: Settings, args: argparse.Namespace, accept: list[str], reject: list[str]
) -> str:
    """Record the decisions; say what was decided (how many, for ``--accept-above``)."""
    from datetime import UTC, datetime

    from ..identity import Matcher
    from ..profile.refresh import after_cycle
    from ..review import decide, held_above, review_queue

    above: list[str] = []
    if args.accept_above is not None:
        above = held_above(review_queue(store, args.key), args.accept_above)
    matcher = next(
        (
            Matcher.for_profile(a.key, a.name, a.aliases, a.include_ids, a.exclude_ids)
            for a in settings.authors
            if a.key == args.key
        ),
        None,
    )
    every = [*accept, *(i for i in above if i not in accept)]
    now = datetime.now(UTC)
    decided = decide(store, args.key, every, reject, now, matcher, forget=args.forget)
    listed = [i for i in decided if i not in above or i in accept]
    lines = [f"{args.key}: {i} {decided[i] or 'forgotten'}" for i in listed]
    if args.accept_above is not None:
        count = f"{len(above)} held paper{'' if len(above) == 1 else 's'}"
        lines.append(f"{args.key}: {count} scored at least {args.accept_above:g} accepted")
    failed = after_cycle(settings, store, now=now)  # similar authors and the site, at once
    done = "applied now" + (f" ({', '.join(failed)} not updated)" if failed else "")
    return "\n".join([*lines, done]) + "\n"


# -- one function per command (``set_defaults(func=...)`` in :mod:`.parser`) --------------


def authors(context: Context) -> int:
    """``harvest authors [--json]`` and ``harvest authors --purge KEY...``."""
    settings, args = context.settings(), context.args
    return purge_authors(settings, args) if args.purge else list_authors(settings, args)


def profile(context: Context) -> int:
    """``harvest profile KEY [--format F]``."""
    return show_profile(context.settings(), context.args, "profile")


def history(context: Context) -> int:
    """``harvest history KEY [--since DATE]``."""
    return show_profile(context.settings(), context.args, "history")


def export(context: Context) -> int:
    """``harvest export KEY [--format F]``."""
    return show_profile(context.settings(), context.args, "export")


def review(context: Context) -> int:
    """``harvest review KEY [...]``."""
    return review_papers(context.settings(), context.args)


def who(context: Context) -> int:
    """``harvest who NAME [--json]``: asks arXiv (a few requests), reads no database."""
    from ..source import ArxivSource
    from ..who import render_who, who_json
    from ..who import who as bodies

    settings, args = context.settings(), context.args
    with ArxivSource(settings.arxiv) as source:
        found = bodies(source, args.name)
    render = who_json if args.json else render_who
    sys.stdout.write(render(args.name, found))
    return exits.OK
