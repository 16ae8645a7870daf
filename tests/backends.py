"""The database backends the suite runs on: SQLite files, and databases on one real PostgreSQL server.

A test (or fixture) that uses a database asks for ``db_url`` (a fresh database at the head
revision), ``empty_db_url`` (a fresh database never migrated, as at an operator's first start) or
``backend`` (to make several: ``backend.create(folder)``). Each such test runs once per selected
backend, with ``[sqlite]`` or ``[postgresql]`` in its id; a test that needs no database runs once.

The backends are chosen with ``--backend sqlite`` / ``--backend postgresql`` (repeatable) or
``$LEADERS_HUB_TEST_BACKENDS`` (``sqlite,postgresql``); both by default. The PostgreSQL server
(``tests.pg``) starts at the first test that needs it and stops at the end of the session; without
its binaries those tests are skipped, saying why.

A fresh database at the head revision is a copy of one migrated once per session (a file copy, or
PostgreSQL's ``CREATE DATABASE … TEMPLATE``); each PostgreSQL database is dropped after its test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage import db
from tests.pg import PostgresServer

NAMES = ("sqlite", "postgresql")
ENV = "LEADERS_HUB_TEST_BACKENDS"


def selected(option: list[str] | None) -> list[str]:
    """The backends to run on: ``--backend`` options, else ``$LEADERS_HUB_TEST_BACKENDS``, else both."""
    chosen = option or os.environ.get(ENV, "").replace(",", " ").split() or list(NAMES)
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        raise ValueError(f"unknown database backend {', '.join(unknown)} (choose from {', '.join(NAMES)})")
    return [name for name in NAMES if name in chosen]


def _migrate(url: str) -> None:
    """As ``leaders-hub run`` does before it starts: the migrations in a child process."""
    done = subprocess.run([sys.executable, "-m", "storage.migrations"], env={**os.environ, db.MIGRATE_URL_ENV: url},
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"migrating the template database failed:\n{done.stdout}{done.stderr}")


class Backend:
    name: str

    def create(self, folder: Path, migrated: bool = True) -> str:
        """A new database (at the head revision unless ``migrated=False``); its SQLAlchemy URL."""
        raise NotImplementedError

    def drop(self, url: str) -> None:
        """Nothing of the database is left (a SQLite file stays with its test's folder)."""


class SQLite(Backend):
    name = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder
        self._template: Path | None = None
        self._made: dict[Path, int] = {}

    def create(self, folder: Path, migrated: bool = True) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        n = self._made[folder] = self._made.get(folder, 0) + 1
        path = folder / ("hub.db" if n == 1 else f"hub-{n}.db")
        if migrated:
            if self._template is None:
                template = self.folder / "template.db"
                _migrate(f"sqlite+aiosqlite:///{template}")
                self._template = template
            shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgreSQL(Backend):
    name = "postgresql"

    def __init__(self, server: PostgresServer):
        self.server = server
        self._template: str | None = None

    def create(self, folder: Path, migrated: bool = True) -> str:
        if not migrated:
            return self.server.create_database("hub")
        if self._template is None:
            url = self.server.create_database("template")
            _migrate(url)
            self._template = url.rsplit("/", 1)[1]
        return self.server.create_database("hub", template=self._template)

    def drop(self, url: str) -> None:
        self.server.drop_database(url)


async def rows(url: str, sql: str, **params: Any) -> list[tuple]:
    """What a query finds in the database at ``url``, as plain tuples (times as the driver gives them:
    text from SQLite, ``datetime`` from PostgreSQL; see ``as_datetime``)."""
    engine = db.make_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql), params)]
    finally:
        await engine.dispose()


async def execute(url: str, sql: str, **params: Any) -> None:
    """One statement in its own committed transaction."""
    engine = db.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


def as_datetime(value: Any):
    """A stored time read by ``rows`` as an aware UTC ``datetime`` (SQLite keeps them as naive UTC text)."""
    from datetime import datetime, timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
