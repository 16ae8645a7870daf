"""The operator's configuration: a TOML file, secrets optionally from the environment.

Every key is declared once in ``SCHEMA`` (type, default, check, help); loading
collects *every* problem with the key and the line it is on, so that
``leaders-hub check-config`` can list them all at once instead of failing on
the first.
"""

from __future__ import annotations

import copy
import os
import sys
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import LANGUAGES

USER_ID_RE = re.compile(r"^@[^:\s]+:[^\s]+$")
ROOM_RE = re.compile(r"^(![^\s]+|#[^\s:]+:[^\s]+)$")  # a room id, or an alias with its server
SERVER_RE = re.compile(r"^[^\s/@:]+(:\d+)?$")

ENV_SECRETS = {
    ("matrix", "password"): "LEADERS_HUB_MATRIX_PASSWORD",
    ("matrix", "access_token"): "LEADERS_HUB_MATRIX_ACCESS_TOKEN",
    ("matrix", "pickle_key"): "LEADERS_HUB_MATRIX_PICKLE_KEY",
    ("database", "url"): "LEADERS_HUB_DATABASE_URL",
}
SECRET_KEYS = {("matrix", "password"), ("matrix", "access_token"), ("matrix", "pickle_key")}
# Keys whose value is never repeated in an error message (the database URL may hold a password).
NEVER_SHOWN = SECRET_KEYS | {("database", "url")}


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder of zones
        return "is not a known IANA time zone (e.g. Europe/Warsaw)"
    return None


def _url(value: str) -> str | None:
    if not re.match(r"^https?://[^\s/]+", value):
        return "must be an http:// or https:// address"
    return None


