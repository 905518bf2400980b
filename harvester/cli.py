"""``harvest``: a thin command line over the library.

Parses arguments, loads the settings, calls one library function, and turns every failure
into one line on stderr and an exit code (:mod:`harvester.exits`; ``-v`` adds the
traceback). Options common to every command (``--config``, ``-v``, ``-q``) mean the same
before or after the command name. ``-q`` silences chatter (progress, log lines below
ERROR, what a command that changes things says on success; ``status`` speaks only when
unhealthy), never the output asked for (``profile``, ``history``, ``export``, the ``review``
list). A reader that closes the pipe early (``| head``) ends the command quietly. Modules a
command does not need are imported only when it runs, so ``--help`` and ``--version``
start at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, exits
from .errors import ConfigError, HarvesterError
from .logformat import OneLineFormatter, under_systemd

if TYPE_CHECKING:
    from .settings import Settings
    from .store import Store

logger = logging.getLogger("harvester")

FORMATS = ("text", "markdown", "json", "html")
EXPORT_FORMATS = ("bibtex", "csv", "json")
COMMANDS = (
    "--once, daemon, status, authors, profile, history, export, refresh, review, db upgrade or demo"
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
        nargs="+",
        default=[],
        metavar="KEY",
        help="with --once: harvest only these configured authors",
    )
    common = _common_options(top=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    db = commands.add_parser("db", help="database maintenance", parents=[common])
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser(
        "upgrade", help="create or upgrade the schema (Alembic migrations)", parents=[common]
    )
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
    _authors_command(commands, common)
    _profile_commands(commands, common)
    return parser


def _authors_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """``authors``: the tracked authors and the profiles left behind; ``--purge`` those."""
    authors = commands.add_parser(
        "authors",
        help="tracked authors and profiles no longer in the config; --purge removes those",
        parents=[common],
    )
    authors.add_argument("--json", action="store_true", help="print JSON")
    authors.add_argument(
        "--purge",
        nargs="+",
        default=[],
        metavar="KEY",
        help="remove everything the database holds for these authors (no longer in the config)",
    )
    authors.add_argument(
        "--dry-run", action="store_true", help="with --purge: say what would go, change nothing"
    )
    authors.add_argument(
        "--yes", action="store_true", help="with --purge: do not ask for confirmation"
    )


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
    review = commands.add_parser(
        "review",
        help="papers held for review (same name, unclear identity); --accept/--reject decide",
        parents=[common],
    )
    review.add_argument("key", help="the author's key in the config")
    review.add_argument("--json", action="store_true", help="print JSON")
    review.add_argument("--accept", nargs="+", default=[], metavar="ID", help="they are hers")
    review.add_argument("--reject", nargs="+", default=[], metavar="ID", help="they are not")
    review.add_argument(
        "--accept-above",
        type=_score,
        metavar="SCORE",
        help="accept every held paper scored at least SCORE (0 to 1)",
    )
    review.add_argument(
        "--accept-from", metavar="FILE", help="accept the ids in FILE ('-': stdin), one a line"
    )
    review.add_argument(
        "--reject-from", metavar="FILE", help="reject the ids in FILE ('-': stdin), one a line"
    )


def _score(value: str) -> float:
    try:
        score = float(value)
    except ValueError:
        score = -1.0
    if not 0.0 <= score <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a score from 0 to 1, got {value!r}")
    return score


def _since(value: str) -> Any:
    from .profile.history import parse_since

    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass
class _Context:
    """What a failure message names: the configuration file and the database."""

    config: Path | None = None
    database: str | None = None

    def describe(self) -> str:
        known = [f"config {self.config}"] if self.config else []
        known += [f"database {self.database}"] if self.database else []
        return f" [{'; '.join(known)}]" if known else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_usage(parser, args)
    _configure_logging(args)
    context = _Context()
    try:
        code = _dispatch(parser, args, context)
        sys.stdout.flush()
    except BrokenPipeError:
        return _pipe_closed()
    except HarvesterError as exc:
        return _failed(exc, exc.exit_code, context, args.verbose)
    except KeyboardInterrupt:
        print("harvest: interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except Exception as exc:  # the last resort: one line and exit 70, never a traceback
        return _failed(exc, exits.INTERNAL, context, args.verbose, internal=True)
    return code


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Options that make no sense together are a usage error (exit 2)."""
    if args.once and args.command:
        parser.error(f"--once is a command of its own: drop it, or drop {args.command}")
    if args.full and not args.once:
        parser.error("--full goes with --once")
    if args.only and not args.once:
        parser.error("--only goes with --once")
    if args.quiet and args.verbose:
        parser.error("-q and -v contradict each other: choose one")
    if args.command == "demo" and args.config is not None:
        parser.error("demo uses a configuration of its own: drop --config")
    if args.command == "authors":
        _check_authors_usage(parser, args)


