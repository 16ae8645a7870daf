"""Events, their planned sends, RSVPs, the messages announcing them, plain announcements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


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