def _public_url(value: str) -> str | None:
    """Where people reach the HTTP server: an http(s) address with a host, and no query or fragment
    (paths such as the feed are added to it)."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"[\s<>\"']", value):
        return "must be an http:// or https:// address, such as https://hub.example.org"
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return "must be an address without ?query or #fragment, such as https://hub.example.org/leaders"
    return None


def _user_ids(values: list) -> str | None:
    bad = [v for v in values if not isinstance(v, str) or not USER_ID_RE.match(v)]
    return f"has entries that are not Matrix user ids (@name:server): {bad}" if bad else None


def _rooms(values: list) -> str | None:
    bad = [v for v in values if not isinstance(v, str) or not ROOM_RE.match(v)]
    return f"has entries that are not room ids (!…) or aliases (#…:server): {bad}" if bad else None


def _servers(values: list) -> str | None:
    bad = [v for v in values if not isinstance(v, str) or not SERVER_RE.match(v)]
    return f"has entries that are not server names (example.org): {bad}" if bad else None


def _user_id(value: str) -> str | None:
    return None if USER_ID_RE.match(value) else "must be a Matrix user id like @hub:example.org"


def _db_url(value: str) -> str | None:
    if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
        return "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
    return None


def _range(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"
    return check


def _choice(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of: {', '.join(choices)}"
    return check


# For the features' own config sections (``CommandSet(config=…)``).
in_range, one_of = _range, _choice


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None
    required: bool = False


SCHEMA: dict[str, dict[str, Key]] = {
    "matrix": {
        "homeserver": Key(str, "http://127.0.0.1:8008", "homeserver base URL", _url),
        "user_id": Key(str, None, "the bot's Matrix user id", _user_id, required=True),
        "password": Key(str, None, "used once to log in (or LEADERS_HUB_MATRIX_PASSWORD)"),
        "access_token": Key(str, None, "instead of a password (or LEADERS_HUB_MATRIX_ACCESS_TOKEN)"),
        "device_id": Key(str, None, "reuse this device id at the first login"),
        "device_name": Key(str, "Leaders Hub", "display name of the bot's device"),
        "store_path": Key(str, "data/store", "session, device and encryption keys (keep private)"),
        "pickle_key": Key(str, None, "secret that encrypts the key store (or LEADERS_HUB_MATRIX_PICKLE_KEY)"),
        "encryption": Key(bool, True, "answer in end-to-end-encrypted rooms"),
        "cross_signing": Key(bool, True, "create or restore the account's cross-signing identity and sign this "
                             "device with it (Element talks only to signed devices)"),
        "recovery_key_file": Key(str, "recovery-key.txt", "where the recovery key of the account's secret storage "
                                 "is written once (outside store_path; or LEADERS_HUB_MATRIX_RECOVERY_KEY)"),
        "share_keys_with": Key(str, "all", "which devices get the keys of the bot's encrypted messages: all, or only "
                               "cross-signed ones (as Element does)", _choice("all", "cross-signed")),
        "rooms": Key(list, [], "leader rooms the bot joins and serves (ids or aliases)", _rooms),
        "allowed_servers": Key(list, [], "homeservers whose users may invite the bot (besides admins)",
                               _servers),
        "sync_timeout_ms": Key(int, 30000, "long-poll timeout of /sync", _range(0, 300000)),
        "standby_key_check_seconds": Key(int, 60, "how often a standby asks the homeserver how many one-time keys "
                                         "its device has left, and uploads more", _range(5, 86400)),
    },
    "bot": {
        "prefix": Key(str, "!", "command prefix", lambda v: None if v and not v.isspace() and len(v) <= 5 else "must be 1–5 visible characters"),
        "language": Key(str, "pl", "default reply language", _choice(*LANGUAGES)),
        "timezone": Key(str, "Europe/Warsaw", "default time zone (IANA name)", _timezone),
        "admins": Key(list, [], "user ids with every right", _user_ids),
        "catch_up_seconds": Key(int, 600, "answer commands sent while down if younger than this", _range(0, 7 * 86400)),
        "max_concurrent_commands": Key(int, 16, "commands handled at the same time", _range(1, 1000)),
    },
    "database": {
        "url": Key(str, "sqlite+aiosqlite:///data/hub.db", "SQLAlchemy URL", _db_url),
    },
    "http": {
        "enabled": Key(bool, True, "serve /healthz, /metrics and the public pages"),
        "host": Key(str, "127.0.0.1", "address to bind"),
        "port": Key(int, 8080, "port to bind (0 = any free port)", _range(0, 65535)),
        "public_url": Key(str, None, "the address people reach this server at; the feed's subscription links "
                          "are given from it (none when unset)", _public_url),
    },
    "logging": {
        "level": Key(str, "INFO", "log level", _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    },
}


class ConfigError(Exception):
    """A config that cannot be used; ``problems`` lists every one found."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Config:
    values: dict[str, dict[str, Any]]
    path: Path | None = None
    base_dir: Path = field(default_factory=Path.cwd)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    # Convenience accessors used all over the runtime.
    @property
    def prefix(self) -> str:
        return self.values["bot"]["prefix"]

    @property
    def admins(self) -> set[str]:
        return set(self.values["bot"]["admins"])

    @property
    def language(self) -> str:
        return self.values["bot"]["language"]

    @property
    def database_url(self) -> str:
        return self.values["database"]["url"]

    def redacted(self) -> dict[str, dict[str, Any]]:
        """The values with secrets hidden, for logs."""
        out = {s: dict(v) for s, v in self.values.items()}
        for section, key in SECRET_KEYS:
            if out[section].get(key):
                out[section][key] = "***"
        url = out["database"]["url"]
        out["database"]["url"] = re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)
        return out


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """The line where ``key`` is set inside ``[section]`` (for error messages).

    Without ``key``, or when the key is not in the file (a required key left out), the line of
    the section's header, so that every problem points somewhere.
    """
    current = None
    section_line = None
    quoted = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')" if key else None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[+\s*([^\]]+?)\s*\]", stripped)
        if header:
            current = header.group(1)
            if current == section and section_line is None:
                section_line = number
            elif key and current == f"{section}.{key}":
                return number
        elif current is None and re.match(rf"^{re.escape(section)}\s*[=.]", stripped):
            section_line = section_line or number  # `matrix = ...` or `matrix.key = ...` at the top
        elif key and current == section and re.match(rf"^{quoted}\s*[=.]", stripped):
            return number
    return section_line


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list", float: "a number"}
    return names.get(t, str(t)) if not isinstance(t, tuple) else " or ".join(names.get(x, str(x)) for x in t)


