"""``python -m arxiv_lookalike [--corpus FILE] [--port N] [--host H] [--legacy]``.

Serves the corpus (default: the shipped seed corpus), prints the query URL on stdout and
runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading

from arxiv_lookalike.corpus import Corpus, CorpusError, seed_corpus
from arxiv_lookalike.server import LookalikeServer


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m arxiv_lookalike",
        description="Serve a JSON corpus like the arXiv query API, on real HTTP.",
    )
    parser.add_argument("--corpus", help="corpus JSON file (default: the seed corpus)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--legacy", action="store_true", help="answer in the legacy format")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        corpus = Corpus.load(args.corpus) if args.corpus else seed_corpus()
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    with LookalikeServer(corpus, args.host, args.port, legacy=args.legacy) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
