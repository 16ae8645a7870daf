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


class HubEvent(Base):
    """An event a coordinator scheduled; ``data`` is the validated draft as JSON."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | confirmed | cancelled
    created_by: Mapped[str] = mapped_column(String(255))
    created_room: Mapped[str] = mapped_column(String(255))
    source_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Every write to the row is a change of the event (status, data, sequence…): the calendars' DTSTAMP.
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=utcnow,
                                                        onupdate=utcnow)


class EventMessage(Base):
    """An announcement or reminder the bot posted for an event: reactions on it are RSVPs.

    An announcement shows the RSVP counts and is edited (``m.replace``) when they change: ``shown`` is
    what it shows now (``yes/maybe/no``), ``edits`` how many edits it has had, ``edited_at`` the last.
    """

    __tablename__ = "event_messages"
    matrix_event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[int] = mapped_column(index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # announce | reminder | registration
    shown: Mapped[str | None] = mapped_column(String(64), nullable=True)
    edits: Mapped[int] = mapped_column(default=0, server_default="0")
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Rsvp(Base):
    __tablename__ = "rsvps"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    answer: Mapped[str] = mapped_column(String(8))  # yes | no | maybe
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_rsvps_event_user"),)


class ScheduledSend(Base):
    """One message due at one time in one room: the database is the truth, the scheduler only a timer.

    ``send_key`` is the planner's stable id (event, kind, occurrence, offset); the Matrix
    transaction id is derived from it and the room, so a resend after a crash is a no-op.
    """

    __tablename__ = "scheduled_sends"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    send_key: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(16))  # event | announcement
    owner_id: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))  # announce | reminder | registration | post | cancel | update
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    occurrence: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    matrix_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (UniqueConstraint("send_key", "room_id", name="uq_scheduled_sends_key_room"),)


class Announcement(Base):
    """A plain scheduled announcement (``!announce``)."""

    __tablename__ = "announcements"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # {"when": iso, "zone": …, "repeat": rule|None, "rooms": […]}
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    created_by: Mapped[str] = mapped_column(String(255))
    created_room: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
