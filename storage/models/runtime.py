"""The runtime's tables: the sync token and state, the inbox of commands, the bot's messages, users' settings, granted roles, and the audit log every privileged action writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
    relates_to: Mapped[str | None] = mapped_column(String(255), nullable=True)  # a reaction's target
    origin_ts: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    command: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of outgoing messages
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_inbox_status", "status"),)


class BotMessage(Base):
    """Which command a message of the bot answered (a ✅ on a preview confirms what it previews)."""

    __tablename__ = "bot_messages"
    matrix_event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    source_event_id: Mapped[str] = mapped_column(String(255), index=True)


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


class AuditEntry(Base):
    """One case of the audit log: who did (or tried) what, to whom, where, when, why, and how it ended.

    ``id`` is the case number. Rows are never changed or deleted (the migration adds triggers that
    refuse UPDATE and DELETE). ``outcome`` is ``done``, ``refused`` (a check said no) or ``failed``
    (the homeserver said no). ``detail`` is JSON ``{"key": message key, "params": {...}}`` so the
    case reads in the reader's language.
    """

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="done")
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # the command's event
    command: Mapped[str | None] = mapped_column(Text, nullable=True)  # what was typed (shortened)

    __table_args__ = (
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_target", "target"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_event", "event_id"),
    )


class RoomSettings(Base):
    """A room's own settings: the language of what the bot posts there (announcements, reminders…)."""

    __tablename__ = "room_settings"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    set_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=utcnow)
