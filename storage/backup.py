"""Backups, restores and copies of a hub's database: one portable format, both backends.

A backup is a text file of JSON lines (gzip-compressed when its name ends in ``.gz``)::

    {"format": "leaders-hub-backup", "version": 1, "revision": "0008_…", "backend": "sqlite", "taken_at": "…"}
    {"table": "inbox", "columns": ["event_id", …]}
    ["$abc", …]                       one line per row, values in the order of "columns"
    {"end": "inbox", "rows": 12}
    …                                 every table, in dependency order
    {"tables": {"inbox": 12, …}}      the last line: a file without it was cut short

Times are ISO 8601 in UTC. The same code reads a database for ``db backup`` and for ``db copy``,
and loads one for ``db restore`` and ``db copy``, so a backup taken on SQLite restores into
PostgreSQL and the other way round.

Consistent while the bot runs: every table is read in one read-only transaction, a snapshot of
the database at its first read — REPEATABLE READ on PostgreSQL, a read transaction on SQLite,
where WAL lets the bot go on writing meanwhile. What the bot commits after that snapshot is not
in the backup; nothing is half in it.

Loading: the target's tables are dropped (it must hold no rows, unless ``force``), the schema is
created at the backup's revision by the migrations, the rows are inserted table by table in one
transaction, PostgreSQL's sequences are set past the highest ids, and the migrations then bring
the database to the head revision. A backup from a revision this version of Leaders Hub does not
know (a newer one) is refused before anything is changed.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, DateTime, MetaData, Table, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import db

FORMAT = "leaders-hub-backup"
VERSION = 1
BATCH = 1000


class BackupError(Exception):
    """Something the operator must hear about, in one sentence; nothing was changed."""


@dataclass
class Header:
    revision: str
    backend: str
    taken_at: str


@dataclass
class Report:
    """What a backup, restore or copy did: the revision, and the rows of each table (in order)."""

    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    migrated_to: str | None = None

    @property
    def total(self) -> int:
        return sum(self.rows.values())


# One stream of items, read from a database or a file, loaded into a database:
# ("header", Header) · ("table", name, columns) · ("rows", [row, …]) · ("end", {table: rows})
Item = tuple


def _tables(connection: Connection) -> list[Table]:
    """The hub's tables as they are in this database, in dependency order (without Alembic's own)."""
    meta = MetaData()
    meta.reflect(connection)
    return [t for t in meta.sorted_tables if t.name != db.VERSION_TABLE]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _portable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


async def read_database(engine: AsyncEngine, on_table: Callable[[str], Any] | None = None) -> AsyncIterator[Item]:
    """Everything in the database, read in one snapshot (see the module docstring). ``on_table(name)`` is
    called before each table is read."""
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # pysqlite would begin no transaction for a SELECT: each would see a newer database.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("BEGIN")
        else:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            await conn.begin()
        try:
            revision = await _revision(conn)  # the first read: the snapshot is taken here
            if revision is None:
                raise BackupError("the database was never migrated: there is nothing to back up")
            tables = await conn.run_sync(_tables)
            yield ("header", Header(revision, engine.dialect.name, datetime.now(timezone.utc).isoformat()))
            counts: dict[str, int] = {}
            for table in tables:
                if on_table is not None:
                    await _maybe_await(on_table(table.name))
                columns = [c.name for c in table.columns]
                yield ("table", table.name, columns)
                counts[table.name] = 0
                order = list(table.primary_key.columns) or list(table.columns)
                result = await conn.stream(select(table).order_by(*order))
                async for batch in result.partitions(BATCH):
                    counts[table.name] += len(batch)
                    yield ("rows", [tuple(row) for row in batch])
            yield ("end", counts)
        finally:
            if engine.dialect.name == "sqlite":
                await conn.exec_driver_sql("ROLLBACK")
            else:
                await conn.rollback()


async def _maybe_await(value: Any) -> None:
    if hasattr(value, "__await__"):
        await value


async def _revision(conn: AsyncConnection) -> str | None:
    def run(connection: Connection) -> str | None:
        if not inspect(connection).has_table(db.VERSION_TABLE):
            return None
        return connection.execute(text(f"SELECT version_num FROM {db.VERSION_TABLE}")).scalar()

    return await conn.run_sync(run)


# ----- files --------------------------------------------------------------------------------------

def _open(path: Path, mode: str, compressed: bool | None = None) -> IO[str]:
    if path.name.endswith(".gz") if compressed is None else compressed:
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


async def backup(engine: AsyncEngine, path: Path, on_table: Callable[[str], Any] | None = None) -> Report:
    """Write the database to ``path`` (through a temporary file: an interrupted backup leaves no file)."""
    partial = path.with_name(path.name + ".partial")
    report: Report | None = None
    current = ""
    try:
        with _open(partial, "w", compressed=path.name.endswith(".gz")) as out:
            async for item in read_database(engine, on_table):
                kind = item[0]
                if kind == "header":
                    header: Header = item[1]
                    report = Report(header.revision)
                    out.write(json.dumps({"format": FORMAT, "version": VERSION, "revision": header.revision,
                                          "backend": header.backend, "taken_at": header.taken_at}) + "\n")
                elif kind == "table":
                    current = item[1]
                    out.write(json.dumps({"table": current, "columns": item[2]}) + "\n")
                elif kind == "rows":
                    for row in item[1]:
                        out.write(json.dumps([_portable(v) for v in row], ensure_ascii=False) + "\n")
                else:
                    assert report is not None
                    report.rows = item[1]
                    out.write(json.dumps({"tables": report.rows}) + "\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    assert report is not None
    return report


def read_file(path: Path) -> AsyncIterator[Item]:
    """The items of a backup file (see the module docstring); BackupError for anything else."""
    try:
        source = _open(path, "r")
        first = source.readline()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise BackupError(f"cannot read {path}: {exc}") from exc
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        source.close()
        raise BackupError(f"{path} is not a Leaders Hub backup (made by leaders-hub db backup)")
    if header.get("version") != VERSION:
        source.close()
        raise BackupError(f"{path} is a backup in format version {header.get('version')}, which this version of "
                          f"Leaders Hub cannot read (it reads version {VERSION})")

    async def items() -> AsyncIterator[Item]:
        with source:
            yield ("header", Header(header["revision"], header.get("backend", "?"), header.get("taken_at", "?")))
            batch: list[list] = []
            ended = False
            for number, line in enumerate(source, start=2):
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise BackupError(f"{path}:{number}: not a line of a backup ({exc})") from exc
                if isinstance(value, list):
                    batch.append(value)
                    if len(batch) >= BATCH:
                        yield ("rows", batch)
                        batch = []
                    continue
                if batch:
                    yield ("rows", batch)
                    batch = []
                if "table" in value:
                    yield ("table", value["table"], value["columns"])
                elif "tables" in value:
                    ended = True
                    yield ("end", value["tables"])
            if not ended:
                raise BackupError(f"{path} is cut short (its last line is missing): it cannot be restored")

    return items()


# ----- loading ------------------------------------------------------------------------------------

def known_revisions() -> list[str]:
    """Every migration this version of Leaders Hub has (loads Alembic: for the CLI only)."""
    from alembic.script import ScriptDirectory

    return [script.revision for script in ScriptDirectory.from_config(db._alembic_config()).walk_revisions()]


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """The rows of each of the hub's tables in the database (an empty dict for a database never migrated)."""
    async with engine.connect() as conn:
        tables = await conn.run_sync(_tables)
        return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in tables}


