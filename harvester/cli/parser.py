"""The ``harvest`` parser: the options every command takes, and one subcommand each, bound
to its function with ``set_defaults(func=...)`` (:mod:`.commands`, :mod:`.reading`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import __version__
from . import commands as harvesting
from . import reading

FORMATS = ("text", "markdown", "json", "html")


EXPORT_FORMATS = ("bibtex", "csv", "json")


COMMANDS = (
    "--once, daemon, status, authors, profile, history, export, refresh, review, notify, who,"
    " import, db upgrade or demo"
)


def _common_options(*, top: bool, config: bool = True) -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name.

    The top-level parser and the commands get separate copies: argparse lets a command's
    parser overwrite what the top level parsed with the command's defaults, so only the
    top level has defaults and a command's options are left out unless given. ``config``
    False: ``--config`` is not offered (``demo`` refuses it, with a reason).
    """
    default = None if top else argparse.SUPPRESS
    flag = False if top else argparse.SUPPRESS
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="configuration file (default: $HARVESTER_CONFIG, else ./config/harvester.toml)"
        if config
        else argparse.SUPPRESS,
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=flag, help="debug logging, tracebacks"
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=flag,
        help="print only errors and the output asked for (no progress or confirmations)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harvest",
        description="Keep arXiv author profiles true and current in a SQL database.",
        parents=[_common_options(top=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--once", action="store_true", help="harvest every configured author once, then exit"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --once: a full reconciliation of every author, not an incremental harvest",
    )
    parser.add_argument(
        "--only",
        **_every_occurrence(),
        metavar="KEY",
        help="with --once: harvest only these configured authors",
    )
    parser.set_defaults(func=harvesting.once)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options(top=False)
    adders = (_db, _refresh, _import, _demo, _daemon, _status, _authors)
    for add in (*adders, _profile, _history, _export, _review, _notify, _who):  # as --help lists
        add(commands, common)
    return parser


Commands = Any
"""argparse's subparsers action (its type is private to argparse)."""


def _db(commands: Commands, common: argparse.ArgumentParser) -> None:
    db = commands.add_parser("db", help="database maintenance", parents=[common])
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    actions.add_parser(
        "upgrade", help="create or upgrade the schema (Alembic migrations)", parents=[common]
    ).set_defaults(func=harvesting.db_upgrade)


def _refresh(commands: Commands, common: argparse.ArgumentParser) -> None:
    refresh = commands.add_parser(
        "refresh",
        help="bring the similar authors (and the site) up to date with the database",
        parents=[common],
    )
    refresh.add_argument(
        "--all",
        action="store_true",
        dest="everything",
        help="recompute every profile with a newly fitted model, not only what changed",
    )
    refresh.set_defaults(func=harvesting.refresh)


def _import(commands: Commands, common: argparse.ArgumentParser) -> None:
    imports = commands.add_parser(
        "import",
        help="a cold start from arXiv's metadata snapshot (JSON lines, plain or gzip), resumable",
        parents=[common],
    )
    imports.add_argument("file", type=Path, metavar="FILE", help="the snapshot file")
    imports.add_argument(
        "--no-match",
        action="store_true",
        help="only store the papers; do not match them against the tracked authors",
    )
    imports.set_defaults(func=harvesting.import_file)


def _demo(commands: Commands, _common: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo",
        help="offline demo: harvest the bundled seed corpus from a local arXiv look-alike",
        description="Start the bundled arXiv look-alike (a child process, real HTTP on"
        " 127.0.0.1), harvest it into a temporary SQLite database and print what came out.",
        parents=[_common_options(top=False, config=False)],
    )
    demo.add_argument(
        "--identity",
        action="store_true",
        help="five people all written 'Wei Zhang': harvest her by name alone, then with her"
        " arXiv author identifier; print what was accepted, held and rejected, and the"
        " 'harvest review' commands that decide the held papers",
    )
    demo.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="keep the demo's database in DIR (a new folder), with a harvester.toml for"
        " --config, so 'harvest profile' or 'harvest review' can read it afterwards",
    )
    demo.set_defaults(func=harvesting.demo)


def _daemon(commands: Commands, common: argparse.ArgumentParser) -> None:
    daemon = commands.add_parser(
        "daemon",
        help="harvest on the [schedule] until SIGTERM (systemd Type=notify service)",
        parents=[common],
    )
    daemon.add_argument(
        "--run-now", action="store_true", help="harvest at start, however recent the last one"
    )
    daemon.set_defaults(func=harvesting.daemon)


