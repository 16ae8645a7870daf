"""Moderation's own records: timed mutes (the audit log is the runtime's, ``storage.audit``)."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Mute, utcnow


class MuteRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def active(self, room_id: str, user_id: str) -> Mute | None:
        query = select(Mute).where(Mute.room_id == room_id, Mute.user_id == user_id,
                                   Mute.lifted_at.is_(None)).order_by(Mute.id).limit(1)
        return await self.session.scalar(query)

    def add(self, *, room_id: str, user_id: str, previous_level: int | None, muted_level: int, ends_at_ms: int,
            created_by: str, event_id: str | None = None, reason: str | None = None) -> Mute:
        mute = Mute(room_id=room_id, user_id=user_id, previous_level=previous_level, muted_level=muted_level,
                    ends_at_ms=ends_at_ms, created_by=created_by, event_id=event_id, reason=reason,
                    created_at=utcnow())
        self.session.add(mute)
        return mute

    async def due(self, now_ms: int, limit: int = 100) -> list[Mute]:
        query = (select(Mute).where(Mute.lifted_at.is_(None), Mute.ends_at_ms <= now_ms)
                 .order_by(Mute.ends_at_ms).limit(limit))
        return list(await self.session.scalars(query))

    async def next_end(self, after_ms: int | None = None) -> int | None:
        """When the next active mute ends (epoch ms; only ends later than ``after_ms`` if given), or None."""
        query = select(func.min(Mute.ends_at_ms)).where(Mute.lifted_at.is_(None))
        if after_ms is not None:
            query = query.where(Mute.ends_at_ms > after_ms)
        return await self.session.scalar(query)

    async def all_active(self, rooms: Iterable[str] | None = None) -> list[Mute]:
        query = select(Mute).where(Mute.lifted_at.is_(None))
        if rooms is not None:
            query = query.where(Mute.room_id.in_(list(rooms)))
        return list(await self.session.scalars(query.order_by(Mute.ends_at_ms)))

    async def get(self, mute_id: int) -> Mute | None:
        return await self.session.get(Mute, mute_id)

    @staticmethod
    def lift(mute: Mute, by: str) -> None:
        mute.lifted_at = utcnow()
        mute.lifted_by = by


__all__ = ["MuteRepository"]
