"""Database engine, sessions and migrations.

SQLite (aiosqlite, WAL) is the embedded default; PostgreSQL (asyncpg) runs the
same code. Migrations are Alembic's, applied programmatically on the
connection we already hold, so ``leaders-hub run`` and ``db upgrade`` need no
alembic.ini.

Alembic costs ~8 MB of memory (with Mako, which loads Pygments when it is installed), which
a long-running process keeps once imported. So ``upgrade`` imports it only when there is
something to migrate, which it tells without Alembic (the ``alembic_version`` table against
``storage.migrations.HEAD_REVISION``), and ``leaders-hub run`` migrates in a child process
(``upgrade_in_child``): the bot itself never loads Alembic.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.migrations import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
MIGRATE_URL_ENV = "LEADERS_HUB_MIGRATE_URL"  # what ``python -m storage.migrations`` migrates


def sqlite_pragmas(dbapi_connection, _record=None) -> None:
    """Every SQLite connection of the bot (the engine's, and the hot path's own, see ``storage.hotpath``)."""
    cursor = dbapi_connection.cursor()
    # WAL lets the web page read while the bot writes; NORMAL is durable
    # across process crashes (only an OS crash can lose the last commit).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # only when migrating: see the module docstring

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` on this engine (Alembic is loaded only if needed)."""
    if revision == "head" and await current_revision(engine) == HEAD_REVISION:
        return

    def run(connection) -> None:
        from alembic import command  # only when migrating: see the module docstring

        cfg = _alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def upgrade_in_child(url: str) -> None:
    """Bring the database at ``url`` to the head revision in a child process when it is behind, so
    that this process does not keep Alembic in memory. Raises RuntimeError with the child's output."""
    engine = make_engine(url)
    try:
        if await current_revision(engine) == HEAD_REVISION:
            return
    finally:
        await engine.dispose()
    # The URL may hold a password: it goes in the child's environment, not on its command line.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "storage.migrations", env={**os.environ, MIGRATE_URL_ENV: url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"migrating the database failed: {output.decode(errors='replace').strip()[-2000:]}")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None for a database never migrated), read from
    Alembic's version table without Alembic."""

    def run(connection) -> str | None:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(versions) > 1:  # as Alembic's MigrationContext.get_current_revision
            raise RuntimeError(f"the {VERSION_TABLE} table has more than one head: {sorted(versions)}")
        return versions[0] if versions else None

    async with engine.connect() as conn:
        return await conn.run_sync(run)