def parse_config(text: str, path: Path | None = None, env: dict[str, str] | None = None,
                 sections: dict[str, dict[str, Key]] | None = None) -> Config:
    """``sections``: the config sections the features declare (``bot.compose.config_sections``), checked
    like the runtime's own."""
    schema = {**SCHEMA, **(sections or {})}
    environment: Mapping[str, str] = os.environ if env is None else env
    where = str(path) if path else "config"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: not valid TOML: {exc}"]) from None

    problems: list[tuple[int | None, str]] = []
    mistyped: set[tuple[str, str]] = set()

    def problem(section: str, key: str | None, message: str, from_env: str | None = None) -> None:
        line = None if from_env else _line_of(text, section, key)
        at = f"{where}:{line}" if line else where
        name = f"[{section}] {key}" if key else f"[{section}]"
        if from_env:  # the file's line is not where the value came from
            name += f" (from ${from_env})"
        problems.append((line, f"{at}: {name} {message}"))

    values: dict[str, dict[str, Any]] = {}
    for section, value in raw.items():
        if section not in schema:
            problem(section, None, f"is not a known section (known: {', '.join(schema)})")
        elif not isinstance(value, dict):
            problem(section, None, "must be a table")
    for section, keys in schema.items():
        given = raw.get(section, {}) if isinstance(raw.get(section, {}), dict) else {}
        values[section] = {}
        for key in given:
            if key not in keys:
                problem(section, key, f"is not a known key (known: {', '.join(keys)})")
        for key, spec in keys.items():
            value = given.get(key, copy.deepcopy(spec.default))
            env_name = ENV_SECRETS.get((section, key))
            from_env = None
            if env_name and environment.get(env_name):
                value, from_env = environment[env_name], env_name
            if value is None:
                if spec.required:
                    problem(section, key, "is required")
                values[section][key] = None
                continue
            ok_type = isinstance(value, spec.type) and not (spec.type is int and isinstance(value, bool))
            if not ok_type:
                shown = "" if (section, key) in NEVER_SHOWN else f", not {value!r}"
                problem(section, key, f"must be {_type_name(spec.type)}{shown}", from_env)
                mistyped.add((section, key))
                values[section][key] = copy.deepcopy(spec.default)
                continue
            if spec.check:
                message = spec.check(value)
                if message:
                    problem(section, key, message, from_env)
            values[section][key] = value
    matrix = values["matrix"]
    if matrix.get("store_path") and matrix.get("recovery_key_file"):
        store_dir = _resolve(path, matrix["store_path"]).resolve()
        key_file = _resolve(path, matrix["recovery_key_file"]).resolve()
        if key_file == store_dir or store_dir in key_file.parents:
            problem("matrix", "recovery_key_file", "must be outside store_path (a lost store must not take the "
                    "recovery key with it)")
    credential_mistyped = bool(mistyped & {("matrix", "password"), ("matrix", "access_token")})
    if not matrix.get("password") and not matrix.get("access_token") and not credential_mistyped:
        store = matrix.get("store_path")
        session_file = _resolve(path, store) / "session.json" if store else None
        if not (session_file and session_file.exists()):
            problem("matrix", "password",
                    "or access_token is needed for the first login (no stored session in store_path yet)")
    if problems:
        # Line by line, as the operator reads the file; problems without a line last.
        problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
        raise ConfigError([message for _line, message in problems])
    base = path.parent if path else Path.cwd()
    return Config(values=values, path=path, base_dir=base)


def _resolve(config_path: Path | None, value: str) -> Path:
    p = Path(value)
    if p.is_absolute():
        return p
    return (config_path.parent if config_path else Path.cwd()) / p


DEMO_CONFIG = Path("demo-data") / "config.toml"  # what ./demo.sh (leaders-hub demo) writes


def find_config(explicit: str | None) -> Path:
    """``-c`` first, then ./config.toml, then $LEADERS_HUB_CONFIG, then the demo's ./demo-data/config.toml
    (so the README's examples work as written in a clone after ./demo.sh; said on stderr)."""
    if explicit:
        return Path(explicit)
    local = Path("config.toml")
    if local.exists():
        return local
    env = os.environ.get("LEADERS_HUB_CONFIG")
    if env:
        return Path(env)
    if DEMO_CONFIG.exists():
        print(f"(no ./config.toml and no $LEADERS_HUB_CONFIG: using the demo's {DEMO_CONFIG})", file=sys.stderr)
        return DEMO_CONFIG
    return local


def load_config(path: Path, env: dict[str, str] | None = None,
                sections: dict[str, dict[str, Key]] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (give one with -c, or copy config.example.toml)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read: {exc}"]) from None
    return parse_config(text, path.resolve(), env, sections)


def resolve_path(config: Config, value: str) -> Path:
    """A path from the config, relative to the config file's folder."""
    return _resolve(config.path, value)


def sqlite_url_resolved(config: Config) -> str:
    """Make a relative SQLite path relative to the config file, and create its folder."""
    url = config.database_url
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        db_path = resolve_path(config, url[len(prefix):])
        db_path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(db_path)
    if url.startswith(prefix + "/"):
        Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
    return url


def cache_dir(config: Config) -> Path:
    """``cache/`` beside the Matrix store (``data/cache`` by default): files the bot rebuilds when they are
    lost, such as the search's dictionaries. Needs no backup."""
    return resolve_path(config, config["matrix"]["store_path"]).parent / "cache"
