"""Progress on long work: ``harvest --once`` on a terminal shows authors done, requests and
the time left once a cycle lasts a few seconds; a pipe or ``-q`` shows nothing.

The terminal is a real pseudo-terminal: the command runs as a subprocess whose stderr is
its slave side, sized like a window, and the test reads what a person would see.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from arxiv_lookalike import LookalikeServer

from .support import SEED_AUTHOR, run_cli, write_config

NAMES = ["Depen Morwani", "Hanlin Zhang", "Surbhi Goel", "Eran Malach", "Nikhil Vyas"]
AUTHORS = [SEED_AUTHOR] + [{"key": f"a{i}", "name": name} for i, name in enumerate(NAMES)]
# a query per author, 0.8 s apart: about 5 s, past the 3 s before anything is shown
SLOW = {"arxiv": {"delay_seconds": 0.8}, "harvest": {"group_query_chars": 0}}
BAR = re.compile(r"harvest (\d)/6 authors \[\d\d:\d\d, (\d+) requests?, ~\d+ s left\]")


def on_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """``harvest ARGS`` with a 100-column pseudo-terminal as stdin, stdout and stderr."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "INVOCATION_ID")}
    harvest = str(Path(sys.executable).with_name("harvest"))
    process = subprocess.Popen(
        [harvest, *args], cwd=cwd, env=env, stdin=secondary, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the other side closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    return process.wait(timeout=60), seen.decode("utf-8", "replace")


def test_a_long_cycle_on_a_terminal_shows_its_progress(
    server: LookalikeServer, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'h.db'}", server.url, authors=AUTHORS, **SLOW
    )
    code, screen = on_terminal("--once", "--config", str(config), cwd=tmp_path)
    assert code == 0, screen
    bars = [(int(done), int(requests)) for done, requests in BAR.findall(screen)]
    assert bars, screen
    assert bars[0][0] < 6 and bars[-1] == (6, 6)  # shown while running, to the end
    assert "kakade  76 papers" in screen and "\x1b" not in screen.split("kakade")[1]

    quiet_code, quiet_screen = on_terminal("-q", "--once", "--config", str(config), cwd=tmp_path)
    assert (quiet_code, quiet_screen) == (0, "")


def test_a_pipe_gets_no_progress(server: LookalikeServer, tmp_path: Path) -> None:
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'h.db'}", server.url, authors=AUTHORS, **SLOW
    )
    result = run_cli("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "authors [" not in result.stderr and "\r" not in result.stderr + result.stdout
    assert len(result.stdout.splitlines()) == 6
