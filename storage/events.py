"""The events' records: events, their planned sends, RSVPs, the messages announcing them, plain
announcements. Data in, data out; planning (what to send when) is the events feature's."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Mapping, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announcement, EventMessage, HubEvent, Rsvp, ScheduledSend, utcnow

ANSWERS = ("yes", "no", "maybe")


class PlannedSend(Protocol):
    """What a planned send must say to be stored (the events feature's planner makes them)."""

    id: str
    kind: str
    due_at: datetime
    expires_at: datetime | None
    occurrence: datetime | None


def shown_counts(counts: Mapping[str, int]) -> str:
    """The RSVP counts an announcement shows, as stored with it: ``yes/maybe/no``."""
    return "/".join(str(counts.get(answer, 0)) for answer in ("yes", "maybe", "no"))


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class EventRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, event_id: int) -> HubEvent | None:
        return await self.session.get(HubEvent, event_id)

    async def by_source(self, source_event_id: str) -> HubEvent | None:
        return await self.session.scalar(select(HubEvent).where(HubEvent.source_event_id == source_event_id))

    async def confirmed(self) -> list[HubEvent]:
        # In the order they were added: on PostgreSQL an updated row moves in the table, so without an order
        # events at the same time would be listed in the order of their last change there.
        return list(await self.session.scalars(select(HubEvent).where(HubEvent.status == "confirmed")
                                               .order_by(HubEvent.id)))

    async def published(self) -> list[HubEvent]:
        """Confirmed and cancelled events: what the feed shows or has shown."""
        return list(await self.session.scalars(select(HubEvent).where(HubEvent.status.in_(("confirmed", "cancelled")))
                                               .order_by(HubEvent.id)))

    async def planned_keys(self) -> set[tuple[str, str]]:
        """Every stored (send key, room): lets a whole re-planning pass check existence in memory."""
        rows = await self.session.execute(select(ScheduledSend.send_key, ScheduledSend.room_id))
        return {(k, r) for k, r in rows}

    async def add_sends(self, owner: str, owner_id: int, sends: list[PlannedSend], rooms: Iterable[str],
                        existing: set[tuple[str, str]] | None = None) -> int:
        """Insert the planned sends that are not stored yet (planning twice adds nothing)."""
        rooms = list(rooms)
        keys = [s.id for s in sends]
        if existing is None:
            existing = set()
            if keys:
                rows = await self.session.execute(select(ScheduledSend.send_key, ScheduledSend.room_id)
                                                  .where(ScheduledSend.send_key.in_(keys)))
                existing = {(k, r) for k, r in rows}
        added = 0
        for send in sends:
            for room in rooms:
                if (send.id, room) in existing:
                    continue
                existing.add((send.id, room))
                self.session.add(ScheduledSend(
                    send_key=send.id, room_id=room, owner=owner, owner_id=owner_id, kind=send.kind,
                    due_at=send.due_at.astimezone(timezone.utc),
                    expires_at=send.expires_at.astimezone(timezone.utc) if send.expires_at else None,
                    occurrence=send.occurrence.astimezone(timezone.utc) if send.occurrence else None))
                added += 1
        return added

    async def cancel_planned(self, owner: str, owner_id: int) -> None:
        await self.session.execute(update(ScheduledSend).where(
            ScheduledSend.owner == owner, ScheduledSend.owner_id == owner_id, ScheduledSend.status == "planned")
            .values(status="cancelled"))

    async def planned(self, owner: str | None = None, owner_id: int | None = None) -> list[ScheduledSend]:
        query = select(ScheduledSend).where(ScheduledSend.status == "planned")
        if owner is not None:
            query = query.where(ScheduledSend.owner == owner, ScheduledSend.owner_id == owner_id)
        return list(await self.session.scalars(query))

    async def set_rsvp(self, event_id: int, user_id: str, answer: str) -> None:
        row = await self.session.scalar(select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id))
        if row:
            row.answer, row.updated_at = answer, utcnow()
        else:
            self.session.add(Rsvp(event_id=event_id, user_id=user_id, answer=answer))

    async def withdraw_rsvp(self, event_id: int, user_id: str, answer: str) -> bool:
        result = await self.session.execute(delete(Rsvp).where(
            Rsvp.event_id == event_id, Rsvp.user_id == user_id, Rsvp.answer == answer))
        return getattr(result, "rowcount", 0) > 0  # a DELETE's CursorResult

    async def rsvps(self, event_id: int) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {a: [] for a in ANSWERS}
        for row in await self.session.scalars(select(Rsvp).where(Rsvp.event_id == event_id).order_by(Rsvp.id)):
            out.setdefault(row.answer, []).append(row.user_id)
        return out

    async def events_of(self, user_id: str) -> list[tuple[HubEvent, str]]:
        rows = await self.session.execute(select(HubEvent, Rsvp.answer).join(Rsvp, Rsvp.event_id == HubEvent.id)
                                          .where(Rsvp.user_id == user_id, HubEvent.status == "confirmed"))
        return [(event, answer) for event, answer in rows]

    async def rsvp_counts(self, event_ids: Iterable[int]) -> dict[int, str]:
        """``yes/maybe/no`` counts of each event that has answers, in one query."""
        ids = list(event_ids)
        if not ids:
            return {}
        rows = await self.session.execute(select(Rsvp.event_id, Rsvp.answer, func.count()).where(
            Rsvp.event_id.in_(ids)).group_by(Rsvp.event_id, Rsvp.answer))
        counts: dict[int, dict[str, int]] = {}
        for event_id, answer, count in rows:
            counts.setdefault(event_id, {})[answer] = count
        return {event_id: shown_counts(answers) for event_id, answers in counts.items()}

    async def announcements_of(self, event_id: int) -> list[EventMessage]:
        """The posted announcements of one event (one per room), oldest first."""
        return list(await self.session.scalars(select(EventMessage).where(
            EventMessage.event_id == event_id, EventMessage.kind == "announce").order_by(EventMessage.room_id)))

    async def announcements_of_confirmed(self) -> list[EventMessage]:
        return list(await self.session.scalars(select(EventMessage).join(
            HubEvent, HubEvent.id == EventMessage.event_id).where(
            EventMessage.kind == "announce", HubEvent.status == "confirmed")))

    async def event_of_message(self, matrix_event_id: str) -> int | None:
        row = await self.session.get(EventMessage, matrix_event_id)
        return row.event_id if row else None

    async def announcements(self) -> list[Announcement]:
        return list(await self.session.scalars(select(Announcement).where(Announcement.status == "active")
                                               .order_by(Announcement.id)))
