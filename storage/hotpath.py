"""The runtime's hot path: what every command costs the database, in one round trip a step.

A ``!ping`` passes three points where the database must have the truth: the
sync batch (the new inbox rows with the new sync token), the end of the command
(its writes with its reply, in the command's own session, see ``bot.app``) and
the reply's arrival at the homeserver (the row marked done). Going through the
ORM and aiosqlite, those steps cost ~12 ms of CPU per command (a thread hop and
the ORM's bookkeeping per statement); here each step is one small function of
SQLAlchemy Core statements, run as one call:

- SQLite: on a dedicated thread with a plain (pysqlite) connection to the same
  file, so a step is one thread hop, not one per statement;
- anything else (PostgreSQL): on a connection of the async engine (``run_sync``).

The same functions serve both, so the tests run them on both backends. Readers
and writers elsewhere keep using the ORM sessions: with WAL, the two SQLite
connections see each other's commits.

Also here: the per-process versions that tell the hub's caches (users' languages,
granted roles) they are stale. A repository that changes those tables marks its
session; when that session commits, the version moves on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

from sqlalchemy import Connection, Table, bindparam, create_engine, event, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from storage.db import sqlite_pragmas
from storage.models import BotMessage, BotState, InboxEvent, RoleGrant, RoomSettings, UserSettings, utcnow

T = TypeVar("T")
log = logging.getLogger(__name__)

# PostgreSQL ends one of two transactions that wait for each other (a deadlock) or that a serializable
# snapshot cannot order; the other goes on. Its steps are idempotent (ON CONFLICT, updates to a state), so
# the one ended is run again. https://www.postgresql.org/docs/current/mvcc-serialization-failure-handling.html
RETRIED_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
RETRIES = 5

INBOX: Table = InboxEvent.__table__  # type: ignore[assignment]
STATE: Table = BotState.__table__  # type: ignore[assignment]
MESSAGES: Table = BotMessage.__table__  # type: ignore[assignment]
SETTINGS: Table = UserSettings.__table__  # type: ignore[assignment]
ROOMS: Table = RoomSettings.__table__  # type: ignore[assignment]
GRANTS: Table = RoleGrant.__table__  # type: ignore[assignment]

# ----- cache versions -----------------------------------------------------------------------------

class CacheVersions:
    """Counters that move whenever the users' settings or the granted roles change in one database, so that
    caches of them are dropped. They belong to the database's engine (``CacheVersions.of(engine)``): a commit
    by any session on it moves them."""

    def __init__(self) -> None:
        self.counts = {"settings": 0, "grants": 0, "rooms": 0}

    def __getitem__(self, what: str) -> int:
        return self.counts[what]

    def bump(self, what: str) -> None:
        self.counts[what] += 1

    @staticmethod
    def of(engine: Any) -> "CacheVersions":
        engine = getattr(engine, "sync_engine", engine)
        engine = getattr(engine, "engine", engine)  # a Connection's engine
        versions = engine.__dict__.get("_leaders_hub_versions")
        if versions is None:
            versions = engine._leaders_hub_versions = CacheVersions()
        return versions


_MARK = "runtime_changed"


def mark_changed(session: Any, what: str) -> None:
    """A write to ``what`` ("settings" or "grants") is staged: caches drop it now and at commit."""
    session.info.setdefault(_MARK, set()).add(what)
    CacheVersions.of(session.get_bind()).bump(what)


@event.listens_for(Session, "after_commit")
def _bump_versions(session: Session) -> None:
    # A cache filled while the write was uncommitted is dropped too.
    marked = session.info.pop(_MARK, ())
    if marked:
        versions = CacheVersions.of(session.get_bind())
        for what in marked:
            versions.bump(what)


# ----- the steps, as plain functions of a connection ----------------------------------------------

# Built once: building a statement costs more than running it (these run for every command).
_DONE = update(INBOX).where(INBOX.c.event_id == bindparam("id")).values(
    status="done", finished_at=bindparam("finished_at"))
_DONE_UNRECORDED = _DONE.values(command=bindparam("command"), outcome=bindparam("outcome"))
_STATE = select(STATE.c.value).where(STATE.c.key == bindparam("key"))
_LANGUAGE = select(SETTINGS.c.language).where(SETTINGS.c.user_id == bindparam("user_id"))
_GRANTS = select(GRANTS.c.user_id, GRANTS.c.role)
_ROOM_LANGUAGES = select(ROOMS.c.room_id, ROOMS.c.language).where(ROOMS.c.language.is_not(None))
_REACTIONS = select(INBOX.c.event_id, INBOX.c.sender, INBOX.c.body, INBOX.c.relates_to).where(
    INBOX.c.event_id.in_(bindparam("ids", expanding=True)), INBOX.c.kind == "reaction")


@functools.cache
def _upserts(dialect: str) -> tuple[Any, Any, Any]:
    """The dialect's ON CONFLICT statements (SQLite and PostgreSQL spell them alike).

    Only the dialect in use is imported: SQLAlchemy's PostgreSQL package (with every driver's module) costs
    a bot on SQLite ~2 MB of memory for nothing, and SQLite's one on PostgreSQL likewise."""
    insert: Callable[[Table], Any]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    event = insert(INBOX).on_conflict_do_nothing(index_elements=[INBOX.c.event_id])
    token = insert(STATE)
    token = token.on_conflict_do_update(index_elements=[STATE.c.key], set_={"value": token.excluded.value})
    message = insert(MESSAGES).on_conflict_do_nothing(index_elements=[MESSAGES.c.matrix_event_id])
    return event, token, message


