"""``python -m arxiv_lookalike [--corpus FILE | --namesakes [--seed N]] [--port N] [--host H]
[--legacy] [--stop-on-eof]``.

Serves the corpus (default: the shipped seed corpus; ``--namesakes``: the five "Wei Zhang"s
of :mod:`arxiv_lookalike.namesakes`), prints the query URL on stdout and runs until Ctrl-C,
or with ``--stop-on-eof`` until its standard input closes: a parent that starts it with a
pipe there (``harvest demo``) leaves no server behind, however it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading

from arxiv_lookalike.corpus import Corpus, CorpusError, seed_corpus
from arxiv_lookalike.namesakes import CLAIMANTS, namesake_corpus, namesake_records
from arxiv_lookalike.server import LookalikeServer


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m arxiv_lookalike",
        description="Serve a JSON corpus like the arXiv query API, on real HTTP.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--corpus", help="corpus JSON file (default: the seed corpus)")
    source.add_argument(
        "--namesakes",
        action="store_true",
        help=f"five people all written 'Wei Zhang'; the tracked one's feed is"
        f" /a/{CLAIMANTS[0]}.atom2 (and /a/{CLAIMANTS[1]}.atom2)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="with --namesakes: the corpus's seed (0)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--legacy", action="store_true", help="answer in the legacy format")
    parser.add_argument(
        "--stop-on-eof", action="store_true", help="stop when standard input closes"
    )
    return parser.parse_args(argv)


def _corpus(args: argparse.Namespace) -> Corpus:
    if args.namesakes:
        return Corpus.from_dicts(namesake_records(namesake_corpus(args.seed), CLAIMANTS))
    return Corpus.load(args.corpus) if args.corpus else seed_corpus()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        corpus = _corpus(args)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    server = LookalikeServer(corpus, args.host, args.port, legacy=args.legacy)
    with server, contextlib.suppress(KeyboardInterrupt):
        print(server.url, flush=True)
        _serve_until_stopped(stop_on_eof=args.stop_on_eof)
    return 0


def _serve_until_stopped(*, stop_on_eof: bool) -> None:
    """Return at end of input (``--stop-on-eof``); Ctrl-C raises KeyboardInterrupt.

    The main thread waits in short steps, not in one untimed wait or read: the kernel may
    hand SIGINT to a server thread, and Python then raises it in the main thread only when
    that thread next runs, which an untimed wait never does."""
    ended = threading.Event()

    def read_to_the_end() -> None:
        sys.stdin.buffer.read()
        ended.set()

    if stop_on_eof:
        threading.Thread(target=read_to_the_end, daemon=True).start()
    while not ended.wait(0.5):
        pass


if __name__ == "__main__":
    sys.exit(main())
