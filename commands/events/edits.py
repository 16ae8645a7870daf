"""Keeping an announcement's RSVP counts current: throttled ``m.replace`` edits.

The database is the truth. Each posted announcement (``event_messages``, kind ``announce``) keeps
the counts it shows (``shown``), its number of edits and the time of the last. An RSVP change only
marks its event (``changed``); one task per event then edits the event's announcements to the counts
in the database *at that moment*, each at most once per ``[events] rsvp_edit_seconds``: a burst of
reactions becomes an edit at once and one more when the interval is over, and the last edit always
shows the final state. At every start the announcements whose counts differ from the database are
edited (``sweep``), so a change committed just before a crash or a stop is never left unshown.

An edit's transaction id is derived from the message, the edit's number and the counts it shows: a
send retried after a crash is dropped by the homeserver as a duplicate, and an edit to other counts
can never be mistaken for it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select

from storage.models import EventMessage, HubEvent, ScheduledSend, utcnow

from .render import announcement_text, feed_urls
from .store import EventStore, as_utc, draft_from_json, shown_counts

log = logging.getLogger(__name__)
NOTHING_SHOWN = "0/0/0"  # an announcement posted before it showed counts


class CountsEditor:
    def __init__(self, hub, interval: timedelta):
        self.hub = hub
        self.interval = interval
        self.dirty: set[int] = set()  # events whose RSVPs changed since their task last looked
        self.tasks: dict[int, asyncio.Task] = {}  # at most one per event

    def changed(self, event_id: int) -> None:
        """The RSVPs of ``event_id`` changed (committed): its announcements will show it."""
        self.dirty.add(event_id)
        if event_id not in self.tasks:
            self.tasks[event_id] = asyncio.ensure_future(self._run(event_id))

    async def sweep(self) -> None:
        """At start: every announcement that shows other counts than the database has is edited."""
        async with self.hub.sessions() as session:
            store = EventStore(session)
            messages = await store.announcements_of_confirmed()
            counts = await store.rsvp_counts({m.event_id for m in messages})
        stale = {m.event_id for m in messages if (m.shown or NOTHING_SHOWN) != counts.get(m.event_id, NOTHING_SHOWN)}
        for event_id in sorted(stale):
            self.changed(event_id)

    def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()

    async def _run(self, event_id: int) -> None:
        try:
            while event_id in self.dirty:
                self.dirty.discard(event_id)
                try:
                    wait = await self.edit(event_id)
                except Exception:  # e.g. the bot was removed from the room: the next start tries again
                    log.exception("editing the RSVP counts of event %s failed", event_id)
                    return
                if wait is not None:  # some announcement was edited too recently: come back for it
                    self.dirty.add(event_id)
                    await asyncio.sleep(wait)
        finally:
            self.tasks.pop(event_id, None)

    async def edit(self, event_id: int) -> float | None:
        """Edit each announcement of the event that shows stale counts and may be edited now; the
        seconds until the others may be, or None when none is left."""
        hub, t = self.hub, self.hub.translator
        links = feed_urls(self.hub.config["http"]["public_url"])
        wait: float | None = None
        async with self.hub.sessions() as session:
            store = EventStore(session)
            event = await session.get(HubEvent, event_id)
            if event is None or event.status != "confirmed":
                return None  # a cancelled event's announcement stays as it was; the cancellation is posted
            rsvps = await store.rsvps(event_id)
            shown = _shown(rsvps)
            draft = draft_from_json(event.data)
            for message in await store.announcements_of(event_id):
                if (message.shown or NOTHING_SHOWN) == shown:
                    continue
                now = utcnow()
                ready = as_utc(message.edited_at) + self.interval if message.edited_at else now
                if ready > now:
                    left = (ready - now).total_seconds()
                    wait = left if wait is None else min(wait, left)
                    continue
                late = await session.scalar(select(ScheduledSend.status).where(
                    ScheduledSend.matrix_event_id == message.matrix_event_id)) == "late"
                number = message.edits + 1
                await hub.edit_post(message.room_id, message.matrix_event_id, "rsvp_counts",
                                    f"edit|{message.matrix_event_id}|{number}|{shown}",
                                    lambda lang: announcement_text(t, lang, event, draft, rsvps, late, links))
                message.shown, message.edits, message.edited_at = shown, number, utcnow()
                await session.commit()  # one message at a time: a crash loses at most a duplicate-proof resend
        return wait


def posted_message(matrix_event_id: str, event_id: int, room_id: str, kind: str,
                     rsvps: dict[str, list[str]]) -> EventMessage:
    """The row of a message just posted for an event; an announcement records the counts it shows."""
    return EventMessage(matrix_event_id=matrix_event_id, event_id=event_id, room_id=room_id, kind=kind,
                        shown=_shown(rsvps) if kind == "announce" else None)


def _shown(rsvps: dict[str, list[str]]) -> str:
    return shown_counts({answer: len(users) for answer, users in rsvps.items()})
