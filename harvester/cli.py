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
from pathlib import Path

from . import __version__
from .errors import HarvesterError
from .settings import Settings, load_settings, locate_config
from .source import ArxivSource
from .store import Store
from .summary import profile_summary
from .sync import run_cycle

logger = logging.getLogger("harvester")

EXIT_USAGE = 2


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
    return parser


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
        return 130


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "demo":
        return run_demo(quiet=args.quiet)
    if args.command == "db":
        settings = _settings(args)
        with _opened(settings) as store:
            store.upgrade()
        if not args.quiet:
            print(f"schema is up to date in {settings.database.url}")
        return 0
    if args.once:
        return run_once(_settings(args), quiet=args.quiet)
    parser.print_usage(sys.stderr)
    print("harvest: error: say what to do: --once, db upgrade or demo", file=sys.stderr)
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


def run_once(settings: Settings, *, quiet: bool = False) -> int:
    """``harvest --once``: migrate, harvest every author, print a line each."""
    with _opened(settings) as store, ArxivSource(settings.arxiv) as source:
        store.upgrade()
        report = run_cycle(settings, store, source)
    for author in report.authors:
        if not quiet or author.status != "ok":
            print(author.line(), file=sys.stdout if author.status == "ok" else sys.stderr)
    return report.exit_code


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
                summary = profile_summary(store, author.key)
                if summary is not None:
                    print(summary.render())
    return code


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
