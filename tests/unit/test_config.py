"""The operator's config file: what loads, and what `check-config` says about a broken one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import SCHEMA, ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
SECRET_PASSWORD = "s3cret-Passw0rd-hunter2"
SECRET_TOKEN = "syt_very_secret_token_abc123"
SECRET_DB_PASSWORD = "dbPa55-w0rd-x"

VALID = f"""\
[matrix]
homeserver = "https://matrix.example.org"
user_id = "@hub:example.org"
password = "{SECRET_PASSWORD}"
rooms = ["#leaders:example.org", "!AbCdEf:example.org"]
allowed_servers = ["example.org", "partner.org:8448"]

[bot]
prefix = "?"
language = "en"
timezone = "Europe/Warsaw"
admins = ["@anna:example.org"]
catch_up_seconds = 120

[database]
url = "sqlite+aiosqlite:///data/hub.db"

[http]
port = 9000
"""

# Every line is wrong in its own way; the line numbers are what check-config must print.
BROKEN = f"""\
[matrix]
homeserver = "ftp://matrix.example.org"
password = 12345678
rooms = ["#leaders", "!ok:example.org", "leaders"]
sync_timeout_ms = "soon"
[bot]
admins = ["@anna:example.org", "anna", "@bob"]
timezone = "Mars/Olympus_Mons"
language = "de"
catch_up_seconds = -5
colour = "red"
[database]
url = "mysql://hub:{SECRET_DB_PASSWORD}@db.example.org/hub"
[http]
port = true
[extras]
x = 1
"""
BROKEN_EXPECTED = [  # (line, key, words of the explanation)
    (1, "[matrix] user_id", "is required"),
    (2, "[matrix] homeserver", "http://"),
    (3, "[matrix] password", "must be a string"),
    (4, "[matrix] rooms", "'#leaders'"),
    (4, "[matrix] rooms", "'leaders'"),
    (5, "[matrix] sync_timeout_ms", "whole number"),
    (7, "[bot] admins", "'anna'"),
    (7, "[bot] admins", "'@bob'"),
    (8, "[bot] timezone", "time zone"),
    (9, "[bot] language", "pl, en"),
    (10, "[bot] catch_up_seconds", "between 0 and 604800"),
    (11, "[bot] colour", "not a known key"),
    (13, "[database] url", "sqlite+aiosqlite://"),
    (15, "[http] port", "whole number"),
    (16, "[extras]", "not a known section"),
]


def problems_of(text: str, env: dict[str, str] | None = None, path: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path, env or {})
    return caught.value.problems


def line_problem(problems: list[str], line: int, key: str) -> str:
    found = [p for p in problems if p.startswith(f"config:{line}: {key} ")]
    assert found, f"no problem for {key} on line {line} in:\n" + "\n".join(problems)
    return found[0]


def test_a_valid_config_loads_with_its_values_and_the_defaults():
    config = parse_config(VALID, None, env={})
    assert config.prefix == "?"
    assert config.language == "en"
    assert config.admins == {"@anna:example.org"}
    assert config["matrix"]["rooms"] == ["#leaders:example.org", "!AbCdEf:example.org"]
    assert config["bot"]["catch_up_seconds"] == 120
    assert config["http"]["port"] == 9000
    # Keys left out take the defaults of the schema.
    assert config["matrix"]["device_name"] == "Leaders Hub"
    assert config["http"]["host"] == "127.0.0.1"
    assert config["logging"]["level"] == "INFO"
    assert config["matrix"]["access_token"] is None


def test_defaults_are_not_shared_between_configs():
    first = parse_config('[matrix]\nuser_id = "@hub:x"\npassword = "p"\n', None, env={})
    first["matrix"]["rooms"].append("!changed:x")
    second = parse_config('[matrix]\nuser_id = "@hub:x"\npassword = "p"\n', None, env={})
    assert second["matrix"]["rooms"] == []


def test_every_problem_of_a_broken_config_is_reported_at_once_with_key_and_line():
    problems = problems_of(BROKEN)
    for line, key, words in BROKEN_EXPECTED:
        assert words in line_problem(problems, line, key)
    # One problem per broken key, nothing invented: user_id, homeserver, password, rooms,
    # sync_timeout_ms, admins, timezone, language, catch_up_seconds, colour, url, port, [extras].
    assert len(problems) == 13, "\n".join(problems)
    # The operator reads them in the order of the file.
    lines = [int(re.match(r"config:(\d+):", p).group(1)) for p in problems]
    assert lines == sorted(lines)


def test_problems_never_repeat_a_secret():
    text = BROKEN.replace("password = 12345678", f'password = ["{SECRET_PASSWORD}"]')
    problems = "\n".join(problems_of(text))
    assert "[matrix] password must be a string" in problems
    assert SECRET_PASSWORD not in problems
    assert SECRET_DB_PASSWORD not in problems
    token = problems_of('[matrix]\nuser_id = "@hub:x"\naccess_token = 987654321\n')
    assert token == ["config:3: [matrix] access_token must be a string"]
    # Other values are shown, so the operator sees what is wrong.
    assert "not 'soon'" in problems


def test_missing_user_id_and_credentials_point_at_the_matrix_section():
    problems = problems_of('# my bot\n\n[matrix]\nhomeserver = "http://127.0.0.1:8008"\n')
    assert problems == [
        "config:3: [matrix] user_id is required",
        "config:3: [matrix] password or access_token is needed for the first login "
        "(no stored session in store_path yet)",
    ]


def test_an_access_token_or_a_stored_session_is_enough_to_log_in(tmp_path):
    assert parse_config('[matrix]\nuser_id = "@hub:x"\naccess_token = "t"\n', None, env={})
    text = '[matrix]\nuser_id = "@hub:x"\nstore_path = "store"\n'
    path = tmp_path / "config.toml"
    assert "password or access_token" in problems_of(text, path=path)[0]
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "session.json").write_text("{}")
    config = parse_config(text, path, env={})
    assert config["matrix"]["password"] is None


@pytest.mark.parametrize("rooms, ok", [
    ('["!opaque:example.org"]', True),
    ('["!roomv12opaqueid"]', True),
    ('["#leaders:example.org"]', True),
    ('["#leaders"]', False),  # an alias cannot be resolved without its server
    ('["leaders:example.org"]', False),
    ('["# leaders:example.org"]', False),
    ("[1]", False),
])
def test_rooms_must_be_room_ids_or_full_aliases(rooms, ok):
    text = f'[matrix]\nuser_id = "@hub:x"\npassword = "p"\nrooms = {rooms}\n'
    if ok:
        assert parse_config(text, None, env={})["matrix"]["rooms"]
    else:
        assert "not room ids" in line_problem(problems_of(text), 4, "[matrix] rooms")


@pytest.mark.parametrize("value", ['"Europe"', '""', '"../etc/passwd"', '"/etc/localtime"', '"Europe/warsaw"'])
def test_a_time_zone_that_is_not_an_iana_name_is_a_problem_not_a_crash(value):
    problems = problems_of(f'[matrix]\nuser_id = "@hub:x"\npassword = "p"\n[bot]\ntimezone = {value}\n')
    assert "not a known IANA time zone" in line_problem(problems, 5, "[bot] timezone")


@pytest.mark.parametrize("section, line, message", [
    ("[bot]\nprefix = \"\"", "[bot] prefix", "1–5 visible characters"),
    ("[bot]\nprefix = \"!!!!!!\"", "[bot] prefix", "1–5 visible characters"),
    ("[bot]\ncatch_up_seconds = 700000", "[bot] catch_up_seconds", "between 0 and 604800"),
    ("[bot]\ncatch_up_seconds = 1.5", "[bot] catch_up_seconds", "whole number"),
    ("[bot]\nadmins = \"@anna:x\"", "[bot] admins", "must be a list"),
    ("[bot]\nmax_concurrent_commands = 0", "[bot] max_concurrent_commands", "between 1 and 1000"),
    ("[database]\nurl = \"postgres://h/db\"", "[database] url", "postgresql+asyncpg://"),
    ("[matrix]\nallowed_servers = [\"ok.org\", \"@user:bad.org\"]", "[matrix] allowed_servers", "not server names"),
    ("[http]\nport = 70000", "[http] port", "between 0 and 65535"),
    ("[http]\nenabled = \"yes\"", "[http] enabled", "true or false"),
    ("[logging]\nlevel = \"LOUD\"", "[logging] level", "DEBUG, INFO"),
    ("[http]\npublic_url = \"hub.example.org\"", "[http] public_url", "http:// or https://"),
    ("[http]\npublic_url = \"ftp://hub.example.org\"", "[http] public_url", "http:// or https://"),
    ("[http]\npublic_url = \"https://hub.example.org/a b\"", "[http] public_url", "http:// or https://"),
    ("[http]\npublic_url = \"https://hub.example.org/?x=1\"", "[http] public_url", "without ?query"),
    ("[http]\npublic_url = \"https:///events\"", "[http] public_url", "http:// or https://"),
])
def test_each_wrong_value_gets_its_own_explanation(section, line, message):
    text = '[matrix]\nuser_id = "@hub:x"\npassword = "p"\n' + section.replace("[matrix]\n", "") + "\n"
    problems = problems_of(text)
    at = len(text.splitlines())  # the key is the last line
    assert problems == [problems[0]]
    assert problems[0].startswith(f"config:{at}: {line} ") and message in problems[0]


def test_a_section_that_is_not_a_table_is_reported_on_its_line():
    problems = problems_of('bot = "yes"\n[matrix]\nuser_id = "@hub:x"\npassword = "p"\n')
    assert problems == ["config:1: [bot] must be a table"]


def test_invalid_toml_names_the_line():
    problems = problems_of('[matrix]\nuser_id = "@hub:x"\npassword = "unterminated\n[bot]\n')
    assert len(problems) == 1
    assert "not valid TOML" in problems[0] and "line 3" in problems[0]


def test_secrets_from_the_environment_win_over_the_file():
    env = {
        "LEADERS_HUB_MATRIX_PASSWORD": "from-env-password",
        "LEADERS_HUB_MATRIX_ACCESS_TOKEN": "from-env-token",
        "LEADERS_HUB_DATABASE_URL": "postgresql+asyncpg://hub:pw@127.0.0.1:5432/hub",
    }
    config = parse_config(VALID, None, env=env)
    assert config["matrix"]["password"] == "from-env-password"
    assert config["matrix"]["access_token"] == "from-env-token"
    assert config.database_url == "postgresql+asyncpg://hub:pw@127.0.0.1:5432/hub"
    # With the password only in the environment, the file needs none.
    no_password = VALID.replace(f'password = "{SECRET_PASSWORD}"\n', "")
    assert parse_config(no_password, None, env={"LEADERS_HUB_MATRIX_PASSWORD": "x"})["matrix"]["password"] == "x"
    assert "password or access_token" in "\n".join(problems_of(no_password))
    # A bad URL from the environment is still checked.
    problems = problems_of(VALID, env={"LEADERS_HUB_DATABASE_URL": "mysql://u:p@h/db"})
    assert problems == ["config: [database] url (from $LEADERS_HUB_DATABASE_URL) must start with "
                        "sqlite+aiosqlite:// or postgresql+asyncpg://"]


def test_redacted_hides_every_secret():
    env = {"LEADERS_HUB_MATRIX_ACCESS_TOKEN": SECRET_TOKEN, "LEADERS_HUB_MATRIX_PICKLE_KEY": "pickle-secret",
           "LEADERS_HUB_DATABASE_URL": f"postgresql+asyncpg://hub:{SECRET_DB_PASSWORD}@127.0.0.1/hub"}
    config = parse_config(VALID, None, env=env)
    shown = config.redacted()
    text = repr(shown)
    for secret in (SECRET_PASSWORD, SECRET_TOKEN, "pickle-secret", SECRET_DB_PASSWORD):
        assert secret not in text
    assert shown["matrix"]["password"] == "***"
    assert shown["database"]["url"] == "postgresql+asyncpg://hub:***@127.0.0.1/hub"
    assert shown["matrix"]["user_id"] == "@hub:example.org"  # not a secret
    assert config["matrix"]["password"] == SECRET_PASSWORD  # the config itself is untouched


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml", env={})
    assert "no such file" in caught.value.problems[0] and "config.example.toml" in caught.value.problems[0]


# --- leaders-hub check-config, as the operator runs it -------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}
    env.update(extra)
    return env


def check_config(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "check-config", "-c", str(path)],
                          capture_output=True, text=True, cwd=path.parent, env=clean_env(**env), timeout=60)


def test_check_config_lists_every_problem_line_by_line_and_fails(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(BROKEN.replace("password = 12345678", f"password = [\"{SECRET_PASSWORD}\"]"))
    result = check_config(path)
    assert result.returncode == 1
    out = result.stdout
    for line, key, words in BROKEN_EXPECTED:
        assert re.search(rf"^{re.escape(str(path))}:{line}: {re.escape(key)} .*{re.escape(words)}", out, re.M), out
    assert out.strip().endswith("13 problem(s) found.")
    for secret in (SECRET_PASSWORD, SECRET_DB_PASSWORD):
        assert secret not in result.stdout + result.stderr


def test_check_config_says_ok_for_a_good_file_and_never_prints_secrets(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(VALID)
    result = check_config(path, LEADERS_HUB_MATRIX_ACCESS_TOKEN=SECRET_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{path}: OK (2 leader room(s), 1 admin(s))."
    assert SECRET_PASSWORD not in result.stdout + result.stderr
    assert SECRET_TOKEN not in result.stdout + result.stderr


def test_check_config_on_invalid_toml_and_on_a_missing_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[matrix]\nuser_id = "@hub:x"\n\npassword = \n')
    result = check_config(path)
    assert result.returncode == 1
    assert "not valid TOML" in result.stdout and "line 4" in result.stdout
    missing = check_config(tmp_path / "absent.toml")
    assert missing.returncode == 1 and "no such file" in missing.stdout


# --- config.example.toml documents every key ---------------------------------------------------


def test_the_example_config_documents_every_key_with_its_default():
    text = EXAMPLE.read_text(encoding="utf-8")
    values = tomllib.loads(text)
    lines = text.splitlines()
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in lines
        for key, spec in keys.items():
            at = [i for i, line in enumerate(lines) if re.match(rf"^#?\s*{key}\s*=", line)]
            assert at, f"[{section}] {key} is not in config.example.toml"
            assert lines[at[0] - 1].startswith("#"), f"[{section}] {key} has no comment above it"
            if key in values.get(section, {}) and key not in ("password", "user_id"):
                assert values[section][key] == spec.default, f"[{section}] {key} differs from the default"
            elif key not in values.get(section, {}):
                assert spec.default is None, f"[{section}] {key} has a default, so it should be set"
    assert values["matrix"]["password"] == "change-me"  # a placeholder, never a real password


def test_the_example_config_passes_check_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"))
    result = check_config(path)
    assert result.returncode == 0, result.stdout
    assert "OK" in result.stdout
    # Without its password line, the password from the environment is enough.
    path.write_text("\n".join(l for l in EXAMPLE.read_text().splitlines() if not l.startswith("password")))
    assert check_config(path).returncode == 1
    assert check_config(path, LEADERS_HUB_MATRIX_PASSWORD="from-the-environment").returncode == 0
