"""The commands that harvest or change the database: ``--once``, ``daemon``, ``refresh``,
``db upgrade``, ``import``, ``status`` and ``demo``. Each takes the run's :class:`~.context.Context`
and returns the exit code; what it needs is imported when it runs."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from .. import exits
from .context import Context, masked, opened, say, schema_checked

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store


def upgrade_database(settings: Settings, *, quiet: bool = False) -> int:
    """``harvest db upgrade``: create or upgrade the schema."""
    with opened(settings) as store:
        repaired = store.upgrade_and_repair()
    for line in repaired:
        print(f"repaired: {line}")  # said even with -q: the database was not as it should be
    say(f"schema is up to date in {masked(settings.database.url)}", quiet=quiet)
    return exits.OK


def refresh_derived(settings: Settings, *, everything: bool = False, quiet: bool = False) -> int:
    """``harvest refresh [--all]``: what runs after a cycle, on demand; a failure is the
    command's (one line, its exit code), not only a logged error."""
    from ..profile import refresh_similar_authors, write_site_recomputing

    site = settings.output.html_dir
    with opened(settings) as store:
        store.upgrade()
        stored = refresh_similar_authors(store, everything=everything)
        written = write_site_recomputing(store, site) if site is not None else []
    if everything:
        say("similar authors recomputed for every profile, with a newly fitted model", quiet=quiet)
    else:
        say("similar authors updated" if stored else "similar authors are current", quiet=quiet)
    if site is not None:
        files = f"{len(written)} file{'' if len(written) == 1 else 's'}"
        say(f"site: {files} rewritten in {site}", quiet=quiet)
    return exits.OK


def run_once(
    settings: Settings, *, quiet: bool = False, full: bool = False, only: Sequence[str] = ()
) -> int:
    """``harvest --once [--full] [--only KEY...]``: migrate, harvest every author (or
    those ``only`` names), print a line each.

    When arXiv could not be reached at all and nobody was harvested, that is the one
    thing to say: one error line (exit 75) instead of a line per author. SIGTERM stops
    the run (:mod:`.stopping`): the authors it reached are ``stopped``, their leases
    released, and the exit code is 143 whatever was harvested before."""
    from ..cycle import CycleOptions, harvest_once
    from .progress import LinePrinter, terminal_progress
    from .stopping import SigtermStop

    _check_only(settings, only)
    _check_targets(settings)
    chosen = [a.key for a in settings.authors if not only or a.key in only]
    bar = terminal_progress(settings.arxiv.delay_seconds, quiet=quiet)
    printer = LinePrinter(max(map(len, chosen), default=0), quiet=quiet, inner=bar)
    options = CycleOptions(full=full, only=frozenset(only))
    with opened(settings) as store, SigtermStop(lambda: _leave(store)) as stop:
        store.upgrade()
        report = harvest_once(settings, store, options, stop=stop.event, progress=printer)
    printer.finish(report)
    if stop.requested:
        return _stopped()
    if report.unreachable and report.harvested_none:
        raise report.unreachable
    return report.exit_code


def notify_targets(settings: Settings, *, test: bool, quiet: bool = False) -> int:
    """``harvest notify --test|--preview``: a test message to each target (exit 75 unless
    every one took it), or what the next delivery would send (read only)."""
    from datetime import UTC, datetime

    from ..alerts import preview, send_test
    from ..errors import RequestRefusedError

    if not settings.notify:
        raise RequestRefusedError(
            "no notification targets in the config", hint="add a [[notify]] table with a url"
        )
    if not test:
        with schema_checked(settings) as store:
            print(preview(settings, store, datetime.now(UTC)))
        return exits.OK
    outcomes = send_test(settings)
    for outcome in outcomes:
        line = outcome.error or f"notify target {outcome.target}: delivered"
        say(line, quiet=quiet and outcome.error is None)
    return exits.OK if all(o.error is None for o in outcomes) else exits.TEMPORARY


def _check_targets(settings: Settings) -> None:
    """A notification URL of a service apprise does not know is a configuration error,
    said before anything is harvested (exit 2)."""
    if settings.notify:
        from ..alerts import open_services

        open_services(settings)


def _stopped(detail: str = "") -> int:
    print(f"harvest: stopped by SIGTERM{detail}", file=sys.stderr, flush=True)
    return exits.TERMINATED


def _leave(store: Store) -> NoReturn:
    """SIGTERM, and the run did not end within the grace (a request still in flight, or
    the work after the harvest): close this process's runs as ``stopped``, release its
    leases, exit at once."""
    try:
        _stopped(_close_runs(store))
        logging.shutdown()
        sys.stdout.flush()
    finally:  # whatever happened above, the process ends here
        os._exit(exits.TERMINATED)


def _close_runs(store: Store) -> str:
    """Close this process's runs still ``running`` as ``stopped``; what to say about it."""
    from ..cycle import utcnow
    from ..errors import HarvesterError
    from .stopping import STOP_GRACE_SECONDS

    late = f"did not end within {STOP_GRACE_SECONDS:g} s"
    try:
        keys = store.leases().abandon(utcnow(), "stopped: SIGTERM during a request")
    except HarvesterError as exc:  # leaving anyway: the leases expire on their own
        return f": the run {late}; could not close the runs in flight: {exc}"
    if not keys:
        return f": the run {late}"
    return f" during a request, which {late}: closed the runs of {', '.join(keys)} as stopped"