def _check_authors_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.purge and (args.dry_run or args.yes):
        parser.error("--dry-run and --yes go with --purge")
    if args.purge and args.json:
        parser.error("--json lists the authors: drop it with --purge")


def _failed(
    exc: BaseException, code: int, context: _Context, verbose: bool, *, internal: bool = False
) -> int:
    logger.debug("failure", exc_info=exc)
    where = "" if isinstance(exc, ConfigError) else context.describe()
    if internal:
        hint = "" if verbose else " (run with -v for the traceback)"
        message = f"internal error: {type(exc).__name__}: {exc}{hint}"
    else:
        message = f"error: {exc}"
    print(f"harvest: {_one_line(message)}{where}", file=sys.stderr)
    return code


def _pipe_closed() -> int:
    """The reader went away (``| head``): stop writing, quietly, as a killed writer would."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return exits.PIPE_CLOSED


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace, context: _Context) -> int:
    if args.command == "demo":
        return run_demo(quiet=args.quiet, identity=args.identity, keep=args.keep)
    if args.command == "daemon":
        return run_daemon(args, context)
    if args.command is None and not args.once:
        parser.print_usage(sys.stderr)
        print(f"harvest: error: say what to do: {COMMANDS}", file=sys.stderr)
        return exits.USAGE
    settings = _settings(args, context)
    if args.command == "status":
        return show_status(settings, as_json=args.json, quiet=args.quiet)
    if args.command == "authors":
        return purge_authors(settings, args) if args.purge else list_authors(settings, args)
    if args.command in ("profile", "history", "export"):
        return show_profile(settings, args)
    if args.command == "review":
        return review_papers(settings, args)
    if args.command == "db":
        return upgrade_database(settings, quiet=args.quiet)
    if args.command == "refresh":
        return refresh_derived(settings, everything=args.everything, quiet=args.quiet)
    return run_once(settings, quiet=args.quiet, full=args.full, only=args.only)


def _settings(args: argparse.Namespace, context: _Context) -> Settings:
    """Load the settings; ``[logging] level`` applies unless -v or -q was given."""
    from .settings import load_settings, locate_config

    context.config = locate_config(args.config, os.environ, Path.cwd())
    settings = load_settings(context.config, os.environ)
    context.database = _masked(settings.database.url)
    if not (args.verbose or args.quiet):
        logging.getLogger().setLevel(settings.logging.level)
    return settings


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class _opened:
    """``with _opened(settings) as store``: a Store closed on the way out."""

    def __init__(self, settings: Settings) -> None:
        from .store import Store

        self.store = Store.open(settings.database.url)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def upgrade_database(settings: Settings, *, quiet: bool = False) -> int:
    """``harvest db upgrade``: create or upgrade the schema."""
    with _opened(settings) as store:
        store.upgrade()
        repaired = store.repair()
    for line in repaired:
        print(f"repaired: {line}")  # said even with -q: the database was not as it should be
    _say(f"schema is up to date in {_masked(settings.database.url)}", quiet=quiet)
    return exits.OK


def refresh_derived(settings: Settings, *, everything: bool = False, quiet: bool = False) -> int:
    """``harvest refresh [--all]``: what runs after a cycle, on demand; a failure is the
    command's (one line, its exit code), not only a logged error."""
    from .profile import refresh_similar_authors, write_site

    site = settings.output.html_dir
    with _opened(settings) as store:
        store.upgrade()
        stored = refresh_similar_authors(store, everything=everything)
        written = write_site(store, site) if site is not None else []
    if everything:
        _say("similar authors recomputed for every profile, with a newly fitted model", quiet=quiet)
    else:
        _say("similar authors updated" if stored else "similar authors are current", quiet=quiet)
    if site is not None:
        files = f"{len(written)} file{'' if len(written) == 1 else 's'}"
        _say(f"site: {files} rewritten in {site}", quiet=quiet)
    return exits.OK


