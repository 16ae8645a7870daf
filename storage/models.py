"""SQLAlchemy models. Each feature adds its tables here and a migration under migrations/versions."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class BotState(Base):
    """Small key/value facts of the runtime, e.g. the sync token (``next_batch``)."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class InboxEvent(Base):
    """Every event the bot must act on, recorded before the sync token moves past it.

    status: ``pending`` (received, not yet handled) → ``replied`` (handled; the
    reply is stored here and committed together with the command's own writes)
    → ``done`` (the reply reached the homeserver). A restart resumes each row
    where it stopped, so nothing is lost and nothing runs twice.
    """

    __tablename__ = "inbox"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))  # command | undecryptable
    body: Mapped[str] = mapped_column(Text, default="")
    thread_root: Mapped[str | None] = mapped_column(String(255), nullable=True)
    origin_ts: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    command: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of outgoing messages
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_inbox_status", "status"),)


class UserSettings(Base):
    __tablename__ = "user_settings"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RoleGrant(Base):
    """A role granted by a moderator or admin; it holds in every leader room."""

    __tablename__ = "role_grants"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_role_grants_user_role"),)


class CalcScenario(Base):
    """A calculation a leader ran (``#N``): the model and the overrides, enough to compute it again."""

    __tablename__ = "calc_scenarios"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    author: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    model_id: Mapped[str] = mapped_column(String(64))
    overrides: Mapped[str] = mapped_column(Text)  # JSON {key: value as typed}
    npv: Mapped[float | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
