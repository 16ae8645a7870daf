"""Repositories of the runtime: the inbox of handled events, user settings, role grants (the sync token and
the inbox's hot path are in ``storage.hotpath``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.hotpath import mark_changed
from storage.models import BotMessage, InboxEvent, RoleGrant, RoomSettings, UserSettings, utcnow


class InboxRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    def add(self, **fields: Any) -> InboxEvent:
        """A pending row (the bot records its inbox through ``storage.hotpath``; this is for tools and tests)."""
        row = InboxEvent(status="pending", **fields)
        self.session.add(row)
        return row

    async def get(self, event_id: str) -> InboxEvent | None:
        return await self.session.get(InboxEvent, event_id)

    async def unfinished(self) -> list[InboxEvent]:
        rows = await self.session.scalars(
            select(InboxEvent).where(InboxEvent.status.in_(("pending", "replied"))).order_by(InboxEvent.origin_ts)
        )
        return list(rows)

    async def record_reply(self, event_id: str, command: str | None, outcome: str, messages: list[dict]) -> None:
        await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.event_id == event_id)
            .values(status="replied", command=command, outcome=outcome, reply=json.dumps(messages))
        )

    async def answered_by(self, matrix_event_id: str) -> str | None:
        """The command event a message of the bot answered."""
        row = await self.session.get(BotMessage, matrix_event_id)
        return row.source_event_id if row else None


class RoomSettingsRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def set_language(self, room_id: str, language: str, by: str) -> None:
        mark_changed(self.session, "rooms")
        row = await self.session.get(RoomSettings, room_id)
        if row:
            row.language, row.set_by, row.updated_at = language, by, utcnow()
        else:
            self.session.add(RoomSettings(room_id=room_id, language=language, set_by=by))


class SettingsRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, user_id: str) -> UserSettings | None:
        return await self.session.get(UserSettings, user_id)

    async def set_language(self, user_id: str, language: str) -> None:
        mark_changed(self.session, "settings")
        row = await self.get(user_id)
        if row:
            row.language = language
        else:
            self.session.add(UserSettings(user_id=user_id, language=language))

    async def set_timezone(self, user_id: str, tz: str) -> None:
        mark_changed(self.session, "settings")
        row = await self.get(user_id)
        if row:
            row.timezone = tz
        else:
            self.session.add(UserSettings(user_id=user_id, timezone=tz))


class RoleRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def roles_of(self, user_id: str) -> set[str]:
        rows = await self.session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id))
        return set(rows)

    async def all(self) -> list[RoleGrant]:
        return list(await self.session.scalars(select(RoleGrant).order_by(RoleGrant.user_id)))

    async def grant(self, user_id: str, role: str, by: str) -> bool:
        if role in await self.roles_of(user_id):
            return False
        mark_changed(self.session, "grants")
        self.session.add(RoleGrant(user_id=user_id, role=role, granted_by=by))
        return True

    async def revoke(self, user_id: str, role: str) -> bool:
        mark_changed(self.session, "grants")
        result = await self.session.execute(
            delete(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == role)
        )
        return getattr(result, "rowcount", 0) > 0  # a DELETE's CursorResult