def run_once(
    settings: Settings, *, quiet: bool = False, full: bool = False, only: Sequence[str] = ()
) -> int:
    """``harvest --once [--full] [--only KEY...]``: migrate, harvest every author (or
    those ``only`` names), print a line each.

    When arXiv could not be reached at all and nobody was harvested, that is the one
    thing to say: one error line (exit 75) instead of a line per author."""
    from .harvest import CycleOptions, harvest_once
    from .progress import LinePrinter, terminal_progress

    _check_only(settings, only)
    chosen = [a.key for a in settings.authors if not only or a.key in only]
    bar = terminal_progress(settings.arxiv.delay_seconds, quiet=quiet)
    printer = LinePrinter(max(map(len, chosen), default=0), quiet=quiet, inner=bar)
    options = CycleOptions(full=full, only=frozenset(only))
    with _opened(settings) as store:
        store.upgrade()
        report = harvest_once(settings, store, options, progress=printer)
    printer.finish(report)
    if report.unreachable and report.harvested_none:
        raise report.unreachable
    return report.exit_code


def _check_only(settings: Settings, only: Sequence[str]) -> None:
    """Every key ``--only`` names must be a configured author's."""
    from .errors import RequestRefusedError

    configured = [a.key for a in settings.authors]
    unknown = [key for key in dict.fromkeys(only) if key not in configured]
    if unknown:
        more = " ..." if len(configured) > 10 else ""
        raise RequestRefusedError(
            f"--only {' '.join(unknown)}: no such author in the config",
            hint=f"configured: {', '.join(configured[:10])}{more}",
        )


def run_daemon(args: argparse.Namespace, context: _Context) -> int:
    """``harvest daemon``: serve until SIGTERM; SIGHUP re-reads the same file."""
    from .daemon import Daemon
    from .progress import terminal_progress
    from .settings import load_settings

    settings = _settings(args, context)
    path = context.config
    assert path is not None
    level_fixed = args.verbose or args.quiet

    def apply_level(settings: Settings) -> None:
        if not level_fixed:
            logging.getLogger().setLevel(settings.logging.level)
            _show_daemon_lines(settings.logging.level)

    apply_level(settings)
    watched = args.run_now and terminal_progress(settings.arxiv.delay_seconds, quiet=args.quiet)
    daemon = Daemon(
        settings,
        load=lambda: load_settings(path, os.environ),
        on_reload=apply_level,
        run_now=args.run_now,
        first_progress=watched or None,
    )
    return daemon.run()


def _show_daemon_lines(level: str) -> None:
    """The daemon's own INFO lines (started, each author, each cycle, reloaded, stopped) are
    shown whatever ``[logging] level`` says, so that a daemon run by hand never looks hung
    and the journal holds every cycle; ``-q`` hides them, ``-v`` shows more."""
    configured = logging.getLevelNamesMapping()[level]
    logging.getLogger("harvester.daemon").setLevel(min(configured, logging.INFO))


def show_status(settings: Settings, *, as_json: bool = False, quiet: bool = False) -> int:
    """``harvest status``: health per author, read-only; exit 1 if any is stale or failing."""
    from datetime import UTC, datetime

    from .status import collect_status
    from .store.reader import reader_if_exists

    engine = reader_if_exists(settings.database.url)
    try:
        report = collect_status(engine, settings, datetime.now(UTC))
    finally:
        if engine is not None:
            engine.dispose()
    _say(report.to_json() if as_json else report.render(), quiet=quiet and report.healthy)
    return report.exit_code


