"""``[[notify]]``: where notifications go, in apprise's URL syntax, and what each target hears.

A URL may hold a secret (a password, a webhook token in the path), so:

- it may come from the environment instead (``url_env = "VARIABLE"``);
- no error message ever repeats it (they name the key and say what is wrong);
- a file that writes one out must not be readable by everyone (refused, like any config error).

Whether apprise knows the URL's service is checked where apprise is used
(:mod:`harvester.alerts`); here only its shape: ``scheme://something``.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..vocabulary import AlertKind, Digest
from .checks import Check, Invalid, array_of, author_key, string

DEFAULT_EVENTS = (AlertKind.NEW_PAPER, AlertKind.NEW_VERSION)
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.ASCII | re.IGNORECASE)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
TARGET_NAME = re.compile(r"[\w.:@-]{1,64}", re.ASCII)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """One ``[[notify]]`` table, its URL resolved (from ``url`` or ``url_env``)."""

    #: how the outbox and every message about this target name it (never the URL)
    name: str
    #: the apprise URL; a secret: never logged, never in an error
    url: str
    #: the author keys it hears about (empty: every tracked author)
    authors: tuple[str, ...] = ()
    events: tuple[AlertKind, ...] = DEFAULT_EVENTS
    digest: Digest = Digest.CYCLE

    def concerns(self, author: str, kind: AlertKind) -> bool:
        return kind in self.events and (not self.authors or author in self.authors)

    def __repr__(self) -> str:  # a settings dump must not print the secret
        return f"NotifySettings(name={self.name!r}, url='***', digest={self.digest!r})"


def _url(value: object) -> str:
    text = string(value).strip()
    if not SCHEME.fullmatch(text):
        raise Invalid("expected an apprise URL, scheme://... (the value is not repeated here)")
    return text


def _choice(kind: type[AlertKind] | type[Digest]) -> Check:
    def check(value: object) -> Any:
        text = string(value)
        try:
            return kind(text)
        except ValueError:
            known = ", ".join(kind)
            raise Invalid(f"expected one of {known}, got {text!r}") from None

    return check


def _env_name(value: object) -> str:
    text = string(value)
    if not ENV_NAME.fullmatch(text):
        raise Invalid(f"expected an environment variable name, got {text!r}")
    return text


def _name(value: object) -> str:
    text = string(value)
    if not TARGET_NAME.fullmatch(text):
        raise Invalid(f"1 to 64 letters, digits or . : @ _ -, got {text!r}")
    return text


CHECKS: Mapping[str, Check] = {
    "name": _name,
    "url": _url,
    "url_env": _env_name,
    "authors": array_of(author_key),
    "events": array_of(_choice(AlertKind)),
    "digest": _choice(Digest),
}
"""The keys of a ``[[notify]]`` table and their checks."""


def resolve_targets(
    tables: Sequence[dict[str, Any]],
    path: Path,
    environ: Mapping[str, str],
    authors: set[str],
    *,
    wrote_url: bool,
) -> tuple[NotifySettings, ...]:
    """The ``[[notify]]`` tables (their keys already checked with :data:`CHECKS`) as
    targets; ``authors``: the configured author keys; ``wrote_url``: a table gave ``url``
    (then the file must not be readable by everyone)."""
    if wrote_url:
        _refuse_world_readable(path)
    targets: dict[str, NotifySettings] = {}
    for index, values in enumerate(tables):
        target = _target(path, f"notify[{index}]", dict(values), environ, authors, index)
        if target.name in targets:
            raise ConfigError(path, f"notify[{index}].name", f"duplicate target {target.name!r}")
        targets[target.name] = target
    return tuple(targets.values())


def _target(
    path: Path,
    where: str,
    values: dict[str, Any],
    environ: Mapping[str, str],
    authors: set[str],
    index: int,
) -> NotifySettings:
    url_env = values.pop("url_env", None)
    if ("url" in values) == (url_env is not None):
        raise ConfigError(path, where, "give exactly one of url and url_env")
    if url_env is not None:
        if not environ.get(url_env):
            raise ConfigError(
                path, f"{where}.url_env", f"environment variable {url_env} is not set"
            )
        try:
            values["url"] = _url(environ[url_env])
        except Invalid as exc:
            raise ConfigError(path, f"env {url_env}", exc.problem) from None
    unknown = [key for key in values.get("authors", ()) if key not in authors]
    if unknown:
        raise ConfigError(path, f"{where}.authors", f"no configured author has key {unknown[0]!r}")
    values.setdefault("name", f"{values['url'].split(':', 1)[0].lower()}-{index + 1}")
    return NotifySettings(**values)


def _refuse_world_readable(path: Path) -> None:
    """A file that holds a notification URL (and so perhaps a secret) is nobody else's."""
    try:
        mode = path.stat().st_mode
    except OSError:  # parsed from memory (tests): no file to protect
        return
    if mode & stat.S_IROTH:
        raise ConfigError(
            path,
            "notify",
            f"a [[notify]] url may hold a secret, but the file is readable by everyone;"
            f" run 'chmod o-r {path}' or set url_env instead",
        )
