"""The systemd units, checked offline by systemd-analyze in a root staged by install-systemd."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.cli.parser import build_parser

from .support import REPO

UNITS = REPO / "systemd"
SERVICES = ("arxiv-harvester.service", "arxiv-harvester-once.service")
ALL_UNITS = (*SERVICES, "arxiv-harvester-once.timer")
ANALYZE = shutil.which("systemd-analyze")
SECURITY_THRESHOLD = 20
"""``--threshold`` is the exposure times ten: 20 means 2.0, well inside "OK" (1.0-4.9)."""
GOOD_LEVELS = ("PERFECT", "SAFE", "OK")

NO_INSTALL = os.environ.get("NO_INSTALL") == "1"
if ANALYZE is None and os.environ.get("CI") == "true" and not NO_INSTALL:
    pytest.fail("systemd-analyze is missing in CI (scripts/ensure-systemd-analyze)")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze is not installed"
    + (" (NO_INSTALL=1: make test installed nothing)" if NO_INSTALL else ""),
)


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False)


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / "install-systemd"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_install_systemd_prints_a_usage_not_its_own_source() -> None:
    helped = install("--help")
    assert (helped.returncode, helped.stderr) == (0, "")
    assert helped.stdout.startswith("usage: install-systemd [--enable daemon|timer]")
    for option in ("--enable", "--prefix", "--python", "--root", "--dry-run"):
        assert f"\n  {option} " in helped.stdout, option
    assert "set -euo" not in helped.stdout and "NAME=" not in helped.stdout
    wrong = install("--bogus")
    assert (wrong.returncode, wrong.stdout) == (64, "")
    assert wrong.stderr.startswith("install-systemd: unknown option --bogus\nusage: ")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A root as install-systemd leaves it, plus systemd's own units and the binaries."""
    root = tmp_path_factory.mktemp("root")
    result = install("--root", str(root))
    assert result.returncode == 0, result.stderr
    system_units = next(
        p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()
    )
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    harvest = root / "opt/arxiv-harvester/bin/harvest"  # the virtualenv is not staged
    harvest.parent.mkdir(parents=True)
    harvest.write_text("#!/bin/sh\n")
    harvest.chmod(0o755)
    (root / "bin").mkdir()
    shutil.copy(shutil.which("kill") or "/bin/kill", root / "bin/kill")
    yield root


def unit_text(name: str) -> str:
    return (UNITS / name).read_text(encoding="utf-8")


