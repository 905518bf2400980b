"""``harvest``: a thin command line over the library.

Parses arguments, loads the settings, calls one library function, and turns every failure
into one line on stderr and an exit code (:mod:`harvester.exits`; ``-v`` adds the
traceback). Options common to every command (``--config``, ``-v``, ``-q``) mean the same
before or after the command name. ``-q`` silences chatter (progress, log lines below
ERROR, what a command that changes things says on success; ``status`` speaks only when
unhealthy), never the output asked for (``profile``, ``history``, ``export``, the ``review``
list). A reader that closes the pipe early (``| head``) ends the command quietly; a standard
stream closed at start (``2>&-``) is ``/dev/null`` (:mod:`.streams`). Modules a
command does not need are imported only when it runs, so ``--help`` and ``--version``
start at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from .. import exits
from ..errors import ConfigError, HarvesterError
from ..logformat import OneLineFormatter, under_systemd
from .context import Context, one_line
from .parser import COMMANDS, build_parser
from .streams import reopen_closed_streams

logger = logging.getLogger("harvester")


def main(argv: Sequence[str] | None = None) -> int:
    reopen_closed_streams()  # before anything may print, log or open a file
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_usage(parser, args)
    _configure_logging(args)
    context = Context(args)
    try:
        command: Callable[[Context], int] = args.func
        code = command(context)
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
    if args.command is None and not args.once:
        parser.error(f"say what to do: {COMMANDS}")


def _check_authors_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.purge and (args.dry_run or args.yes):
        parser.error("--dry-run and --yes go with --purge")
    if args.purge and args.json:
        parser.error("--json lists the authors: drop it with --purge")


def _failed(
    exc: BaseException, code: int, context: Context, verbose: bool, *, internal: bool = False
) -> int:
    logger.debug("failure", exc_info=exc)
    where = "" if isinstance(exc, ConfigError) else context.describe()
    if internal:
        hint = "" if verbose else " (run with -v for the traceback)"
        message = f"internal error: {type(exc).__name__}: {exc}{hint}"
    else:
        message = f"error: {exc}"
    print(f"harvest: {one_line(message)}{where}", file=sys.stderr)
    return code


def _pipe_closed() -> int:
    """The reader went away (``| head``): stop writing, quietly, as a killed writer would."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return exits.PIPE_CLOSED


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
    # psycopg warns "error ignored terminating <Pipeline [INERROR]>" after the very failure
    # the command reports in one line: a second line about the same error, not news
    logging.getLogger("psycopg").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    if args.verbose:  # but -v shows which migrations ran
        logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