def _check_only(settings: Settings, only: Sequence[str]) -> None:
    """Every key ``--only`` names must be a configured author's."""
    from ..errors import RequestRefusedError

    configured = [a.key for a in settings.authors]
    unknown = [key for key in dict.fromkeys(only) if key not in configured]
    if unknown:
        more = " ..." if len(configured) > 10 else ""
        raise RequestRefusedError(
            f"--only {' '.join(unknown)}: no such author in the config",
            hint=f"configured: {', '.join(configured[:10])}{more}",
        )


def daemon(context: Context) -> int:
    """``harvest daemon``: serve until SIGTERM; SIGHUP re-reads the same file."""
    from ..config import load_settings
    from ..daemon import Daemon
    from .progress import terminal_progress

    args = context.args
    settings = context.settings()
    path = context.config
    assert path is not None
    level_fixed = args.verbose or args.quiet

    def apply_level(settings: Settings) -> None:
        if not level_fixed:
            logging.getLogger().setLevel(settings.logging.level)
            _show_daemon_lines(settings.logging.level)

    apply_level(settings)
    _check_targets(settings)
    watched = args.run_now and terminal_progress(settings.arxiv.delay_seconds, quiet=args.quiet)
    service = Daemon(
        settings,
        load=lambda: load_settings(path, os.environ),
        on_reload=apply_level,
        run_now=args.run_now,
        first_progress=watched or None,
    )
    return service.run()


def _show_daemon_lines(level: str) -> None:
    """The daemon's own INFO lines (started, each author, each cycle, reloaded, stopped) are
    shown whatever ``[logging] level`` says, so that a daemon run by hand never looks hung
    and the journal holds every cycle; ``-q`` hides them, ``-v`` shows more."""
    configured = logging.getLevelNamesMapping()[level]
    logging.getLogger("harvester.daemon").setLevel(min(configured, logging.INFO))


def show_status(settings: Settings, *, as_json: bool = False, quiet: bool = False) -> int:
    """``harvest status``: health per author, read-only; exit 1 if any is stale or failing."""
    from datetime import UTC, datetime

    from ..status import collect_status
    from ..store import Store

    store = Store.reader_if_exists(settings.database.url)
    try:
        report = collect_status(store, settings, datetime.now(UTC))
    finally:
        if store is not None:
            store.close()
    say(report.to_json() if as_json else report.render(), quiet=quiet and report.healthy)
    return report.exit_code


def run_demo(*, quiet: bool = False, identity: bool = False, keep: Path | None = None) -> int:
    """``harvest demo [--identity] [--keep DIR]``: the whole pipeline against the look-alike,
    offline; the look-alike runs as a child process (the product never imports it)."""
    from ..demo import demo_folder, demo_stages, lookalike

    code = exits.OK
    with demo_folder(keep) as folder, lookalike(*(["--namesakes"] if identity else [])) as url:
        for stage in demo_stages(url, folder, identity=identity, kept=keep is not None):
            if stage.heading:
                say(stage.heading + ":", quiet=quiet)
            code = run_once(stage.settings, quiet=quiet) or code
            if code == exits.TERMINATED:
                return code
            with opened(stage.settings) as store:
                say(stage.report(store), quiet=quiet and code == exits.OK)
    return code


# -- one function per command (``set_defaults(func=...)`` in :mod:`.parser`) --------------


def once(context: Context) -> int:
    """``harvest --once [--full] [--only KEY...]``."""
    args = context.args
    return run_once(context.settings(), quiet=args.quiet, full=args.full, only=args.only)


def status(context: Context) -> int:
    """``harvest status [--json]``."""
    args = context.args
    return show_status(context.settings(), as_json=args.json, quiet=args.quiet)


def refresh(context: Context) -> int:
    """``harvest refresh [--all]``."""
    args = context.args
    return refresh_derived(context.settings(), everything=args.everything, quiet=args.quiet)


def db_upgrade(context: Context) -> int:
    """``harvest db upgrade``."""
    return upgrade_database(context.settings(), quiet=context.args.quiet)


def import_file(context: Context) -> int:
    """``harvest import FILE [--no-match]``."""
    args = context.args
    return import_snapshot_file(
        context.settings(), args.file, match=not args.no_match, quiet=args.quiet
    )


def import_snapshot_file(
    settings: Settings, path: Path, *, match: bool = True, quiet: bool = False
) -> int:
    """Store the snapshot's papers (a line per batch stored), start the OAI-PMH windows at
    its newest update, then match the stored papers against the tracked authors (a line
    each, as ``--once`` prints)."""
    from ..cycle import CycleProgress, import_snapshot, match_stored, open_source

    with opened(settings) as store:
        store.upgrade()
        report = import_snapshot(
            settings, store, path, on_batch=lambda r: say(f"{r.records} papers stored", quiet=quiet)
        )
        say(report.line(), quiet=quiet)
        if not match:
            store.analyze()
            return exits.OK
        source = open_source(settings, store)
        try:
            cycle = match_stored(settings, store, source, progress=CycleProgress())
        finally:
            source.close()
        store.analyze()
    for line in cycle.authors:
        say(line.line(), quiet=quiet)
    return cycle.exit_code


def demo(context: Context) -> int:
    """``harvest demo [--identity] [--keep DIR]``."""
    args = context.args
    return run_demo(quiet=args.quiet, identity=args.identity, keep=args.keep)


def notify(context: Context) -> int:
    """``harvest notify --test|--preview``."""
    args = context.args
    return notify_targets(context.settings(), test=args.test, quiet=args.quiet)
