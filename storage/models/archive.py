"""The archive of shared solutions and leaders' experiences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Solution(Base):
    """A shared solution of the archive. ``record`` is the whole record (docs/archive.md) as JSON,
    unknown fields included, so an import → export round trip loses nothing."""

    __tablename__ = "solutions"
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)  # the #N leaders type
    record_id: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|approved|rejected|deleted
    author: Mapped[str | None] = mapped_column(String(255), nullable=True)
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # JSON list of the moderation decisions, oldest first: {"status", "by", "at", "reason"}.
    decisions: Mapped[str | None] = mapped_column(Text, nullable=True)


class Experience(Base):
    """A leader's experience of implementing a solution."""

    __tablename__ = "experiences"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    solution_number: Mapped[int] = mapped_column(index=True)
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublicName(Base):
    """The name a leader chose to sign their experiences with on the public pages (``!experience name``).
    Only a leader who set one is named there; nobody is ever shown by their Matrix id."""

    __tablename__ = "public_names"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