def _status(commands: Commands, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser(
        "status",
        help="per author: last harvest, failures, next run, staleness; exit 1 if unhealthy",
        parents=[common],
    )
    status.add_argument("--json", action="store_true", help="print JSON (for monitoring)")
    status.set_defaults(func=harvesting.status)


def _authors(commands: Commands, common: argparse.ArgumentParser) -> None:
    """``authors``: the tracked authors and the profiles left behind; ``--purge`` those."""
    authors = commands.add_parser(
        "authors",
        help="tracked authors and profiles no longer in the config; --purge removes those",
        parents=[common],
    )
    authors.add_argument("--json", action="store_true", help="print JSON")
    authors.add_argument(
        "--purge",
        **_every_occurrence(),
        metavar="KEY",
        help="remove everything the database holds for these authors (no longer in the config)",
    )
    authors.add_argument(
        "--dry-run", action="store_true", help="with --purge: say what would go, change nothing"
    )
    authors.add_argument(
        "--yes", action="store_true", help="with --purge: do not ask for confirmation"
    )
    authors.set_defaults(func=reading.authors)


def _profile(commands: Commands, common: argparse.ArgumentParser) -> None:
    profile = commands.add_parser(
        "profile",
        help="an author's profile: statistics, similar authors, papers newest first",
        parents=[common],
    )
    profile.add_argument("key", help="the author's key in the config")
    profile.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    profile.set_defaults(func=reading.profile)


def _history(commands: Commands, common: argparse.ArgumentParser) -> None:
    history = commands.add_parser(
        "history", help="an author's count changes and events, newest first", parents=[common]
    )
    history.add_argument("key", help="the author's key in the config")
    history.add_argument(
        "--since", type=_since, metavar="DATE", help="from DATE on (YYYY-MM-DD or ISO, UTC)"
    )
    history.set_defaults(func=reading.history)


def _export(commands: Commands, common: argparse.ArgumentParser) -> None:
    export = commands.add_parser(
        "export", help="an author's papers as BibTeX, CSV or JSON", parents=[common]
    )
    export.add_argument("key", help="the author's key in the config")
    export.add_argument(
        "--format", choices=EXPORT_FORMATS, default="bibtex", help="default: bibtex"
    )
    export.set_defaults(func=reading.export)


def _review(commands: Commands, common: argparse.ArgumentParser) -> None:
    review = commands.add_parser(
        "review",
        help="papers held for review (same name, unclear identity); --accept/--reject decide now",
        parents=[common],
    )
    review.add_argument("key", help="the author's key in the config")
    review.add_argument("--json", action="store_true", help="print JSON")
    review.add_argument("--accept", **_every_occurrence(), metavar="ID", help="they are hers")
    review.add_argument("--reject", **_every_occurrence(), metavar="ID", help="they are not")
    review.add_argument(
        "--forget", **_every_occurrence(), metavar="ID", help="withdraw a decision on them"
    )
    review.add_argument(
        "--accept-above",
        type=_score,
        metavar="SCORE",
        help="accept every held paper scored at least SCORE (0 to 1)",
    )
    review.add_argument(
        "--accept-from",
        action="append",
        default=[],  # every occurrence: a file each
        metavar="FILE",
        help="accept the ids in FILE ('-': stdin), one a line",
    )
    review.add_argument(
        "--reject-from",
        action="append",
        default=[],
        metavar="FILE",
        help="reject the ids in FILE ('-': stdin), one a line",
    )
    review.set_defaults(func=reading.review)


def _notify(commands: Commands, common: argparse.ArgumentParser) -> None:
    notify = commands.add_parser(
        "notify",
        help="the [[notify]] targets: send each a test message, or preview the next delivery",
        parents=[common],
    )
    what = notify.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--test",
        action="store_true",
        help="send one test message to each target; say per target delivered or why not",
    )
    what.add_argument(
        "--preview",
        action="store_true",
        help="print what the next delivery would send (nothing is sent or changed)",
    )
    notify.set_defaults(func=harvesting.notify)


def _every_occurrence() -> dict[str, Any]:
    """A list option given more than once (``--accept A --accept B``) keeps every value:
    argparse's default action would keep only the last occurrence's."""
    return {"nargs": "+", "action": "extend", "default": []}


def _who(commands: Commands, common: argparse.ArgumentParser) -> None:
    who = commands.add_parser(
        "who",
        help="the separate bodies of work behind a name, before tracking someone",
        parents=[common],
    )
    who.add_argument("name", help="the name as written on papers, e.g. 'Wei Zhang'")
    who.add_argument("--json", action="store_true", help="print JSON")
    who.set_defaults(func=reading.who)


def _score(value: str) -> float:
    try:
        score = float(value)
    except ValueError:
        score = -1.0
    if not 0.0 <= score <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a score from 0 to 1, got {value!r}")
    return score


def _since(value: str) -> Any:
    from ..profile.history import parse_since

    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
