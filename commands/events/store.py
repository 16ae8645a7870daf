"""Events in the database as this feature sees them: drafts to JSON and back, and planning what to send
when (the records themselves are ``storage.events``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Iterable

from storage.events import ANSWERS, EventRepository, as_utc, shown_counts
from storage.models import Announcement, HubEvent, utcnow

from .form import AnnouncementDraft, EventDraft
from .planner import EventTiming, PlannedSend, plan_announcement, plan_event
from .recurrence import Recurrence
from .timeparse import get_zone

__all__ = ["ANSWERS", "EventStore", "announcement_from_row", "announcement_to_json", "as_utc",
           "draft_from_json", "draft_to_json", "shown_counts"]


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_dt(value: str | None, zone: str) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(get_zone(zone)) if value else None


def draft_to_json(draft: EventDraft, rooms: Iterable[str]) -> str:
    return json.dumps({
        "title": draft.title, "zone": draft.zone, "start": _dt(draft.start),
        "duration": draft.duration.total_seconds() if draft.duration else None,
        "place": draft.place, "link": draft.link, "description": draft.description,
        "registration_until": _dt(draft.registration_until), "registration_link": draft.registration_link,
        "rooms": list(rooms), "reminders": [r.total_seconds() for r in draft.reminders],
        "repeat": draft.repeat.rule if draft.repeat else None,
    })


def draft_from_json(data: str) -> EventDraft:
    d = json.loads(data)
    zone = d["zone"]
    return EventDraft(
        title=d["title"], start=_parse_dt(d["start"], zone),
        duration=timedelta(seconds=d["duration"]) if d.get("duration") is not None else None,
        place=d.get("place"), link=d.get("link"), description=d.get("description"),
        registration_until=_parse_dt(d.get("registration_until"), zone),
        registration_link=d.get("registration_link"), rooms=tuple(d.get("rooms") or ()),
        reminders=tuple(timedelta(seconds=s) for s in d.get("reminders") or ()),
        repeat=Recurrence(d["repeat"]) if d.get("repeat") else None,
    )


def announcement_to_json(draft: AnnouncementDraft, rooms: Iterable[str]) -> str:
    return json.dumps({"when": _dt(draft.when), "zone": draft.when.tzinfo.key,  # type: ignore[union-attr]
                       "repeat": draft.repeat.rule if draft.repeat else None, "rooms": list(rooms)})


def announcement_from_row(row: Announcement) -> AnnouncementDraft:
    d = json.loads(row.data)
    return AnnouncementDraft(when=_parse_dt(d["when"], d["zone"]), text=row.text, rooms=tuple(d["rooms"]),
                             repeat=Recurrence(d["repeat"]) if d.get("repeat") else None)


class EventStore(EventRepository):
    """The events' records (``storage.events``), planned with this feature's planner."""

    async def plan(self, event: HubEvent, since: datetime, until: datetime,
                   existing: set[tuple[str, str]] | None = None) -> int:
        draft = draft_from_json(event.data)
        timing = EventTiming.of(event.id, draft, as_utc(event.confirmed_at or since))
        return await self.add_sends("event", event.id, plan_event(timing, since, until), draft.rooms, existing)

    async def plan_announcement(self, row: Announcement, since: datetime, until: datetime,
                                existing: set[tuple[str, str]] | None = None) -> int:
        draft = announcement_from_row(row)
        return await self.add_sends("announcement", row.id, plan_announcement(row.id, draft, since, until),
                                    draft.rooms, existing)

    async def one_off(self, event: HubEvent, kind: str, key: str, rooms: Iterable[str]) -> None:
        """A send due now (cancellation, change notice) through the same exactly-once path."""
        now = utcnow()
        await self.add_sends("event", event.id, [PlannedSend(now, key, kind)], rooms)  # type: ignore[arg-type]