def record_batch(conn: Connection, rows: list[dict[str, Any]], token_key: str, token: str | None,
                 finished: Sequence[tuple] = ()) -> list[str]:
    """Insert the events not yet in the inbox (as ``pending``) and move the sync token; the new ids.

    ``finished``: arguments of ``finish`` for replies delivered meanwhile, done in the same transaction."""
    finish_all(conn, finished)
    insert_event, upsert_token, _ = _upserts(conn.dialect.name)
    now = utcnow()
    new: list[str] = []
    for row in rows:  # one at a time: the row count tells whether it was new
        if conn.execute(insert_event, {**row, "status": "pending", "received_at": now}).rowcount == 1:
            new.append(row["event_id"])
    if token is not None:
        conn.execute(upsert_token, {"key": token_key, "value": token})
    return new


def finish(conn: Connection, event_id: str, sent: list[tuple[str, str]], command: str | None = None,
           outcome: str | None = None) -> None:
    """The reply reached the homeserver: the row is done; ``sent`` lists (message id, room) of the reply.

    ``command``/``outcome`` are given for a command that wrote nothing (its reply was not recorded
    in a session of its own: run again after a crash, it sends the same transaction ids)."""
    params = {"id": event_id, "finished_at": utcnow()}
    if outcome is None:
        conn.execute(_DONE, params)
    else:
        conn.execute(_DONE_UNRECORDED, {**params, "command": command, "outcome": outcome})
    if sent:
        conn.execute(_upserts(conn.dialect.name)[2],
                     [{"matrix_event_id": m, "room_id": r, "source_event_id": event_id} for m, r in sent])


def finish_all(conn: Connection, finished: Sequence[tuple]) -> None:
    # In the order of the rows, so that two transactions marking rows done lock them in the same order.
    for args in sorted(finished, key=lambda f: f[0]):
        finish(conn, *args)


def get_state(conn: Connection, key: str) -> str | None:
    return conn.scalar(_STATE, {"key": key})


def put_state(conn: Connection, key: str, value: str) -> None:
    conn.execute(_upserts(conn.dialect.name)[1], {"key": key, "value": value})


def language(conn: Connection, user_id: str) -> str | None:
    return conn.scalar(_LANGUAGE, {"user_id": user_id})


def room_languages(conn: Connection) -> dict[str, str]:
    return {room_id: language for room_id, language in conn.execute(_ROOM_LANGUAGES)}


def grants(conn: Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for user_id, role in conn.execute(_GRANTS):
        found.setdefault(user_id, set()).add(role)
    return found


def stored_reactions(conn: Connection, event_ids: list[str]) -> dict[str, tuple[str, str, str | None]]:
    """The recorded reactions among these ids, as (sender, key, target): what a redaction took back."""
    if not event_ids:
        return {}
    rows = conn.execute(_REACTIONS, {"ids": event_ids})
    return {row.event_id: (row.sender, row.body, row.relates_to) for row in rows}


# ----- running them -------------------------------------------------------------------------------

class RuntimeStore:
    """Runs the steps above, each in one transaction and one round trip."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._sync_engine = None
        self._thread: ThreadPoolExecutor | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database and ":memory:" not in url.database:
            # A pysqlite connection of our own, used only by one thread of our own.
            self._sync_engine = create_engine(url.set(drivername="sqlite"), pool_size=1, max_overflow=0,
                                              connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self._sync_engine, "connect", sqlite_pragmas)
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-db")

    async def run(self, step: Callable[..., T], *args: Any) -> T:
        """``step(connection, *args)`` in one transaction, committed; run again if PostgreSQL ended it as
        a deadlock's or a serialization conflict's victim (``RETRIED_SQLSTATES``)."""
        if self._sync_engine is not None:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._in_transaction, step, args)
        for attempt in range(RETRIES):
            try:
                async with self.engine.begin() as conn:
                    return await conn.run_sync(step, *args)
            except DBAPIError as exc:
                if attempt == RETRIES - 1 or getattr(exc.orig, "sqlstate", None) not in RETRIED_SQLSTATES:
                    raise
                log.warning("%s was ended by the database (%s); running it again", step.__name__,
                            getattr(exc.orig, "sqlstate", None))
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("not reached")

    def _in_transaction(self, step: Callable[..., T], args: tuple) -> T:
        with self._sync_engine.begin() as conn:  # type: ignore[union-attr]
            return step(conn, *args)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None
