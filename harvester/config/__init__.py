"""The configuration: one TOML file plus environment overrides, validated once into a frozen
:class:`Settings` that everything else receives as an argument.

- :mod:`.model`: the frozen settings classes, each key declared once with :func:`setting`
  (its default, its check and a line of help);
- :mod:`.checks`: the checks those keys pass (names, ids, URLs, ORCID check digits, crontab
  lines), with the decisions worth knowing;
- :mod:`.targets`: the ``[[notify]]`` targets (apprise URLs, possibly secret);
- :mod:`.loading`: finding the file, reading it as TOML, the sections, the environment
  overrides and the errors (one :class:`~harvester.errors.ConfigError` line naming the file,
  the key and the problem).

Queries are not built here: :mod:`harvester.batching` writes them from the settings.
"""

from .checks import orcid_check_digit
from .loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ENV_OVERRIDES,
    load_settings,
    locate_config,
    parse_settings,
)
from .model import (
    ArxivSettings,
    AuthorSettings,
    DatabaseSettings,
    HarvestSettings,
    LoggingSettings,
    OaiSettings,
    OrcidSettings,
    OutputSettings,
    ScheduleSettings,
    Settings,
    checks_of,
    setting,
)
from .targets import NotifySettings

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ENV_OVERRIDES",
    "ArxivSettings",
    "AuthorSettings",
    "DatabaseSettings",
    "HarvestSettings",
    "LoggingSettings",
    "NotifySettings",
    "OaiSettings",
    "OrcidSettings",
    "OutputSettings",
    "ScheduleSettings",
    "Settings",
    "checks_of",
    "load_settings",
    "locate_config",
    "orcid_check_digit",
    "parse_settings",
    "setting",
]
