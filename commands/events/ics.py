"""iCalendar (RFC 5545) export: one event (``!event ics N``) or the feed (``/events.ics``).

Times are written as ``DTSTART;TZID=<IANA name>`` with the recurrence as
``RRULE`` in that zone, never converted to UTC or to a fixed offset, so a
calendar expands a weekly 18:00 meeting at 18:00 local on both sides of a DST
change. Every TZID used gets a ``VTIMEZONE`` written from tzdata by
``vtimezone.py`` (RFC 5545 requires one, not every client knows IANA names by
heart, and icalendar's own writes onsets that ical.js reads an hour off).

Output is a function of the stored data only: ``DTSTAMP`` and ``LAST-MODIFIED``
are the event's last change, VTIMEZONEs come first in TZID order, events by
start and UID — so the feed is byte-identical while nothing changes, and its
``ETag`` means something. icalendar is imported when a file is made, not when
the bot starts (it costs ~3 MB of memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable

from .form import EventDraft
from .vtimezone import vtimezone

if TYPE_CHECKING:
    from icalendar import Calendar, Event

PRODID = "-//Leaders Hub//Events//EN"


@dataclass(frozen=True)
class IcsEntry:
    """An event as stored: its draft plus identity and state.

    ``uid`` must never change for an event (see ``event_uid``); ``changed`` is
    when it last changed (its DTSTAMP and LAST-MODIFIED); ``sequence`` is
    the number of edits so far — calendars only take an update whose SEQUENCE
    grew, so the caller bumps it on every edit that changes the event.
    """

    uid: str
    draft: EventDraft
    changed: datetime
    sequence: int = 0
    cancelled: bool = False
    confirmed: bool = True


def event_uid(event_id: str | int, domain: str) -> str:
    """A globally unique, stable UID: the event id under the bot's server name."""
    return f"event-{event_id}@{domain}"


def event_component(entry: IcsEntry) -> Event:
    from icalendar import Event, vRecur  # when a file is made: see the module docstring

    draft = entry.draft
    status = "CANCELLED" if entry.cancelled else "CONFIRMED" if entry.confirmed else "TENTATIVE"
    changed = entry.changed.astimezone(timezone.utc).replace(microsecond=0)
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("sequence", entry.sequence)
    event.add("summary", draft.title)
    event.add("dtstart", draft.start)
    if draft.duration:
        # A series carries its length as DURATION (it applies to each instance);
        # a single event its end as DTEND in the same zone.
        if draft.repeat:
            event.add("duration", draft.duration)
        else:
            event.add("dtend", draft.end)
    if draft.repeat:
        event.add("rrule", vRecur.from_ical(draft.repeat.rule))
    if draft.place or draft.link:
        event.add("location", draft.place or draft.link)
    if draft.link:
        event.add("url", draft.link)
    if draft.description:
        event.add("description", draft.description)
    event.add("status", status)
    return event


def _calendar(entries: list[IcsEntry], method: str, empty_zone: tuple[str, int] | None = None) -> Calendar:
    from icalendar import Calendar  # when a file is made: see the module docstring

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    years: dict[str, list[int]] = {}
    for entry in entries:
        years.setdefault(entry.draft.zone, []).append(entry.draft.start.year)
    if not years and empty_zone:
        years[empty_zone[0]] = [empty_zone[1]]
    for zone in sorted(years):  # RFC 5545 wants one per TZID used; before the events, for old readers
        calendar.add_component(vtimezone(zone, min(years[zone]), max(years[zone]) + 1))
    for entry in entries:
        calendar.add_component(event_component(entry))
    return calendar


def event_calendar(entry: IcsEntry) -> bytes:
    """The ``.ics`` file of one event; a cancelled one is exported as ``STATUS:CANCELLED``."""
    return _calendar([entry], "PUBLISH").to_ical()


def in_feed(entry: IcsEntry, now: datetime) -> bool:
    """Confirmed, not cancelled, and not over (a series while it goes on)."""
    return entry.confirmed and not entry.cancelled and not entry.draft.has_ended(now)


def feed_changed(entries: Iterable[IcsEntry], now: datetime) -> datetime | None:
    """When the feed's content last changed (its Last-Modified): the latest change of an event in it or
    cancelled out of it, or the end of one that left it by ending. ``entries``: confirmed and cancelled."""
    from .recurrence import last_occurrence

    moments = []
    for entry in entries:
        moments.append(entry.changed)
        if entry.confirmed and not entry.cancelled and not in_feed(entry, now):
            last = last_occurrence(entry.draft.start, entry.draft.repeat)
            if last is not None:
                moments.append(entry.draft.end_of(last))
    return max((m.astimezone(timezone.utc) for m in moments), default=None)


def feed_calendar(entries: Iterable[IcsEntry], *, now: datetime, name: str = "Leaders Hub",
                  zone: str = "UTC") -> bytes:
    """The subscription feed: every event ``in_feed`` at ``now``, ordered by start.

    RFC 5545 wants at least one component in a calendar; an empty feed carries
    the VTIMEZONE of ``zone`` (the bot's zone) so it still validates.
    """
    chosen = sorted((e for e in entries if in_feed(e, now)), key=lambda e: (e.draft.start, e.uid))
    calendar = _calendar(chosen, "PUBLISH", empty_zone=(zone, now.year))
    calendar.add("name", name)  # RFC 7986
    calendar.add("x-wr-calname", name)  # what Google and Apple read
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar.to_ical()
