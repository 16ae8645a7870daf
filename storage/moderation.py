"""Repositories of moderation: the audit log every feature writes to, and timed mutes.

The audit log is append-only: ``AuditRepository`` can add and read cases, nothing else (and the
database refuses UPDATE and DELETE on the table).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.moderation_models import AuditEntry, Mute

OUTCOMES = ("done", "refused", "failed")


class AuditRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def record(self, *, actor: str, action: str, outcome: str = "done", target: str | None = None,
                     room_id: str | None = None, reason: str | None = None,
                     detail: dict[str, Any] | str | None = None, event_id: str | None = None,
                     command: str | None = None) -> AuditEntry:
        """Add one case; its number is ``entry.id`` once flushed.

        ``action`` is ``<feature>.<verb>`` for other features (``archive.approve``, ``events.cancel``)
        and the bare verb for moderation (``kick``, ``ban``, ``mute``, ``role.grant``…). ``detail``
        is a message key with its parameters (``{"key": ..., "params": {...}}``) or plain text.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        if isinstance(detail, dict):
            detail = json.dumps(detail, ensure_ascii=False, default=str)
        entry = AuditEntry(actor=actor, action=action, outcome=outcome, target=target, room_id=room_id,
                           reason=reason, detail=detail, event_id=event_id,
                           command=command[:500] if command else None, at=utcnow())
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def exists(self, *, event_id: str, action: str, outcome: str, room_id: str | None,
                     target: str | None) -> bool:
        """Whether this command's case was already written (a command re-run after a crash)."""
        query = select(AuditEntry.id).where(
            AuditEntry.event_id == event_id, AuditEntry.action == action, AuditEntry.outcome == outcome,
            AuditEntry.room_id.is_(None) if room_id is None else AuditEntry.room_id == room_id,
            AuditEntry.target.is_(None) if target is None else AuditEntry.target == target,
        ).limit(1)
        return (await self.session.scalar(query)) is not None

    async def recent(self, limit: int = 10, *, user: str | None = None, action: str | None = None,
                     room_id: str | None = None) -> list[AuditEntry]:
        """The newest cases first; ``user`` matches who acted or who was acted on; ``action`` the
        action or its prefix (``role`` finds ``role.grant`` and ``role.revoke``)."""
        query = select(AuditEntry)
        if user:
            query = query.where(or_(AuditEntry.actor == user, AuditEntry.target == user))
        if action:
            query = query.where(or_(AuditEntry.action == action, AuditEntry.action.like(f"{action}.%"),
                                    AuditEntry.action.like(f"%.{action}")))
        if room_id:
            query = query.where(AuditEntry.room_id == room_id)
        query = query.order_by(AuditEntry.id.desc()).limit(limit)
        return list(await self.session.scalars(query))

    async def get(self, case: int) -> AuditEntry | None:
        return await self.session.get(AuditEntry, case)

    async def count(self) -> int:

        return int(await self.session.scalar(select(func.count(AuditEntry.id))) or 0)


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


__all__ = ["AuditRepository", "MuteRepository", "AuditEntry", "Mute"]
