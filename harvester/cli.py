"""``harvest``: a thin command line over the library.

Parses arguments, loads the settings, calls one library function, and turns our
error root into one line on stderr and an exit code (sysexits where they fit):
0 ok, 1 some author not harvested, 2 configuration or usage error, 69 arXiv
unreachable, 70 internal error, 73/74 database cannot be created/written,
75 temporary failure (cron may simply try again later).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, exits
from .errors import HarvesterError
from .harvest import harvest_once
from .logformat import OneLineFormatter, under_systemd
from .profile import (
    EXPORT_FORMATS,
    FORMATS,
    check_schema,
    export_profile,
    load_history,
    load_profile,
    parse_since,
    render,
    render_history,
    render_summary,
)
from .settings import Settings, load_settings, locate_config
from .status import collect_status
from .store import Store
from .store.reader import open_reader
from .vocabulary import RunStatus

logger = logging.getLogger("harvester")

EXIT_USAGE = exits.USAGE


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $HARVESTER_CONFIG, else ./config/harvester.toml)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging, tracebacks")
    common.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="harvest",
        description="Keep arXiv author profiles true and current in a SQL database.",
        parents=[common],
    )
    parser.set_defaults(config=None, verbose=False, quiet=False)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--once", action="store_true", help="harvest every configured author once, then exit"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --once: a full reconciliation of every author, not an incremental harvest",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    db = commands.add_parser("db", help="database maintenance", parents=[common])
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser(
        "upgrade", help="create or upgrade the schema (Alembic migrations)", parents=[common]
    )
    commands.add_parser(
        "demo",
        help="offline demo: harvest the bundled seed corpus from a local arXiv look-alike",
        parents=[common],
    )
    daemon = commands.add_parser(
        "daemon",
        help="harvest on the [schedule] until SIGTERM (systemd Type=notify service)",
        parents=[common],
    )
    daemon.add_argument(
        "--run-now", action="store_true", help="harvest at start, however recent the last one"
    )
    status = commands.add_parser(
        "status",
        help="per author: last harvest, failures, next run, staleness; exit 1 if unhealthy",
        parents=[common],
    )
    status.add_argument("--json", action="store_true", help="print JSON (for monitoring)")
    _profile_commands(commands, common)
    return parser


def _profile_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """``profile``, ``history`` and ``export``: read-only, from the views."""
    profile = commands.add_parser(
        "profile",
        help="an author's profile: statistics, similar authors, papers newest first",
        parents=[common],
    )
    profile.add_argument("key", help="the author's key in the config")
    profile.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    history = commands.add_parser(
        "history", help="an author's count changes and events, newest first", parents=[common]
    )
    history.add_argument("key", help="the author's key in the config")
    history.add_argument(
        "--since", type=_since, metavar="DATE", help="from DATE on (YYYY-MM-DD or ISO, UTC)"
    )
    export = commands.add_parser(
        "export", help="an author's papers as BibTeX, CSV or JSON", parents=[common]
    )
    export.add_argument("key", help="the author's key in the config")
    export.add_argument(
        "--format", choices=EXPORT_FORMATS, default="bibtex", help="default: bibtex"
    )


def _since(value: str) -> datetime:
    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        return _dispatch(parser, args)
    except HarvesterError as exc:
        logger.debug("failure", exc_info=True)
        print(f"harvest: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("harvest: interrupted", file=sys.stderr)
        return exits.INTERRUPTED


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "demo":
        return run_demo(quiet=args.quiet)
    if args.command == "daemon":
        return run_daemon(args)
    if args.command == "status":
        return show_status(_settings(args), as_json=args.json)
    if args.command in ("profile", "history", "export"):
        return show_profile(_settings(args), args)
    if args.command == "db":
        settings = _settings(args)
        with _opened(settings) as store:
            store.upgrade()
        if not args.quiet:
            print(f"schema is up to date in {settings.database.url}")
        return 0
    if args.once:
        return run_once(_settings(args), quiet=args.quiet, full=args.full)
    if args.full:
        print("harvest: error: --full goes with --once", file=sys.stderr)
        return EXIT_USAGE
    parser.print_usage(sys.stderr)
    print(
        "harvest: error: say what to do: --once, daemon, status, db upgrade or demo",
        file=sys.stderr,
    )
    return EXIT_USAGE


def _settings(args: argparse.Namespace) -> Settings:
    """Load the settings; ``[logging] level`` applies unless -v or -q was given."""
    path = locate_config(args.config, os.environ, Path.cwd())
    settings = load_settings(path, os.environ)
    if not (args.verbose or args.quiet):
        logging.getLogger().setLevel(settings.logging.level)
    return settings


class _opened:
    """``with _opened(settings) as store``: a Store closed on the way out."""

    def __init__(self, settings: Settings) -> None:
        self.store = Store.open(settings.database.url)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def run_once(settings: Settings, *, quiet: bool = False, full: bool = False) -> int:
    """``harvest --once [--full]``: migrate, harvest every author, print a line each."""
    with _opened(settings) as store:
        store.upgrade()
        report = harvest_once(settings, store, full=full)
    code = report.exit_code
    for author in report.authors:
        fine = author.status == RunStatus.OK or (author.status == RunStatus.SKIPPED and code == 0)
        if not quiet or not fine:
            print(author.line(), file=sys.stdout if fine else sys.stderr, flush=True)
    return code


def run_daemon(args: argparse.Namespace) -> int:
    """``harvest daemon``: serve until SIGTERM; SIGHUP re-reads the same file."""
    from .daemon import Daemon

    path = locate_config(args.config, os.environ, Path.cwd())
    level_fixed = args.verbose or args.quiet

    def apply_level(settings: Settings) -> None:
        if not level_fixed:
            logging.getLogger().setLevel(settings.logging.level)

    daemon = Daemon(
        _settings(args),
        load=lambda: load_settings(path, os.environ),
        on_reload=apply_level,
        run_now=args.run_now,
    )
    return daemon.run()


def show_status(settings: Settings, *, as_json: bool = False) -> int:
    """``harvest status``: health per author, read-only; exit 1 if any is stale or failing."""
    engine = open_reader(settings.database.url)
    try:
        report = collect_status(engine, settings, datetime.now(UTC))
    finally:
        engine.dispose()
    print(report.to_json() if as_json else report.render())
    return report.exit_code


def show_profile(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest profile|history|export KEY``: read-only, from the views."""
    store = Store(open_reader(settings.database.url))
    try:
        check_schema(store)
        if args.command == "profile":
            output = render(load_profile(store, args.key), args.format)
        elif args.command == "history":
            output = render_history(load_history(store, args.key, args.since))
        else:
            output = export_profile(store, args.key, args.format)
    finally:
        store.close()
    sys.stdout.write(output)
    return 0


def run_demo(*, quiet: bool = False) -> int:
    """``harvest demo``: the whole pipeline against the bundled look-alike, offline."""
    from .demo import demo_settings
    from .lookalike import LookalikeServer, seed_corpus

    with (
        tempfile.TemporaryDirectory(prefix="harvest-demo-") as tmp,
        LookalikeServer(seed_corpus()) as server,
    ):
        settings = demo_settings(server.url, Path(tmp) / "demo.db")
        code = run_once(settings, quiet=quiet)
        with _opened(settings) as store:
            for author in settings.authors:
                print(render_summary(load_profile(store, author.key)))
    return code


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    journal = under_systemd(os.environ)
    handler.setFormatter(OneLineFormatter(journal=journal, timestamps=args.command == "daemon"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in ("alembic", "apscheduler"):  # their INFO lines repeat ours
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.verbose else logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
