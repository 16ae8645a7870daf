"""storage.db loads Alembic only when there is something to migrate, and ``leaders-hub run`` migrates
in a child process; what tells them so (storage.migrations.HEAD_REVISION) must match the migrations."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import db
from storage.migrations import HEAD_REVISION
from tests.conftest import ROOT


def test_head_revision_is_alembics_head():
    """A new migration must update storage.migrations.HEAD_REVISION (else a restart would skip it)."""
    script = ScriptDirectory.from_config(db._alembic_config())
    assert script.get_heads() == [HEAD_REVISION]


async def test_current_revision_is_read_without_alembic(empty_db_url):
    engine = db.make_engine(empty_db_url)
    try:
        assert await db.current_revision(engine) is None
        await db.upgrade(engine, "0002_calculator")
        assert await db.current_revision(engine) == "0002_calculator"
        await db.upgrade(engine)  # behind: Alembic takes it from there
        assert await db.current_revision(engine) == HEAD_REVISION
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
        assert await db.current_revision(engine) is None
    finally:
        await engine.dispose()


def _upgrade_in_a_new_process(url: str, revision: str = "head") -> str:
    code = textwrap.dedent(f"""
        import asyncio, sys
        from storage import db

        async def main():
            engine = db.make_engine({url!r})
            await db.upgrade(engine, {revision!r})
            print(await db.current_revision(engine), "alembic" in sys.modules)
            await engine.dispose()

        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_alembic_is_imported_only_to_migrate(make_db):
    new = make_db(migrated=False)
    assert _upgrade_in_a_new_process(new) == f"{HEAD_REVISION} True"  # a new database: migrated
    assert _upgrade_in_a_new_process(new) == f"{HEAD_REVISION} False"  # at the head: nothing to load
    old = make_db(migrated=False)
    assert _upgrade_in_a_new_process(old, "0002_calculator") == "0002_calculator True"
    assert _upgrade_in_a_new_process(old) == f"{HEAD_REVISION} True"  # behind the head: migrated


def test_the_bot_process_migrates_in_a_child_and_never_loads_alembic(empty_db_url):
    url = empty_db_url
    code = textwrap.dedent(f"""
        import asyncio, sys
        from storage import db

        async def main():
            await db.upgrade_in_child({url!r})
            engine = db.make_engine({url!r})
            print(await db.current_revision(engine), "alembic" in sys.modules)
            await engine.dispose()

        asyncio.run(main())
    """)
    for _ in range(2):  # a new database, then one at the head (no child at all)
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{HEAD_REVISION} False"


async def test_a_failed_migration_in_the_child_says_why(db_url):
    url = db_url
    engine = db.make_engine(url)
    try:
        async with engine.begin() as conn:  # a database from a newer version of the bot
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    finally:
        await engine.dispose()
    with pytest.raises(RuntimeError, match="migrating the database failed: .*9999_future"):
        await db.upgrade_in_child(url)


def test_db_upgrade_prints_one_line_and_logs_migrations_only_when_asked(tmp_path, make_db):
    config = tmp_path / "config.toml"

    def upgrade(*extra: str) -> subprocess.CompletedProcess:
        config.write_text(f'[matrix]\nuser_id = "@hub:localhost"\npassword = "x"\n'
                          f'[database]\nurl = "{make_db(migrated=False)}"\n')  # a new database each time
        return subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "-c", str(config), *extra],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)

    quiet = upgrade()
    assert quiet.returncode == 0, quiet.stderr
    assert (quiet.stdout, quiet.stderr) == (f"database is at revision {HEAD_REVISION}\n", "")
    verbose = upgrade("--verbose")
    assert "Running upgrade" in verbose.stderr and verbose.stdout.endswith(f"revision {HEAD_REVISION}\n")