def _drop_everything(connection: Connection) -> None:
    meta = MetaData()
    meta.reflect(connection)
    meta.drop_all(connection)
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS audit_log_append_only()"))


def _loader(connection: Connection) -> dict[str, Table]:
    """The tables at the backup's revision, emptied of anything the migrations put there."""
    tables = {t.name: t for t in _tables(connection)}
    for table in reversed(list(tables.values())):
        connection.execute(table.delete())
    return tables


def _value(value: Any, column: Any, sqlite: bool) -> Any:
    if value is None or not isinstance(column.type, DateTime):
        return value
    moment = _utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return moment.replace(tzinfo=None) if sqlite else moment


def _reset_sequences(connection: Connection, tables: dict[str, Table]) -> None:
    """PostgreSQL: each serial column's sequence continues after the highest id loaded."""
    for table in tables.values():
        for column in table.primary_key.columns:
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": table.name, "c": column.name}).scalar()
            if sequence:
                connection.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM '
                                        f'"{table.name}"), 0) + 1, false)'), {"s": sequence})


async def load(engine: AsyncEngine, items: AsyncIterator[Item], force: bool = False) -> Report:
    """Load a stream of items (from ``read_file`` or ``read_database``) into the database at ``engine``,
    then migrate it to the head revision (see the module docstring)."""
    async with contextlib.aclosing(items):  # type: ignore[type-var]
        return await _load(engine, items, force)


async def _load(engine: AsyncEngine, items: AsyncIterator[Item], force: bool) -> Report:
    header = (await anext(items))[1]
    if header.revision not in known_revisions():
        raise BackupError(f"the backup is at revision {header.revision}, which this version of Leaders Hub does "
                          "not know (a newer one made it): upgrade Leaders Hub, then restore")
    held = {name: n for name, n in (await row_counts(engine)).items() if n}
    if held and not force:
        listed = ", ".join(f"{name} {n}" for name, n in sorted(held.items()))
        raise BackupError(f"the target database is not empty ({sum(held.values())} row(s): {listed}); nothing was "
                          "changed. Give --force to delete everything in it and load the backup")
    async with engine.begin() as conn:
        await conn.run_sync(_drop_everything)
    await db.upgrade(engine, header.revision)
    sqlite = engine.dialect.name == "sqlite"
    report = Report(header.revision)
    expected: dict[str, int] = {}
    async with engine.begin() as conn:
        tables = await conn.run_sync(_loader)
        table: Table | None = None
        columns: list[Any] = []
        async for item in items:
            if item[0] == "table":
                if item[1] not in tables:
                    raise BackupError(f"the backup has a table {item[1]} that revision {header.revision} does not")
                table = tables[item[1]]
                columns = [table.columns[name] for name in item[2]]
                report.rows[table.name] = 0
            elif item[0] == "rows":
                assert table is not None
                batch = [{c.name: _value(v, c, sqlite) for c, v in zip(columns, row)} for row in item[1]]
                await conn.execute(table.insert(), batch)
                report.rows[table.name] += len(batch)
            elif item[0] == "end":
                expected = item[1]
        if expected != report.rows:
            raise BackupError(f"the rows loaded ({report.rows}) are not those the backup says it holds ({expected})")
        if not sqlite:
            await conn.run_sync(_reset_sequences, tables)
    await db.upgrade(engine)
    report.migrated_to = await db.current_revision(engine)
    return report


async def restore(engine: AsyncEngine, path: Path, force: bool = False) -> Report:
    return await load(engine, read_file(path), force)


async def copy(source: AsyncEngine, target: AsyncEngine, force: bool = False) -> tuple[Report, dict[str, int]]:
    """Copy everything from ``source`` (read in one snapshot) into ``target``; the report, and the rows of each
    table counted afterwards in the target."""
    report = await load(target, read_database(source), force)
    return report, await row_counts(target)
