"""The timer of announcements and reminders: APScheduler 3 over the ``scheduled_sends`` table.

The table is the truth; the scheduler only wakes us. It starts after login and
the first sync (a background job of the events feature), rebuilds its jobs
from every planned row, and on each wake-up decides again from the row:
sent once (status moves to sent/late in the same transaction that records
the Matrix event id), late within the grace window and marked so, or skipped
and the coordinator told — never silently dropped, never doubled. A send
retried after a crash carries the same transaction id, so the homeserver
drops the copy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import room_label
from bot.reply import Outgoing
from storage.models import HubEvent, ScheduledSend, utcnow

from .edits import CountsEditor, posted_message
from .planner import decide_late
from .render import feed_urls, render_send, skipped_notice
from .store import EventStore, as_utc, draft_from_json

log = logging.getLogger(__name__)


class EventScheduler:
    """The events feature's service (``hub.service(EventScheduler)``): APScheduler as a timer over the planned
    sends in the database, started by the background job once the bot is connected."""

    def __init__(self, hub):
        self.hub = hub
        cfg = hub.config["events"]
        self.grace = timedelta(minutes=cfg["late_grace_minutes"])
        self.plan_ahead = timedelta(days=cfg["plan_days"])
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self.sending = asyncio.Semaphore(8)
        # Seconds from due to wake-up of the latest sends, for the benchmark (bounded).
        self.lateness: deque[float] = deque(maxlen=20000)
        self.rebuild_seconds: float | None = None
        self.editor = CountsEditor(hub, timedelta(seconds=cfg["rsvp_edit_seconds"]))
        self.started = False  # commands may plan before (or without) it: the start rebuilds from the database

    async def start(self) -> None:
        # Rebuild first (jobs added before start() are cheaper), then plan further ahead.
        started = time.perf_counter()
        async with self.hub.sessions() as session:
            rows = await EventStore(session).planned()
        for row in rows:
            self._add(row.id, as_utc(row.due_at))
        self.scheduler.start()
        self.started = True
        self.rebuild_seconds = time.perf_counter() - started
        log.info("scheduler rebuilt %d planned sends in %.3f s", len(rows), self.rebuild_seconds)
        await self.extend_plans()
        await self.editor.sweep()  # counts that changed while an edit was due when the bot stopped
        self.scheduler.add_job(self.extend_plans, "interval", hours=1, id="extend-plans", replace_existing=True,
                               misfire_grace_time=None, coalesce=True)

    def stop(self) -> None:
        self.started = False
        self.editor.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _add(self, row_id: int, due_at: datetime) -> None:
        # misfire_grace_time=None: a wake-up that comes late still runs; the row decides what to do.
        self.scheduler.add_job(self.fire, "date", run_date=max(due_at, datetime.now(timezone.utc)),
                               args=[row_id, due_at], id=f"send-{row_id}", replace_existing=True,
                               misfire_grace_time=None)

    async def schedule(self, owner: str, owner_id: int) -> None:
        """Wake up for the planned sends of one event or announcement (after its command committed)."""
        if not self.started:
            return
        async with self.hub.sessions() as session:
            rows = await EventStore(session).planned(owner, owner_id)
        for row in rows:
            self._add(row.id, as_utc(row.due_at))

    def unschedule(self, row_ids: list[int]) -> None:
        if not self.started:
            return
        for row_id in row_ids:
            try:
                self.scheduler.remove_job(f"send-{row_id}")
            except Exception:  # already fired or never added
                pass

    async def extend_plans(self) -> None:
        """Plan the next weeks of recurring events and announcements (idempotent)."""
        now = utcnow()
        async with self.hub.sessions() as session:
            store = EventStore(session)
            existing = await store.planned_keys()  # one query, not one per event
            added = 0
            for event in await store.confirmed():
                added += await store.plan(event, now, now + self.plan_ahead, existing)
            for row in await store.announcements():
                added += await store.plan_announcement(row, now, now + self.plan_ahead, existing)
            await session.commit()
            new_rows = await store.planned() if added else []
        for row in new_rows:
            if self.scheduler.running and not self.scheduler.get_job(f"send-{row.id}"):
                self._add(row.id, as_utc(row.due_at))

    async def fire(self, row_id: int, due_at: datetime | None = None) -> None:
        woke_at = utcnow()
        if due_at is not None:
            self.lateness.append((woke_at - due_at).total_seconds())
        async with self.sending:
            try:
                await self._fire(row_id, woke_at)
            except Exception:
                log.exception("scheduled send %s failed; it stays planned and is retried at the next start", row_id)

    async def _fire(self, row_id: int, woke_at: datetime | None = None) -> None:
        """``woke_at``: when the timer fired. Waiting for a send slot or a rate limit afterwards
        does not make a send "late": late means the bot was not there when it fell due."""
        hub = self.hub
        async with hub.sessions() as session:
            row = await session.get(ScheduledSend, row_id)
            if row is None or row.status != "planned":
                return  # sent, skipped or cancelled already: never twice
            now = woke_at or utcnow()
            decision = decide_late(as_utc(row.due_at), now, self.grace,
                                   expires_at=as_utc(row.expires_at) if row.expires_at else None)
            store = EventStore(session)
            event = await session.get(HubEvent, row.owner_id) if row.owner == "event" else None
            announcement = None
            if row.owner == "announcement":
                from storage.models import Announcement

                announcement = await session.get(Announcement, row.owner_id)
            if decision == "skip":
                row.status = "skipped"
                await session.commit()
                origin = event.created_room if event else announcement.created_room if announcement else None
                if origin:  # the coordinator is told, in their own language, in the room they planned it in
                    creator = event.created_by if event else announcement.created_by
                    await hub.post(origin, "skipped", f"skipped|{row.send_key}|{row.room_id}",
                                   lambda lang: skipped_notice(hub.translator, lang, row, event, announcement,
                                                               lambda r: room_label(hub.platform, r)),
                                   language=await hub.language_of(creator))
                return
            rsvps = await store.rsvps(event.id) if event else {}
            draft = draft_from_json(event.data) if event else None
            def compose(lang: str) -> Outgoing:  # in the room's language
                text, mentions = render_send(hub.translator, lang, row, event, draft, announcement, rsvps,
                                             late=decision == "late", links=feed_urls(hub.config["http"]["public_url"]))
                return Outgoing(markdown=text, mentions=mentions)

            matrix_event_id = await hub.post(row.room_id, row.kind, f"{row.send_key}|{row.room_id}", compose)
            row.status = "late" if decision == "late" else "sent"
            row.sent_at = utcnow()
            row.matrix_event_id = matrix_event_id
            if event and row.kind in ("announce", "reminder", "registration"):
                session.add(posted_message(matrix_event_id, event.id, row.room_id, row.kind, rsvps))
            await session.commit()
        if event and row.kind == "announce":
            self.editor.changed(event.id)  # an answer that came between rendering and this commit is shown


async def run_scheduler(hub) -> None:
    """Background job of the events feature: lives as long as the transport runs."""
    scheduler = hub.service(EventScheduler)
    await scheduler.start()
    try:
        await hub.platform.stopping.wait()
    finally:
        scheduler.stop()
