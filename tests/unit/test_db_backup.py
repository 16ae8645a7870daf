"""``leaders-hub db backup`` / ``db restore`` / ``db copy``: a hub's database out to a file and back, on each
backend, and moved from SQLite to PostgreSQL with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage import backup, db
from storage.archive import ArchiveRepository, import_records
from storage.audit import AuditRepository
from storage.migrations import HEAD_REVISION
from storage.models import Base
from storage.runtime import RoleRepository, SettingsRepository
from storage.search import STARTER_ARCHIVE
from tests.backends import execute, rows

TABLES = len(Base.metadata.tables)  # every table of the schema is in a backup, empty or not

ROOT = Path(__file__).resolve().parents[2]
BASE = {"description": "Klub sąsiedzki dla seniorów: spotkania co tydzień.", "areas": ["loneliness"]}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def config_for(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[matrix]\nuser_id = "@hub:localhost"\npassword = "x"\n[database]\nurl = "{url}"\n')
    return path


async def fill(url: str) -> None:
    """A little of everything a hub keeps: solutions published, waiting and rejected, a setting, a role, a case."""
    engine = db.make_engine(url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            records = [{"id": f"x-{s}", "title_original": f"Klub {s}", **BASE} for s in ("ok", "wait", "no")]
            await import_records(session, "in.json", json.dumps(records))
            repo = ArchiveRepository(session)
            ArchiveRepository.decide(await repo.get("x-ok"), "approved", "@mod:localhost")
            ArchiveRepository.decide(await repo.get("x-no"), "rejected", "@mod:localhost", "a duplicate of #12")
            await SettingsRepository(session).set_language("@anna:localhost", "en")
            await RoleRepository(session).grant("@ola:localhost", "coordinator", "@admin:localhost")
            await AuditRepository(session).record(actor="@mod:localhost", action="kick", target="@spam:localhost",
                                                  room_id="!room:localhost", reason="spam")
            await session.commit()
    finally:
        await engine.dispose()


async def snapshot(url: str, folder: Path) -> list[str]:
    """Every row of the database at ``url``, as a backup writes them (without its header)."""
    engine = db.make_engine(url)
    try:
        path = folder / f"snapshot-{len(list(folder.glob('snapshot-*')))}.jsonl"
        await backup.backup(engine, path)
    finally:
        await engine.dispose()
    return path.read_text().splitlines()[1:]


async def test_a_backup_restores_every_row_and_ids_go_on_after_it(tmp_path, make_db):
    first = make_db()
    await fill(first)
    file = tmp_path / "hub-backup.jsonl.gz"
    done = cli("db", "backup", str(file), "-c", str(config_for(tmp_path / "a", first)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Backed up 6 row(s) of {TABLES} table(s) at revision {HEAD_REVISION} to {file}." in done.stdout
    assert ["solutions", "3"] in [line.split() for line in done.stdout.splitlines()]

    second = make_db(migrated=False)  # a new server: the database was never migrated
    done = cli("db", "restore", str(file), "-c", str(config_for(tmp_path / "b", second)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (f"Restored 6 row(s) of {TABLES} table(s) from {file} (taken at revision "
                                            f"{HEAD_REVISION}; the database is now at revision {HEAD_REVISION}).")
    assert await snapshot(second, tmp_path) == await snapshot(first, tmp_path)

    # What the hub stores next is numbered after what was restored (PostgreSQL's sequences moved on).
    engine = db.make_engine(second)
    try:
        async with db.make_sessionmaker(engine)() as session:
            added = await ArchiveRepository(session).add({"title_original": "Nowy", **BASE}, "pending")
            case = await AuditRepository(session).record(actor="@mod:localhost", action="ban", target="@x:localhost")
            await session.commit()
        assert added.number == 4 and added.record_id == "lh-4"
        assert case.id == 2
    finally:
        await engine.dispose()


async def test_restore_refuses_a_database_that_is_not_empty_unless_forced(tmp_path, make_db):
    url = make_db()
    await fill(url)
    config = config_for(tmp_path, url)
    file = tmp_path / "backup.jsonl"
    assert cli("db", "backup", str(file), "-c", str(config), cwd=tmp_path).returncode == 0
    await execute(url, "DELETE FROM user_settings")  # changed after the backup

    refused = cli("db", "restore", str(file), "-c", str(config), cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "leaders-hub db restore: the target database is not empty (5 row(s): audit_log 1, role_grants 1, "
        "solutions 3); nothing was changed. Give --force to delete everything in it and load the backup")
    assert await rows(url, "SELECT count(*) FROM user_settings") == [(0,)]

    forced = cli("db", "restore", str(file), "--force", "-c", str(config), cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[-1].startswith(f"Restored 6 row(s) of {TABLES} table(s)")
    assert await rows(url, "SELECT user_id, language FROM user_settings") == [("@anna:localhost", "en")]


async def test_restore_migrates_an_older_backup_and_refuses_a_newer_one(tmp_path, make_db):
    old = make_db(migrated=False)
    engine = db.make_engine(old)
    try:
        await db.upgrade(engine, "0005_archive")  # a hub of an older version of Leaders Hub
    finally:
        await engine.dispose()
    await execute(old, "INSERT INTO solutions (record_id, title, record, status, created_at, updated_at) VALUES "
                  "('x-old', 'Klub', '{\"id\": \"x-old\"}', 'rejected', '2025-01-02 03:04:05', '2025-01-02 03:04:05')")
    file = tmp_path / "old.jsonl"
    assert cli("db", "backup", str(file), "-c", str(config_for(tmp_path / "old", old)), cwd=tmp_path).returncode == 0

    new = make_db(migrated=False)
    config = config_for(tmp_path / "new", new)
    done = cli("db", "restore", str(file), "-c", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # The backup has the 15 tables of revision 0005 (room_settings and public_names came later).
    assert done.stdout.splitlines()[-1] == (f"Restored 1 row(s) of 15 table(s) from {file} (taken at revision "
                                            f"0005_archive; the database is now at revision {HEAD_REVISION}).")
    assert await rows(new, "SELECT record_id, status, decisions FROM solutions") == [("x-old", "rejected", None)]

    lines = file.read_text().splitlines()
    future = tmp_path / "future.jsonl"
    future.write_text("\n".join([lines[0].replace("0005_archive", "0099_future"), *lines[1:]]) + "\n")
    refused = cli("db", "restore", str(future), "--force", "-c", str(config), cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("leaders-hub db restore: the backup is at revision 0099_future, which this "
                                      "version of Leaders Hub does not know (a newer one made it): upgrade Leaders "
                                      "Hub, then restore")
    assert await rows(new, "SELECT record_id FROM solutions") == [("x-old",)]  # nothing was changed

    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-1]) + "\n")
    refused = cli("db", "restore", str(cut), "--force", "-c", str(config), cwd=tmp_path)
    assert refused.returncode == 1 and "is cut short" in refused.stderr


async def test_a_backup_taken_while_the_hub_writes_holds_one_moment(tmp_path, db_url):
    """What is committed while a backup runs is in none of its tables (one snapshot), on both backends."""
    await fill(db_url)
    writes: list[str] = []

    async def meanwhile(table: str) -> None:  # the bot commits between the backup's reads of two tables
        if not writes:
            writes.append(table)
            await execute(db_url, "INSERT INTO user_settings (user_id, language) VALUES ('@new:localhost', 'pl')")
            await execute(db_url, "UPDATE solutions SET status = 'approved' WHERE record_id = 'x-wait'")

    engine = db.make_engine(db_url)
    try:
        report = await backup.backup(engine, tmp_path / "live.jsonl", on_table=meanwhile)
    finally:
        await engine.dispose()
    assert writes == ["announcements"]  # before the first table was read
    kept = tables_in(tmp_path / "live.jsonl")
    assert [r["user_id"] for r in kept["user_settings"]] == ["@anna:localhost"]
    assert sorted(r["status"] for r in kept["solutions"]) == ["approved", "pending", "rejected"]
    assert report.rows["user_settings"] == 1 and report.rows["solutions"] == 3
    # The database itself has both writes.
    assert await rows(db_url, "SELECT count(*) FROM user_settings") == [(2,)]
    assert await rows(db_url, "SELECT status FROM solutions WHERE record_id = 'x-wait'") == [("approved",)]


def tables_in(path: Path) -> dict[str, list[dict]]:
    """The rows of each table in a backup file, as dicts of column → value."""
    found: dict[str, list[dict]] = {}
    columns: list[str] = []
    for line in path.read_text().splitlines()[1:]:
        value = json.loads(line)
        if isinstance(value, list):
            found[table].append(dict(zip(columns, value)))
        elif "table" in value:
            table, columns = value["table"], value["columns"]
            found[table] = []
    return found

def _published(config: Path, cwd: Path) -> list[str]:
    found = cli("archive", "search", "klub", "--json", "--limit", "50", "-c", str(config), cwd=cwd)
    assert found.returncode == 0, found.stderr
    return [r["id"] for r in json.loads(found.stdout)["results"]]


async def test_copy_moves_a_hub_from_sqlite_to_postgresql_with_nothing_lost(tmp_path, postgres_server):
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    source = config_for(tmp_path / "sqlite", source_url)
    loaded = cli("archive", "import", str(STARTER_ARCHIVE), "--publish", "-c", str(source), cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    await fill(source_url)
    searched = _published(source, tmp_path)
    assert "x-ok" in searched and "x-wait" not in searched and "x-no" not in searched

    target_url = postgres_server.create_database("moved")
    done = cli("db", "copy", "--from", source_url, "--to", target_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["table", "from", "to"]
    assert ["solutions", "39", "39"] in [line.split() for line in lines]
    assert ["user_settings", "1", "1"] in [line.split() for line in lines]
    assert lines[-1] == (f"Copied 42 row(s) of {TABLES} table(s) from {source_url} to {target_url} (revision "
                         f"{HEAD_REVISION}; the target is now at revision {HEAD_REVISION}); every table's rows match.")

    target = config_for(tmp_path / "postgresql", target_url)
    assert _published(target, tmp_path) == searched  # the same search finds the same, in the same order
    assert await rows(target_url, "SELECT record_id, status, reject_reason FROM solutions WHERE record_id "
                      "IN ('x-wait', 'x-no') ORDER BY record_id") == [("x-no", "rejected", "a duplicate of #12"),
                                                                     ("x-wait", "pending", None)]
    assert await rows(target_url, "SELECT language FROM user_settings") == [("en",)]

    again = cli("db", "copy", "--from", source_url, "--to", target_url, cwd=tmp_path)
    assert again.returncode == 1 and "the target database is not empty (42 row(s)" in again.stderr
    missing = cli("db", "copy", "--from", f"sqlite+aiosqlite:///{tmp_path / 'nope.db'}", "--to", target_url,
                  cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"leaders-hub db copy: there is no database at {tmp_path / 'nope.db'}"
    assert not (tmp_path / "nope.db").exists()
    down = cli("db", "copy", "--from", source_url, "--to", "postgresql+asyncpg://hub:secret@127.0.0.1:1/hub",
               cwd=tmp_path)
    assert down.returncode == 1 and "Traceback" not in down.stderr and "secret" not in down.stderr
    assert down.stderr.startswith("leaders-hub db copy: ConnectionRefusedError: ") and down.stderr.count("\n") == 1