def list_authors(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest authors [--json]``: the configured authors, then the profiles the
    database holds that the config no longer names; read-only."""
    from .tracked import authors_json, render_authors, tracked_authors

    with _schema_checked(settings) as store:
        rows = tracked_authors(settings.authors, store.stored_authors())
    if not args.quiet:
        sys.stdout.write(authors_json(rows) if args.json else render_authors(rows))
    return exits.OK


def purge_authors(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest authors --purge KEY... [--dry-run] [--yes]``: remove profiles the config
    no longer names, in one transaction, after a confirmation."""
    from .tracked import check_purge, render_purge

    keys = list(dict.fromkeys(args.purge))
    with _schema_checked(settings, write=True) as store:
        check_purge(keys, settings.authors, store.stored_authors())
        if not (args.dry_run or args.yes):
            _confirm_purge(keys)
        purged = store.purge_authors(keys, dry_run=args.dry_run)
    _say(render_purge(purged, dry_run=args.dry_run).rstrip("\n"), quiet=args.quiet)
    return exits.OK


def _confirm_purge(keys: list[str]) -> None:
    """On a terminal, the keys typed back; anywhere else, a refusal that says --yes."""
    from .errors import RequestRefusedError

    if not sys.stdin.isatty():
        raise RequestRefusedError(
            f"purging {' '.join(keys)} needs a confirmation and stdin is not a terminal",
            hint="pass --yes to purge without asking; --dry-run shows what would go",
        )
    wanted = " ".join(keys)
    typed = input(f"This removes everything stored for {wanted}. Type {wanted!r} to go on: ")
    if typed.strip() != wanted:
        raise RequestRefusedError("not confirmed: nothing was removed")


def show_profile(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest profile|history|export KEY``: read-only, from the views."""
    from .profile import export_profile, load_history, load_profile, render, render_history

    with _schema_checked(settings) as store:
        if args.command == "profile":
            output = render(load_profile(store, args.key), args.format)
        elif args.command == "history":
            output = render_history(load_history(store, args.key, args.since))
        else:
            output = export_profile(store, args.key, args.format)
    sys.stdout.write(output)  # what was asked for: -q silences chatter, never this
    return exits.OK


@contextmanager
def _schema_checked(settings: Settings, *, write: bool = False) -> Iterator[Store]:
    """A store on a read-only engine (``write``: a writing one), refused unless its schema
    is the newest: these commands never migrate (a reader may have a read-only role)."""
    from .profile import check_schema
    from .store import Store
    from .store.reader import open_reader

    url = settings.database.url
    store = Store.open(url) if write else Store(open_reader(url))
    try:
        check_schema(store)
        yield store
    finally:
        store.close()


def review_papers(settings: Settings, args: argparse.Namespace) -> int:
    """``harvest review KEY [--json] [--accept ID...] [--reject ID...] [--accept-above
    SCORE] [--accept-from FILE] [--reject-from FILE]``: listing only reads; a decision is
    written (the schema is never migrated here)."""
    from .review import queue_json, render_queue, review_queue, waiting

    accept = [*args.accept, *_ids_from(args.accept_from)]
    reject = [*args.reject, *_ids_from(args.reject_from)]
    deciding = bool(accept or reject) or args.accept_above is not None
    with _schema_checked(settings, write=deciding) as store:
        if deciding:
            output = _decide(store, settings, args, accept, reject)
        else:
            held, pending = review_queue(store.engine, args.key), waiting(store.engine, args.key)
            render = queue_json if args.json else render_queue
            output = render(args.key, held, pending)
    if not (args.quiet and deciding):  # -q silences a confirmation, never the list asked for
        sys.stdout.write(output)
    return exits.OK


def _ids_from(path: str | None) -> list[str]:
    """The ids of ``--accept-from``/``--reject-from`` (``-``: stdin)."""
    from .errors import ReviewInputError
    from .review import read_ids

    if path is None:
        return []
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

    from .identity import Matcher
    from .review import decide, held_above, review_queue

    above: list[str] = []
    if args.accept_above is not None:
        above = held_above(review_queue(store.engine, args.key), args.accept_above)
    matcher = next(
        (
            Matcher.for_profile(a.key, a.name, a.aliases, a.include_ids, a.exclude_ids)
            for a in settings.authors
            if a.key == args.key
        ),
        None,
    )
    every = [*accept, *(i for i in above if i not in accept)]
    decided = decide(store.engine, args.key, every, reject, datetime.now(UTC), matcher)
    listed = [i for i in decided if i not in above or i in accept]
    lines = [f"{args.key}: {i} {decided[i]}" for i in listed]
    if args.accept_above is not None:
        count = f"{len(above)} held paper{'' if len(above) == 1 else 's'}"
        lines.append(f"{args.key}: {count} scored at least {args.accept_above:g} accepted")
    return "\n".join([*lines, "applied at the next harvest"]) + "\n"


def run_demo(*, quiet: bool = False, identity: bool = False, keep: Path | None = None) -> int:
    """``harvest demo [--identity] [--keep DIR]``: the whole pipeline against the look-alike,
    offline; the look-alike runs as a child process (the product never imports it)."""
    from .demo import demo_folder, demo_stages, lookalike

    code = exits.OK
    with demo_folder(keep) as folder, lookalike(*(["--namesakes"] if identity else [])) as url:
        for stage in demo_stages(url, folder, identity=identity, kept=keep is not None):
            if stage.heading:
                _say(stage.heading + ":", quiet=quiet)
            code = run_once(stage.settings, quiet=quiet) or code
            with _opened(stage.settings) as store:
                _say(stage.report(store), quiet=quiet and code == exits.OK)
    return code


def _say(text: str, *, quiet: bool) -> None:
    if not quiet:
        print(text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    journal = under_systemd(os.environ)
    handler.setFormatter(OneLineFormatter(journal=journal, timestamps=args.command == "daemon"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "setup plugin ..." is noise
    if args.verbose:  # but -v shows which migrations ran
        logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
