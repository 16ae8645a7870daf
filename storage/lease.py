"""Which instance of the hub is active: a lease on the database, held by at most one process.

Two or more ``leaders-hub run`` processes may share one database (each with its own Matrix device). The one
that holds the lease syncs, answers, posts and lifts mutes; the others wait as standbys, ready to take over.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of its own,
  outside the pool. PostgreSQL releases it the moment that session ends — the process killed, or its
  connection terminated — so a standby can take it at once. TCP keepalives on the connection make a
  silently lost network noticed within about ten seconds.
- SQLite: an exclusive ``flock`` on a file beside the database, released by the OS when the process ends
  (two instances on one SQLite file must share a machine anyway).

**Fencing.** The holder checks its lease with a heartbeat every ``HEARTBEAT`` seconds; ``valid()`` is true
only while the last heartbeat succeeded less than ``VALID_FOR`` seconds ago. Every send first asks
``valid()``. A new holder waits ``TAKEOVER_DELAY`` (longer than ``VALID_FOR``) after taking the lease before
it sends anything, so an old holder that lost its connection has stopped sending by then.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

HEARTBEAT = 0.5  # seconds between the holder's checks of its lease
VALID_FOR = 1.5  # seconds a successful heartbeat keeps the lease valid for sending
TAKEOVER_DELAY = 2.0  # seconds a new holder waits before its first send (> VALID_FOR)
POLL = 0.5  # seconds between a standby's attempts


class Lease(Protocol):
    held: bool
    takeover_delay: float

    async def try_acquire(self) -> bool: ...

    async def heartbeat(self) -> bool:
        """Whether the lease is still held (and the database reachable); False ends it."""
        ...

    def valid(self) -> bool: ...

    async def ping(self) -> bool:
        """For a standby's health: whether the database answers."""
        ...

    async def release(self) -> None: ...


def lock_key(database: str) -> int:
    """The advisory lock's 64-bit key for a database: the same for every instance of that hub."""
    digest = hashlib.sha256(f"leaders-hub:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _Validity:
    held = False
    _last_ok = 0.0
    # Whether a new holder must wait TAKEOVER_DELAY: an old holder may still be sending only where a lease can
    # be lost while its process lives (a database connection); a file lock dies with its process.
    takeover_delay = 0.0

    def _ok(self) -> None:
        self._last_ok = time.monotonic()

    def valid(self) -> bool:
        return self.held and time.monotonic() - self._last_ok < VALID_FOR


class PostgresLease(_Validity):
    takeover_delay = TAKEOVER_DELAY

    def __init__(self, url: str):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.key = lock_key(parsed.database or "")
        self._conn: Any = None

    async def _connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(self.dsn, timeout=5, server_settings={
            "application_name": "leaders-hub lease",
            # A holder whose network went away is noticed by the server within ~9 s, and its lock released.
            "tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "2"})

    async def try_acquire(self) -> bool:
        got = False
        for attempt in (1, 2):  # a connection the server ended is found out by using it: then one new one
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                got = await asyncio.wait_for(self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key), 5)
                break
            except Exception as exc:  # the database is away: stay standby, try again
                await self._drop()
                if attempt == 2:
                    log.warning("the lease cannot be asked for now (%s)", exc)
                    return False
        if got:
            self.held = True
            self._ok()
        return bool(got)

    async def heartbeat(self) -> bool:
        if not self.held or self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), VALID_FOR - HEARTBEAT)
        except Exception as exc:
            log.error("the lease's database connection is lost (%s): this instance stops being active", exc)
            self.held = False
            await self._drop()
            return False
        self._ok()
        return True

    async def ping(self) -> bool:
        """For a standby's health: whether the database answers on the lease's connection."""
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await self._connect()
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), 2)
            return True
        except Exception:
            await self._drop()
            return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.terminate()
            except Exception:
                pass

    async def release(self) -> None:
        self.held = False
        await self._drop()  # ending the session releases the lock


class FileLease(_Validity):
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())
        self.held = True
        self._ok()
        return True

    async def heartbeat(self) -> bool:
        if self.held:
            self._ok()
        return self.held

    async def ping(self) -> bool:
        return self.path.parent.exists()

    async def release(self) -> None:
        self.held = False
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None


class SoleLease(_Validity):
    """A database no other process can open (SQLite in memory): this instance is the only one."""

    async def try_acquire(self) -> bool:
        self.held = True
        self._ok()
        return True

    async def heartbeat(self) -> bool:
        self._ok()
        return self.held

    async def ping(self) -> bool:
        return True

    async def release(self) -> None:
        self.held = False


def make_lease(url: str) -> Lease:
    """The lease for the database at ``url`` (a SQLAlchemy URL, SQLite paths already absolute)."""
    if url.startswith("postgresql"):
        return PostgresLease(url)
    database = url.split(":///", 1)[1] if ":///" in url else ""
    if not database or ":memory:" in database or "mode=memory" in database:
        return SoleLease()
    return FileLease(Path(database.split("?", 1)[0] + ".lease"))
