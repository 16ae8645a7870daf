"""Which of the hub's instances is active (``storage.lease``), and what that means for this process.

Several ``leaders-hub run`` processes may share one database, each with its own Matrix device of the same
account. Exactly one is active: it syncs, answers, posts, lifts mutes. The others are standbys: logged in,
their devices' keys uploaded and cross-signed (so that leaders' clients share room keys with them too), but
they neither sync nor send; they wait for the lease.

The active instance renews its lease every ``HEARTBEAT`` seconds. Every send asks ``may_send()`` first (the
fence): a lease not renewed within ``VALID_FOR`` sends nothing more, and the process ends (a supervisor
restarts it, as a standby). A standby that takes the lease waits the lease's ``takeover_delay`` before it
does anything, so that an old holder that lost its database connection has stopped sending by then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from bot.metrics import Metrics
from storage.lease import HEARTBEAT, POLL, Lease

log = logging.getLogger(__name__)

STANDBY = "standby"
ACTIVE = "active"


class LeaseLost(RuntimeError):
    """This instance's lease ended while it was active: it stops, so the one that takes over is alone."""


class Standing(Protocol):
    """What the leadership needs of a platform."""

    async def prepare_standby(self) -> None: ...  # runs while this instance is a standby; cancelled at the takeover

    async def run_active(self) -> None: ...


class Leadership:
    def __init__(self, lease: Lease, metrics: Metrics):
        self.lease = lease
        self.metrics = metrics
        self.role = STANDBY
        self.database_ok = False  # a standby's last look at the database
        self.became_active_at: float | None = None
        metrics.active.set(0)

    def may_send(self) -> bool:
        """The fence: true only for the active instance whose lease is fresh."""
        return self.role == ACTIVE and self.lease.valid()

    async def run(self, platform: Standing) -> None:
        """Wait as a standby until this instance holds the lease, then run the platform as the active one
        until it stops; raises ``LeaseLost`` when the lease ends under it."""
        if not await self.lease.try_acquire():
            log.info("another instance is active: this one is a standby")
            self.database_ok = await self.lease.ping()
            preparing = asyncio.ensure_future(platform.prepare_standby())
            try:
                while not await self.lease.try_acquire():
                    self.database_ok = await self.lease.ping()
                    await asyncio.sleep(POLL)
            finally:
                if not preparing.done():
                    preparing.cancel()
            if self.lease.takeover_delay:
                log.info("took the lease; waiting %.1f s so that the old active has stopped sending",
                         self.lease.takeover_delay)
                await asyncio.sleep(self.lease.takeover_delay)
                await self.lease.heartbeat()
        self.role = ACTIVE
        self.became_active_at = time.monotonic()
        self.metrics.active.set(1)
        log.info("this instance is active")
        active = asyncio.ensure_future(platform.run_active())
        keeper = asyncio.ensure_future(self._keep())
        try:
            done, _ = await asyncio.wait({active, keeper}, return_when=asyncio.FIRST_COMPLETED)
            if keeper in done:
                keeper.result()
            active.result()
        finally:
            for task in (active, keeper):
                task.cancel()

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            if not await self.lease.heartbeat():
                self.role = STANDBY
                self.metrics.active.set(0)
                raise LeaseLost("this instance lost its lease (its database connection): it has stopped sending "
                                "and ends now; restarted, it waits as a standby")

    def healthy(self, active_healthy: bool) -> bool:
        """200 for an active instance that syncs, and for a standby whose database answers."""
        return active_healthy if self.role == ACTIVE else self.database_ok

    async def release(self) -> None:
        self.role = STANDBY
        self.metrics.active.set(0)
        await self.lease.release()
