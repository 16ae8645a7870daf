"""The audit log: numbered cases of every privileged action of every feature, and every refusal, written
by the runtime's check chain and by the features (``bot.checks.record_action``); append-only (the
database's triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, utcnow

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


__all__ = ["OUTCOMES", "AuditRepository"]
