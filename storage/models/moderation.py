"""Timed mutes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Mute(Base):
    """A timed mute in one room. The user's power-level entry before the mute is kept
    (``previous_level`` None: there was no entry), so lifting restores exactly that.
    Active while ``lifted_at`` is empty; the database, not a timer, is the truth."""

    __tablename__ = "mutes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    previous_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    muted_level: Mapped[int] = mapped_column(Integer)
    ends_at_ms: Mapped[int] = mapped_column(BigInteger)  # epoch milliseconds
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        Index("ix_mutes_active", "lifted_at", "ends_at_ms"),
        Index("ix_mutes_room_user", "room_id", "user_id"),
    )