def settings_of(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit_text(name).splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_install_stages_the_units_and_the_config(root: Path) -> None:
    for unit in ALL_UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == unit_text(unit)
    config = (root / "etc/arxiv-harvester/harvester.toml").read_text()
    assert 'url = "sqlite:////var/lib/arxiv-harvester/harvester.db"' in config
    assert oct((root / "etc/arxiv-harvester/harvester.toml").stat().st_mode & 0o777) == "0o640"


@needs_analyze
def test_systemd_analyze_verify_finds_no_error(root: Path) -> None:
    result = analyze("verify", "--recursive-errors=yes", f"--root={root}", *ALL_UNITS)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@needs_analyze
def test_the_site_drop_in_verifies_and_opens_the_site_to_a_web_server(root: Path) -> None:
    """systemd/site.conf.example, installed as the README says, for both services."""
    drop_in = (UNITS / "site.conf.example").read_text(encoding="utf-8")
    found = [line for line in drop_in.splitlines() if line and not line.startswith("#")]
    assert found == ["[Service]", "ReadWritePaths=/srv/www/arxiv", "UMask=0022"]
    for unit in SERVICES:
        directory = root / "etc/systemd/system" / f"{unit}.d"
        directory.mkdir(exist_ok=True)
        (directory / "site.conf").write_text(drop_in, encoding="utf-8")
    try:
        result = analyze("verify", "--recursive-errors=yes", f"--root={root}", *SERVICES)
        broken = drop_in.replace("ReadWritePaths=", "ReadWritePath=")
        (root / "etc/systemd/system" / f"{SERVICES[0]}.d" / "site.conf").write_text(broken)
        mistake = analyze("verify", "--recursive-errors=yes", f"--root={root}", SERVICES[0])
    finally:
        for unit in SERVICES:
            shutil.rmtree(root / "etc/systemd/system" / f"{unit}.d")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert mistake.returncode != 0 and "Unknown key 'ReadWritePath'" in mistake.stderr


@needs_analyze
def test_verify_would_catch_a_mistake(root: Path) -> None:
    """The check is not toothless: an unknown key fails it."""
    broken = root / "etc/systemd/system/broken.service"
    broken.write_text(unit_text("arxiv-harvester.service").replace("UMask=", "UMsak="))
    try:
        result = analyze("verify", "--recursive-errors=yes", f"--root={root}", "broken.service")
    finally:
        broken.unlink()
    assert result.returncode != 0
    assert "Unknown key 'UMsak'" in result.stderr


@needs_analyze
@pytest.mark.parametrize("unit", SERVICES)
def test_systemd_analyze_security_rates_the_services_ok(root: Path, unit: str) -> None:
    result = analyze("security", "--offline=yes", f"--root={root}", unit)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    print(f"{unit}: exposure {match.group(1)} {match.group(2)}")
    assert match.group(2) in GOOD_LEVELS
    threshold = analyze(
        "security", "--offline=yes", f"--root={root}", f"--threshold={SECURITY_THRESHOLD}", unit
    )
    assert threshold.returncode == 0, threshold.stdout[-500:]


def test_the_services_keep_the_promises_of_the_readme() -> None:
    daemon = settings_of("arxiv-harvester.service")
    assert daemon["Type"] == ["notify"]
    assert "2" in daemon["RestartPreventExitStatus"][0].split()  # a config error: no loop
    assert daemon["Restart"] == ["on-failure"]
    assert daemon["WatchdogSec"]
    once = settings_of("arxiv-harvester-once.service")
    assert once["SuccessExitStatus"] == ["75"]
    for unit in (daemon, once):
        assert unit["User"] == ["arxiv-harvester"]
        assert unit["StateDirectory"] == ["arxiv-harvester"]
        assert unit["StateDirectoryMode"] == ["0750"]  # the group reads the database
        assert unit["UMask"] == ["0027"]
    timer = settings_of("arxiv-harvester-once.timer")
    assert timer["Persistent"] == ["true"]
    assert timer["OnCalendar"] == ["*-*-* 01:30:00 UTC"]


@pytest.mark.parametrize("unit", SERVICES)
def test_the_exec_start_command_lines_parse(unit: str) -> None:
    [exec_start] = settings_of(unit)["ExecStart"]
    program, *argv = shlex.split(exec_start)
    assert program == "/opt/arxiv-harvester/bin/harvest"
    args = build_parser().parse_args(argv)
    assert args.config == "/etc/arxiv-harvester/harvester.toml"
    assert args.command == "daemon" or (args.once and args.quiet)


def test_install_dry_run_changes_nothing_and_shows_every_step(tmp_path: Path) -> None:
    result = install("--dry-run", "--enable", "timer", "--prefix", str(tmp_path / "venv"))
    assert result.returncode == 0, result.stderr
    steps = result.stdout
    assert "+ useradd --system --user-group" in steps or "user arxiv-harvester exists" in steps
    assert f" -m venv {tmp_path / 'venv'}\n" in steps
    assert f"+ runuser -u arxiv-harvester -- {tmp_path / 'venv'}/bin/harvest" not in steps  # dry
    assert "+ write /etc/systemd/system/arxiv-harvester.service" in steps
    assert "+ systemctl enable --now arxiv-harvester-once.timer" in steps
    assert list(tmp_path.iterdir()) == []


def test_install_refuses_unknown_options() -> None:
    assert install("--enable", "cron", "--dry-run").returncode == 64
    assert install("--bogus").returncode == 64


@pytest.mark.parametrize(
    ("script", "package", "test_file"),
    [
        ("ensure-chromium", "chromium", "tests/test_browser.py"),
        ("ensure-systemd-analyze", "systemd", "tests/test_units.py"),
    ],
)
def test_make_test_says_what_it_installs_and_why_and_no_install_installs_nothing(
    tmp_path: Path, script: str, package: str, test_file: str
) -> None:
    """A stand-in ``apt-get`` records what it is asked; the tool itself is not on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    id_tool = shutil.which("id")
    assert id_tool is not None
    (bin_dir / "id").symlink_to(id_tool)  # all the script needs; the real tools are not here
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [shutil.which("bash") or "/bin/bash", str(REPO / "scripts" / script)],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    skipped = run(NO_INSTALL="1")
    assert skipped.returncode == 0 and "NO_INSTALL=1" in skipped.stderr
    assert not log.exists()
    installed = run()
    if os.geteuid() != 0:
        pytest.skip("the install path needs root")
    assert f"installing Debian's {package}" in installed.stderr and test_file in installed.stderr
    assert f"install -y -qq --no-install-recommends {package}" in log.read_text(encoding="utf-8")
