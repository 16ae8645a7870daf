"""iCalendar (RFC 5545) export: one event (``!event ics N``) or the feed (``/events.ics``).

Times are written as ``DTSTART;TZID=<IANA name>`` with the recurrence as
``RRULE`` in that zone, never converted to UTC or to a fixed offset, so a
calendar expands a weekly 18:00 meeting at 18:00 local on both sides of a DST
change. Every TZID used gets a ``VTIMEZONE`` generated from zoneinfo by
icalendar (``Calendar.add_missing_timezones``), because RFC 5545 requires one
and not every client knows IANA names by heart.

Output is deterministic for given inputs (``stamp`` is passed in), so the
feed can be cached or compared. icalendar is imported when a file is made, not
when the bot starts (it costs ~3 MB of memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable

from .form import EventDraft

if TYPE_CHECKING:
    from icalendar import Calendar, Event

PRODID = "-//Leaders Hub//Events//EN"
# VTIMEZONE rules are generated up to this year at least; later years are
# covered by the client's own copy of the IANA zone the TZID names.
VTIMEZONE_UNTIL_YEAR = 2038


@dataclass(frozen=True)
class IcsEntry:
    """An event as stored: its draft plus identity and state.

    ``uid`` must never change for an event (see ``event_uid``); ``sequence`` is
    the number of edits so far — calendars only take an update whose SEQUENCE
    grew, so the caller bumps it on every edit that changes the event.
    """

    uid: str
    draft: EventDraft
    sequence: int = 0
    cancelled: bool = False
    confirmed: bool = True


def event_uid(event_id: str | int, domain: str) -> str:
    """A globally unique, stable UID: the event id under the bot's server name."""
    return f"event-{event_id}@{domain}"


def event_component(entry: IcsEntry, stamp: datetime) -> Event:
    from icalendar import Event, vRecur  # when a file is made: see the module docstring

    draft = entry.draft
    status = "CANCELLED" if entry.cancelled else "CONFIRMED" if entry.confirmed else "TENTATIVE"
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
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


def _calendar(entries: list[IcsEntry], stamp: datetime, method: str) -> Calendar:
    from icalendar import Calendar  # when a file is made: see the module docstring

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    for entry in entries:
        calendar.add_component(event_component(entry, stamp))
    if entries:
        first = min(entry.draft.start for entry in entries)
        last = max(entry.draft.end for entry in entries)
        calendar.add_missing_timezones(
            first_date=date(first.year, 1, 1),
            last_date=date(max(VTIMEZONE_UNTIL_YEAR, last.year + 1), 1, 1),
        )
    return calendar


def event_calendar(entry: IcsEntry, *, stamp: datetime) -> bytes:
    """The ``.ics`` file of one event; a cancelled one is exported as ``STATUS:CANCELLED``."""
    return _calendar([entry], stamp, "PUBLISH").to_ical()


def in_feed(entry: IcsEntry, now: datetime) -> bool:
    """Confirmed, not cancelled, and not over (a series while it goes on)."""
    return entry.confirmed and not entry.cancelled and not entry.draft.has_ended(now)


def feed_calendar(entries: Iterable[IcsEntry], *, now: datetime, name: str = "Leaders Hub",
                  zone: str = "UTC") -> bytes:
    """The subscription feed: every event ``in_feed`` at ``now``, ordered by start.

    RFC 5545 wants at least one component in a calendar; an empty feed carries
    the VTIMEZONE of ``zone`` (the bot's zone) so it still validates.
    """
    chosen = sorted((e for e in entries if in_feed(e, now)), key=lambda e: (e.draft.start, e.uid))
    calendar = _calendar(chosen, now, "PUBLISH")
    if not chosen:
        from icalendar import Timezone

        calendar.add_component(Timezone.from_tzid(zone, first_date=date(now.year, 1, 1),
                                                  last_date=date(now.year + 2, 1, 1)))
    calendar.add("name", name)  # RFC 7986
    calendar.add("x-wr-calname", name)  # what Google and Apple read
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar.to_ical()
