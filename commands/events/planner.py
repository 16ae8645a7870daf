"""What to send when: the planned announcements and reminders of events, and late-send decisions.

The scheduler (runtime) asks for the sends due in a window and stores them;
every send has an ``id`` derived only from the event id, the kind, the
occurrence and the offset, so planning the same window twice — or again after
a restart — yields the same ids, and the Matrix transaction id derived from it
(``PlannedSend.txn_id``) makes a resend after a crash a no-op on the server.
Editing an event's time changes the occurrence part, so stale reminders are
recognisable as ids that are no longer planned.
"""

from __future__ import annotations


from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from basics.ids import txn_id

from .form import AnnouncementDraft, EventDraft
from .recurrence import Recurrence, occurrences
from .timeparse import format_duration, shift_wall, utc

DEFAULT_GRACE = timedelta(minutes=30)
# A send this little behind its due time is on time, not "late" (scheduler jitter).
ON_TIME = timedelta(minutes=1)
REGISTRATION_NOTICE = timedelta(days=1)

Kind = Literal["announce", "reminder", "registration", "post"]
Decision = Literal["send", "late", "skip"]


@dataclass(frozen=True)
class PlannedSend:
    """One message to send to the event's rooms at ``due_at`` (local time of the event)."""

    due_at: datetime
    id: str
    kind: Kind
    occurrence: datetime | None = None  # the occurrence a reminder or post is about
    offset: timedelta | None = None  # how long before the occurrence (reminders)
    expires_at: datetime | None = None  # pointless from then on (the event has started…)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return utc(self.due_at), self.id

    def txn_id(self, room_id: str) -> str:
        """A Matrix transaction id, stable for this send in this room."""
        return txn_id(f"{self.id}|{room_id}")


@dataclass(frozen=True)
class EventTiming:
    """The parts of an event the planner needs; ``announced_at`` is when it was confirmed."""

    event_id: str | int
    start: datetime
    announced_at: datetime
    repeat: Recurrence | None = None
    reminders: tuple[timedelta, ...] = ()
    registration_until: datetime | None = None

    @classmethod
    def of(cls, event_id: str | int, draft: EventDraft, announced_at: datetime) -> "EventTiming":
        return cls(event_id, draft.start, announced_at, draft.repeat, draft.reminders, draft.registration_until)


def _instant(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def plan_event(event: EventTiming, since: datetime, until: datetime) -> list[PlannedSend]:
    """Sends of ``event`` due in ``[since, until)``, by due time.

    The announcement is due on confirmation (once, even for a series); then
    each reminder offset before every occurrence, counted on the local wall
    clock (``shift_wall``: 1d before Monday 18:00 is Sunday 18:00 across DST);
    then one reminder a day before the registration deadline. Nothing is
    planned before the announcement: a reminder that would precede it is moot.
    """
    key = f"event:{event.event_id}"
    since, until, announced = utc(since), utc(until), utc(event.announced_at)
    sends: list[PlannedSend] = []
    if since <= announced < until:
        sends.append(PlannedSend(event.announced_at, f"{key}:announce", "announce"))

    if event.reminders:
        # Occurrences whose reminders can fall in the window; a day of slack for wall-clock shifts.
        reach = max(event.reminders) + timedelta(days=1)
        for occ in occurrences(event.start, event.repeat, since - timedelta(days=1), until + reach):
            if utc(occ) < announced:
                continue
            for offset in event.reminders:
                due = shift_wall(occ, -offset)
                if since <= utc(due) < until and utc(due) >= announced:
                    sends.append(PlannedSend(
                        due, f"{key}:reminder:{_instant(occ)}:{format_duration(offset)}", "reminder",
                        occurrence=occ, offset=offset, expires_at=occ))

    deadline = event.registration_until
    if deadline is not None:
        due = shift_wall(deadline, -REGISTRATION_NOTICE)
        if since <= utc(due) < until and utc(due) >= announced:
            sends.append(PlannedSend(due, f"{key}:registration:{_instant(deadline)}", "registration",
                                     expires_at=deadline))
    return sorted(sends, key=lambda send: send.sort_key)


def plan_announcement(announcement_id: str | int, draft: AnnouncementDraft,
                      since: datetime, until: datetime) -> list[PlannedSend]:
    """Posts of a scheduled announcement due in ``[since, until)``: one per occurrence."""
    return [
        PlannedSend(occ, f"announcement:{announcement_id}:post:{_instant(occ)}", "post", occurrence=occ)
        for occ in occurrences(draft.when, draft.repeat, since, until)
    ]


def decide_late(
    due_at: datetime,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    *,
    expires_at: datetime | None = None,
    on_time: timedelta = ON_TIME,
) -> Decision:
    """What to do with a send found due at ``now`` (typically after the bot was down).

    ``send`` — on time (or early); ``late`` — send, marked as late, it is within
    ``grace``; ``skip`` — too old, or past ``expires_at`` (a reminder after the
    event began would mislead). The caller records a skip; nothing is dropped silently.
    """
    if expires_at is not None and utc(now) >= utc(expires_at):
        return "skip"
    lateness = utc(now) - utc(due_at)
    if lateness <= on_time:
        return "send"
    if lateness <= grace:
        return "late"
    return "skip"
