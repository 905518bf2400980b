"""Settings: real TOML files under tmp_path, real environment mappings, no mocks."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from arxiv_lookalike import LookalikeServer
from harvester import __version__
from harvester.batching import build_query
from harvester.config import (
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
    load_settings,
    locate_config,
    parse_settings,
)
from harvester.errors import ConfigError
from harvester.exits import USAGE

from .architecture import Source, data_access_outside_the_store, imports, probe, sources, within
from .support import REPO, TEST_ARXIV, rows, run_cli, write_config

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "harvester.toml"
AUTHOR = '[[authors]]\nkey = "kakade"\nname = "Sham Kakade"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "harvester.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Settings:
    return load_settings(write(tmp_path, text), environ or {})


def author(tmp_path: Path, body: str) -> AuthorSettings:
    """The one author of a config holding only ``[[authors]]`` with ``body``."""
    return load(tmp_path, f'[[authors]]\nkey = "a"\n{body}\n').authors[0]


def error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, environ)
    return info.value


def assert_names(err: ConfigError, path: Path, key: str | None, *problem: str) -> None:
    """One line naming the file, the key and the problem."""
    message = str(err)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert err.key == key
    if key is not None:
        assert message.startswith(f"{path}: {key}: ")
    for fragment in problem:
        assert fragment in message
    assert err.exit_code == 2


# -- locating the file ------------------------------------------------------------------------


def test_locate_prefers_the_command_line(tmp_path: Path) -> None:
    environ = {"HARVESTER_CONFIG": "/etc/from-env.toml"}
    assert locate_config("/etc/cli.toml", environ, tmp_path) == Path("/etc/cli.toml")
    assert locate_config("rel/cli.toml", environ, tmp_path) == tmp_path / "rel" / "cli.toml"


def test_locate_falls_back_to_the_environment_then_the_default(tmp_path: Path) -> None:
    environ = {"HARVESTER_CONFIG": "/etc/from-env.toml"}
    assert locate_config(None, environ, tmp_path) == Path("/etc/from-env.toml")
    assert locate_config(None, {}, tmp_path) == tmp_path / "config" / "harvester.toml"
    assert locate_config(None, {"HARVESTER_CONFIG": ""}, tmp_path) == (
        tmp_path / "config" / "harvester.toml"
    )


# -- defaults and the shipped file -------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, AUTHOR)
    settings = load_settings(path, {})
    assert settings.path == path
    assert settings.database == DatabaseSettings(url="sqlite:///harvester.db")
    assert settings.arxiv == ArxivSettings()
    assert settings.arxiv.api_url == "https://export.arxiv.org/api/query"
    assert (settings.arxiv.page_size, settings.arxiv.delay_seconds) == (200, 3.0)
    assert (settings.arxiv.timeout_seconds, settings.arxiv.max_attempts) == (30.0, 5)
    assert (settings.arxiv.max_retry_seconds, settings.arxiv.max_wait_seconds) == (600.0, 300.0)
    assert settings.arxiv.max_response_bytes == 20_000_000
    assert settings.arxiv.user_agent == f"arxiv-harvester/{__version__}"
    assert settings.logging == LoggingSettings(level="WARNING")
    assert settings.authors == (AuthorSettings(key="kakade", name="Sham Kakade"),)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load(tmp_path, AUTHOR)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.arxiv.page_size = 10  # type: ignore[misc]


def test_values_are_read_and_numbers_converted(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        AUTHOR + "[arxiv]\npage_size = 500\ndelay_seconds = 0\ntimeout_seconds = 12.5\n"
        'contact = "me@example.org"\n[logging]\nlevel = "debug"\n',
    )
    assert settings.arxiv.page_size == 500
    assert settings.arxiv.delay_seconds == 0.0
    assert isinstance(settings.arxiv.delay_seconds, float)
    assert settings.arxiv.timeout_seconds == 12.5
    assert settings.arxiv.user_agent == f"arxiv-harvester/{__version__} (mailto:me@example.org)"
    assert settings.logging.level == "DEBUG"


def test_the_shipped_config_loads_and_tracks_the_seed_author() -> None:
    settings = load_settings(SHIPPED, {})
    assert settings.database == DatabaseSettings()
    assert settings.arxiv == ArxivSettings()
    assert settings.logging == LoggingSettings()
    (seed,) = settings.authors
    assert (seed.key, seed.name) == ("kakade", "Sham Kakade")
    assert seed.names == ("Sham Kakade", "Sham M. Kakade", "Sham M Kakade")
    assert build_query(seed) == ('(au:"Sham Kakade" OR au:"Sham M. Kakade" OR au:"Sham M Kakade")')
    assert (seed.query, seed.include_ids, seed.exclude_ids) == (None, (), ())


def test_the_shipped_config_documents_every_key_with_its_default() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    shipped = tomllib.loads(text)
    everything = tomllib.loads(re.sub(r"(?m)^# (\w+ = )", r"\1", text))  # uncomment the keys
    parse_settings(everything, SHIPPED, {})  # the commented keys are valid too
    sections = {
        "database": DatabaseSettings,
        "arxiv": ArxivSettings,
        "logging": LoggingSettings,
        "schedule": ScheduleSettings,
        "output": OutputSettings,
        "harvest": HarvestSettings,
        "orcid": OrcidSettings,
        "oai": OaiSettings,
    }
    for section, cls in sections.items():
        for field in dataclasses.fields(cls):
            assert field.name in everything[section], f"{section}.{field.name} undocumented"
            if field.name in shipped[section]:
                assert shipped[section][field.name] == field.default, f"{section}.{field.name}"
    for field in dataclasses.fields(AuthorSettings):
        assert field.name in everything["authors"][0], f"authors.{field.name} undocumented"
    assert set(shipped) == {*sections, "authors"}


# -- environment overrides ---------------------------------------------------------------------


def test_environment_overrides_database_and_api_url(tmp_path: Path) -> None:
    environ = {
        "HARVESTER_DATABASE_URL": "postgresql://harvest@db.internal/harvest",
        "HARVESTER_ARXIV_API_URL": "http://127.0.0.1:8080/api/query",
    }
    settings = load(tmp_path, AUTHOR + '[database]\nurl = "sqlite:///other.db"\n', environ)
    assert settings.database.url == "postgresql+psycopg://harvest@db.internal/harvest"
    assert settings.arxiv.api_url == "http://127.0.0.1:8080/api/query"


def test_empty_environment_variables_count_as_unset(tmp_path: Path) -> None:
    environ = {"HARVESTER_DATABASE_URL": "", "HARVESTER_ARXIV_API_URL": ""}
    settings = load(tmp_path, AUTHOR, environ)
    assert settings.database == DatabaseSettings()
    assert settings.arxiv.api_url == ArxivSettings().api_url


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("HARVESTER_DATABASE_URL", "not a url", "not a valid SQLAlchemy URL"),
        ("HARVESTER_DATABASE_URL", "mysql://h/db", "unsupported database 'mysql'"),
        ("HARVESTER_ARXIV_API_URL", "ftp://example.org/q", "expected an http or https URL"),
    ],
)
def test_invalid_environment_overrides_name_the_variable(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    err = error(tmp_path, AUTHOR, {variable: value})
    assert_names(err, tmp_path / "harvester.toml", f"env {variable}", problem)


# -- the file itself ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert_names(info.value, path, None, "file not found", "--config", "HARVESTER_CONFIG")


def _load_as_nobody(path: Path) -> str:
    """The message of loading ``path`` as an unprivileged user (root ignores file modes)."""
    if os.geteuid() != 0:
        with pytest.raises(ConfigError) as info:
            load_settings(path, {})
        return str(info.value)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child drops root, so the file's mode applies, and reports back
        try:
            os.close(reader)
            os.setgid(65534)
            os.setuid(65534)
            try:
                load_settings(path, {})
            except ConfigError as exc:
                os.write(writer, str(exc).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, encoding="utf-8") as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    return message


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, AUTHOR)
    path.chmod(0)
    message = _load_as_nobody(path)
    assert message == f"{path}: cannot read the file: permission denied"


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_only_a_regular_file_of_at_most_1_mb_is_read(tmp_path: Path, special: str) -> None:
    """/dev/zero would be read until memory runs out, a FIFO would wait forever."""
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "harvester.toml"
        os.mkfifo(path)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_settings(path, {})
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 1_000_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="at most 1 MB"):
        load_settings(big, {})


def test_a_5000_digit_integer_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML: Exceeds the limit"):
        load(tmp_path, AUTHOR + "[arxiv]\npage_size = " + "9" * 5000 + "\n")


def test_deeply_nested_arrays_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nested too deep"):
        load(tmp_path, AUTHOR + "[arxiv]\nx = " + "[" * 5000 + "]" * 5000 + "\n")


def test_a_key_that_would_overwrite_the_site_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'index' is reserved"):
        load(tmp_path, '[[authors]]\nkey = "index"\nname = "Ann Index"\n')


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, {})
    assert_names(info.value, tmp_path, None, "not a regular file")


def test_bad_toml_quotes_the_parser(tmp_path: Path) -> None:
    err = error(tmp_path, AUTHOR + "[arxiv\npage_size = 10\n")
    assert_names(err, tmp_path / "harvester.toml", None, "invalid TOML: Expected ']'", "line 4")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "harvester.toml"
    path.write_bytes(AUTHOR.replace("Sham", "Sh\xe4m").encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert_names(info.value, path, None, "not UTF-8 text")


# -- keys and types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[databse]\nurl = "sqlite://"\n' + AUTHOR, "databse", "did you mean 'database'?"),
        (AUTHOR + "[arxiv]\ndelay_secs = 3\n", "arxiv.delay_secs", "did you mean 'delay_seconds'?"),
        (AUTHOR + 'alias = ["S. K."]\n', "authors[0].alias", "did you mean 'aliases'?"),
        (AUTHOR + "[logging]\nzzz = 1\n", "logging.zzz", "unknown key; known keys: level"),
        ('[[author]]\nkey = "k"\nname = "N"\n', "author", "did you mean 'authors'?"),
    ],
)
def test_unknown_keys_are_named_with_a_suggestion(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    assert_names(error(tmp_path, text), tmp_path / "harvester.toml", key, problem)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (AUTHOR + '[arxiv]\npage_size = "200"\n', "arxiv.page_size", "integer, got string"),
        (AUTHOR + "[arxiv]\nmax_attempts = 2.5\n", "arxiv.max_attempts", "integer, got float"),
        (AUTHOR + "[arxiv]\ndelay_seconds = true\n", "arxiv.delay_seconds", "got boolean"),
        (AUTHOR + '[arxiv]\ntimeout_seconds = "30"\n', "arxiv.timeout_seconds", "got string"),
        (AUTHOR + "[database]\nurl = 5\n", "database.url", "expected a string, got integer"),
        (AUTHOR + "[logging]\nlevel = 10\n", "logging.level", "expected a string, got integer"),
        ('database = "sqlite://"\n' + AUTHOR, "database", "expected a table, got string"),
        ('authors = "kakade"\n', "authors", "array of [[authors]] tables, got string"),
        ('[authors]\nkey = "k"\n', "authors", "array of [[authors]] tables, got table"),
        ("authors = [1]\n", "authors[0]", "expected a table, got integer"),
        ('[[authors]]\nkey = "k"\nname = 3\n', "authors[0].name", "string, got integer"),
        (AUTHOR + 'aliases = "Sham M. Kakade"\n', "authors[0].aliases", "array, got string"),
        (AUTHOR + 'aliases = ["S K", 3]\n', "authors[0].aliases[1]", "string, got integer"),
        (AUTHOR + "include_ids = [2409.11321]\n", "authors[0].include_ids[0]", "got float"),
        (AUTHOR + "query = []\n", "authors[0].query", "expected a string, got array"),
        ('[[authors]]\nkey = "k"\nname = 2024-01-01\n', "authors[0].name", "got date"),
    ],
)
def test_wrong_types_say_expected_and_got(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    assert_names(error(tmp_path, text), tmp_path / "harvester.toml", key, problem)


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[arxiv]\ndelay_seconds = -1\n", "arxiv.delay_seconds", "from 0 to 86400 seconds"),
        ("[arxiv]\ndelay_seconds = nan\n", "arxiv.delay_seconds", "seconds, got nan"),
        ("[arxiv]\ndelay_seconds = 1e308\n", "arxiv.delay_seconds", "from 0 to 86400 seconds"),
        ("[arxiv]\ntimeout_seconds = 0\n", "arxiv.timeout_seconds", "0.01 to 3600 seconds, got 0"),
        ("[arxiv]\ntimeout_seconds = 1e300\n", "arxiv.timeout_seconds", "to 3600 seconds"),
        ("[arxiv]\nmax_retry_seconds = inf\n", "arxiv.max_retry_seconds", "seconds, got inf"),
        ("[arxiv]\nmax_wait_seconds = -0.5\n", "arxiv.max_wait_seconds", "seconds, got -0.5"),
        ("[schedule]\ninterval_seconds = 1e300\n", "schedule.interval_seconds", "to 3.16224e+07"),
        ("[arxiv]\npage_size = " + "9" * 2000 + "\n", "arxiv.page_size", "about 2000 digits"),
        ("[arxiv]\npage_size = 0\n", "arxiv.page_size", "between 1 and 2000, got 0"),
        ("[arxiv]\npage_size = 2001\n", "arxiv.page_size", "between 1 and 2000, got 2001"),
        ("[arxiv]\nmax_attempts = 0\n", "arxiv.max_attempts", "between 1 and 100, got 0"),
        ("[arxiv]\nmax_response_bytes = 999\n", "arxiv.max_response_bytes", "between 1000"),
        ("[arxiv]\nmax_consecutive_failures = 0\n", "arxiv.max_consecutive_failures", "between 1"),
        ('[schedule]\ncron = "0 0 30 2 *"\n', "schedule.cron", "never fires"),
        ('[database]\nurl = "sqlite://"\n', "database.url", "in-memory SQLite database keeps"),
        ('[database]\nurl = "sqlite:///"\n', "database.url", "in-memory SQLite database keeps"),
        ('[database]\nurl = "sqlite:///:memory:"\n', "database.url", "keeps nothing"),
        ('[arxiv]\ncontact = "me at home"\n', "arxiv.contact", "expected an e-mail address"),
        ('[logging]\nlevel = "VERBOSE"\n', "logging.level", "one of DEBUG, INFO, WARNING, ERROR"),
    ],
)
def test_out_of_range_values(tmp_path: Path, text: str, key: str, problem: str) -> None:
    assert_names(error(tmp_path, AUTHOR + text), tmp_path / "harvester.toml", key, problem)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("arxiv", "expected an http or https URL with a host, got 'arxiv'"),
        ("export.arxiv.org/api/query", "expected an http or https URL with a host"),
        ("ftp://export.arxiv.org/api/query", "expected an http or https URL with a host"),
        ("https:///api/query", "expected an http or https URL with a host"),
        ("https://export.arxiv.org/api/\tquery", "must not contain spaces or control characters"),
        ("https://export arxiv.org/api/query", "must not contain spaces or control characters"),
        ("https://export.arxiv.org:http/api", "not a valid URL"),
        (
            "https://export.arxiv.org/api/query?max_results=5",
            "must not have a query string or fragment",
        ),
    ],
)
def test_unparseable_api_url(tmp_path: Path, url: str, problem: str) -> None:
    err = error(tmp_path, AUTHOR + f'[arxiv]\napi_url = "{url}"\n')
    assert_names(err, tmp_path / "harvester.toml", "arxiv.api_url", problem)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///harvester.db", "sqlite:///harvester.db"),
        ("sqlite:////var/lib/harvester/h.db", "sqlite:////var/lib/harvester/h.db"),
        ("postgresql://u:p%40ss@localhost/h", "postgresql+psycopg://u:p%40ss@localhost/h"),
        ("postgresql+psycopg://localhost/h", "postgresql+psycopg://localhost/h"),
        ("sqlite+pysqlite:///h.db?timeout=5", "sqlite+pysqlite:///h.db?timeout=5"),
        (  # only the driver is rewritten: the rest is kept as written, query order too
            "postgresql://u:se%2Fcret@[::1]:5432/h?sslmode=require&application_name=h",
            "postgresql+psycopg://u:se%2Fcret@[::1]:5432/h?sslmode=require&application_name=h",
        ),
    ],
)
def test_database_urls(tmp_path: Path, url: str, expected: str) -> None:
    assert load(tmp_path, AUTHOR + f'[database]\nurl = "{url}"\n').database.url == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite/harvester.db", "not a valid SQLAlchemy URL"),
        ("postgresql://u:secret@host:port/db", "not a valid SQLAlchemy URL"),
        ("mysql://u@host/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@host/db", "unsupported database 'postgresql+psycopg2'"),
        ("postgresql://u:secret@host:/db", "not a valid SQLAlchemy URL"),
        ("postgresql://u:secret@[::1/db", "not a valid SQLAlchemy URL"),
        ("postgresql ://u:secret@host/db", "not a valid SQLAlchemy URL"),
        ("POSTGRESQL://u:secret@host/db", "unsupported database 'POSTGRESQL'"),
        ("sqlite:///%3Amemory%3A?secret", "an in-memory SQLite database keeps nothing"),
        ("sqlite:///file:h?mode=memory&secret=1", "an in-memory SQLite database keeps nothing"),
        ("sqlite+pysqlite://secret@/", "an in-memory SQLite database keeps nothing"),
    ],
)
def test_bad_database_urls_are_refused_without_echoing_them(
    tmp_path: Path, url: str, problem: str
) -> None:
    err = error(tmp_path, AUTHOR + f'[database]\nurl = "{url}"\n')
    assert_names(err, tmp_path / "harvester.toml", "database.url", problem)
    assert "secret" not in str(err)


def test_a_url_the_check_rewrites_reaches_the_database_it_names(
    tmp_path: Path, server: LookalikeServer, db_url: str
) -> None:
    """A bare ``postgresql://`` URL (run with psycopg 3) or a ``sqlite+pysqlite://`` one,
    through ``harvest --once``: the papers land where the URL says, its query string kept
    (on PostgreSQL the test's schema is only in the query string)."""
    written = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
    written = written.replace("sqlite:///", "sqlite+pysqlite:///", 1)
    config = write_config(tmp_path, written, server.url, arxiv=TEST_ARXIV)
    result = run_cli("--once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kakade  76 papers  +0 new")
    engine = create_engine(db_url)
    try:
        assert rows(engine, "SELECT paper_count FROM profile_stats") == [(76,)]
    finally:
        engine.dispose()


def test_a_bad_database_url_stops_the_command_before_any_database(
    tmp_path: Path, server: LookalikeServer
) -> None:
    url = "postgresql://postgres:secret@127.0.0.1:/test"  # a colon, but no port
    config = write_config(tmp_path, url, server.url, arxiv=TEST_ARXIV)
    result = run_cli("--once", "--config", str(config), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (USAGE, "")
    assert result.stderr == (
        f"harvest: error: {config}: database.url: not a valid SQLAlchemy URL,"
        " e.g. sqlite:///harvester.db\n"
    )
    assert list(tmp_path.rglob("*.db")) == [] and server.requests == []


# -- authors -----------------------------------------------------------------------------------


def test_no_authors_at_all(tmp_path: Path) -> None:
    for text in ("[logging]\nlevel = 'INFO'\n", "authors = []\n"):
        err = error(tmp_path, text)
        assert_names(err, tmp_path / "harvester.toml", "authors", "no authors configured")


@pytest.mark.parametrize("key", ["", "Kakade", "sham kakade", "kakadé", "k" * 65])
def test_invalid_author_keys(tmp_path: Path, key: str) -> None:
    err = error(tmp_path, f'[[authors]]\nkey = "{key}"\nname = "Sham Kakade"\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[0].key", "1 to 64 of a-z")


def test_duplicate_author_key(tmp_path: Path) -> None:
    err = error(tmp_path, AUTHOR + '[[authors]]\nkey = "kakade"\nname = "Sham M. Kakade"\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[1].key", "duplicate author key")


@pytest.mark.parametrize("missing", ["key", "name"])
def test_required_author_keys(tmp_path: Path, missing: str) -> None:
    text = "".join(line + "\n" for line in AUTHOR.splitlines() if not line.startswith(missing))
    err = error(tmp_path, text)
    assert_names(err, tmp_path / "harvester.toml", f"authors[0].{missing}", "required key")


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name(tmp_path: Path, name: str) -> None:
    err = error(tmp_path, f'[[authors]]\nkey = "k"\nname = "{name}"\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[0].name", "must not be empty")


def test_empty_alias(tmp_path: Path) -> None:
    err = error(tmp_path, AUTHOR + 'aliases = ["Sham M. Kakade", ""]\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[0].aliases[1]", "must not be empty")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Smith OR ti:quantum", "character ':' (U+003A) is not allowed"),
        ("Smith OR Jones", "the word 'OR' is an arXiv query operator"),
        ("Smith AND Jones", "the word 'AND' is an arXiv query operator"),
        ("Smith ANDNOT Jones", "the word 'ANDNOT' is an arXiv query operator"),
        ('a"b', "character '\"' (U+0022) is not allowed"),
        ("x\\y", "character '\\\\' (U+005C) is not allowed"),
        ("(x)", "character '(' (U+0028) is not allowed"),
        ("Smith:Jones", "character ':' (U+003A)"),
        ("Sm[i]th", "character '[' (U+005B)"),
        ("Smi*", "character '*' (U+002A)"),
        ("del_maestro", "character '_' (U+005F)"),
        ("Tab\tbed", "character '\\t' (U+0009)"),
        ("O\u2019Brien", "character '\u2019' (U+2019)"),  # a typographic apostrophe
        ("... -", "must contain a letter"),
        ("Kakade; --", "character ';' (U+003B)"),
        ("Sham\u200f Kakade", "character '\\u200f' (U+200F)"),  # a right-to-left mark
        ("K" * 301, "must be at most 300 characters, got 301"),
    ],
)
def test_hostile_names_are_refused(tmp_path: Path, name: str, problem: str) -> None:
    err = error(tmp_path, f'[[authors]]\nkey = "k"\nname = {json.dumps(name)}\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[0].name", problem)


def test_hostile_alias_is_refused(tmp_path: Path) -> None:
    err = error(tmp_path, AUTHOR + 'aliases = ["Sham Kakade", "Kakade) OR (ti:x"]\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[0].aliases[1]", "')'")


def test_lower_case_operator_words_are_names(tmp_path: Path) -> None:
    assert author(tmp_path, 'name = "Orlando Or and Andnot"').name == "Orlando Or and Andnot"


def test_query_from_names_with_accents_apostrophes_and_commas(tmp_path: Path) -> None:
    seed = author(
        tmp_path,
        'name = "  Sham   Kakade "\naliases = ["Kakade, Sham", "Dell\'Amico", "Sébastien Bubeck",'
        ' "Jean-Pierre Sérre 2nd", "Sham Kakade", "Zhang  Wei", "张伟"]',
    )
    assert seed.names == (
        "Sham Kakade",
        "Kakade, Sham",
        "Dell'Amico",
        "Sébastien Bubeck",
        "Jean-Pierre Sérre 2nd",
        "Zhang Wei",
        "张伟",
    )
    assert build_query(seed) == (
        '(au:"Sham Kakade" OR au:"Kakade, Sham" OR au:"Dell\'Amico" OR au:"Sébastien Bubeck"'
        ' OR au:"Jean-Pierre Sérre 2nd" OR au:"Zhang Wei" OR au:"张伟")'
    )


def test_a_single_name_is_still_parenthesised(tmp_path: Path) -> None:
    assert build_query(author(tmp_path, 'name = "Sham Kakade"')) == '(au:"Sham Kakade")'


def test_names_are_nfc_normalised(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Sébastien Bubeck")
    assert decomposed != "Sébastien Bubeck"
    seed = author(tmp_path, f'name = "{decomposed}"\naliases = ["Sébastien Bubeck"]')
    assert seed.name == "Sébastien Bubeck"
    assert seed.names == ("Sébastien Bubeck",)


def test_explicit_query_wins(tmp_path: Path) -> None:
    seed = author(
        tmp_path, 'name = "Sham Kakade"\nquery = """\n  au:Kakade_S\n  AND cat:cs.LG\n"""'
    )
    assert seed.query == "au:Kakade_S AND cat:cs.LG"
    assert build_query(seed) == "au:Kakade_S AND cat:cs.LG"


@pytest.mark.parametrize(
    ("query", "problem"),
    [('"  "', "must not be empty"), (f'"{"x" * 1001}"', "at most 1000 characters, got 1001")],
)
def test_explicit_query_limits(tmp_path: Path, query: str, problem: str) -> None:
    err = error(tmp_path, AUTHOR + f"query = {query}\n")
    assert_names(err, tmp_path / "harvester.toml", "authors[0].query", problem)


def test_ids_are_stored_canonical_and_versionless(tmp_path: Path) -> None:
    seed = author(
        tmp_path,
        'name = "N"\ninclude_ids = ["2409.11321v2", "arXiv:0704.0001", "math.GT/0309136v1",'
        ' "hep-th/9901001", "2409.11321"]\nexclude_ids = [" https://arxiv.org/abs/1501.00001v3 "]',
    )
    assert seed.include_ids == ("2409.11321", "0704.0001", "math/0309136", "hep-th/9901001")
    assert seed.exclude_ids == ("1501.00001",)


@pytest.mark.parametrize(
    "arxiv_id",
    [
        "abc",
        "2409.113",
        "2413.11321",
        "1412.12345",
        "1501.1234",
        "0703.0001",
        "hep-th/0813001",
        "Hep-th/9901001",
        "2409.11321v0",
        "https://example.org/abs/2409.11321",
        "",
    ],
)
def test_invalid_ids_are_refused(tmp_path: Path, arxiv_id: str) -> None:
    err = error(tmp_path, AUTHOR + f'exclude_ids = ["2409.11321", "{arxiv_id}"]\n')
    assert_names(
        err, tmp_path / "harvester.toml", "authors[0].exclude_ids[1]", "invalid arXiv identifier"
    )


def test_an_id_cannot_be_both_included_and_excluded(tmp_path: Path) -> None:
    err = error(tmp_path, AUTHOR + 'include_ids = ["2409.11321v1"]\nexclude_ids = ["2409.11321"]\n')
    assert_names(err, tmp_path / "harvester.toml", "authors[0].exclude_ids", "also in include_ids")


def test_identity_fingerprint(tmp_path: Path) -> None:
    base = AuthorSettings(key="k", name="Sham Kakade", aliases=("Sham M. Kakade", "S. Kakade"))
    same = dataclasses.replace(base, key="other", aliases=("S. Kakade", "Sham M. Kakade"))
    assert base.identity_fingerprint == same.identity_fingerprint
    assert re.fullmatch("[0-9a-f]{64}", base.identity_fingerprint)
    changes: list[dict[str, Any]] = [
        {"name": "Sham M. Kakade"},
        {"aliases": ("Sham M. Kakade",)},
        {"query": 'au:"Sham Kakade"'},
        {"include_ids": ("2409.11321",)},
        {"exclude_ids": ("2409.11321",)},
    ]
    prints = {dataclasses.replace(base, **change).identity_fingerprint for change in changes}
    assert len(prints | {base.identity_fingerprint}) == len(changes) + 1
    loaded = author(tmp_path, 'name = "Sham Kakade"\naliases = ["Sham M. Kakade", "S. Kakade"]')
    assert loaded.identity_fingerprint == base.identity_fingerprint


# -- the config wing ---------------------------------------------------------------------------

WING = "harvester.config"


def everything() -> list[Source]:
    """The modules of the product, the tests and the scripts."""
    return [s for folder in ("harvester", "tests", "scripts") for s in sources(REPO / folder)]


def past_the_face(modules: list[Source]) -> list[str]:
    """Imports of the wing's own modules (``harvester.config.loading``) from outside it."""
    return [
        f"{s.module}:{line} {name}"
        for s in modules
        if not within(s, WING)
        for line, name in imports(s)
        if name.startswith(WING + ".")
    ]


def names_taken(modules: list[Source]) -> set[str]:
    """The names code outside the wing imports from its face."""
    return {
        alias.name
        for s in modules
        if not within(s, WING)
        for node in ast.walk(s.tree)
        if isinstance(node, ast.ImportFrom) and imports_from(s, node) == WING
        for alias in node.names
    }


def imports_from(source: Source, node: ast.ImportFrom) -> str:
    """The absolute module ``node`` imports from, relative imports resolved."""
    alone = Source(source.module, ast.Module(body=[node], type_ignores=[]), source.is_package)
    return next(name for _, name in imports(alone))


def test_the_config_wing_is_used_through_its_face() -> None:
    import harvester.config as config

    taken = names_taken(everything())
    assert {"Settings", "load_settings", "parse_settings", "AuthorSettings"} <= taken
    assert taken <= set(config.__all__)
    assert all(hasattr(config, name) for name in config.__all__)
    assert past_the_face(everything()) == []
    bypass = probe("harvester.cli", "def f():\n    from .config.loading import load_settings\n")
    assert past_the_face([bypass]) == ["harvester.cli:2 harvester.config.loading"]


def test_the_config_wing_imports_no_sqlalchemy() -> None:
    """Only the store imports SQLAlchemy: the database URL is checked without it."""
    wing = [s for s in sources(REPO / "harvester") if within(s, WING)]
    assert sorted(s.module for s in wing) == [
        WING,
        *(f"{WING}.{m}" for m in ("checks", "loading", "model", "targets")),
    ]
    assert data_access_outside_the_store(wing) == []
    old = probe(f"{WING}.checks", "from sqlalchemy.engine import make_url\n")
    assert data_access_outside_the_store([old]) == [f"{WING}.checks:1 sqlalchemy.engine"]
