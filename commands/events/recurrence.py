"""Repeating events: ``weekly``, ``monthly`` or an RFC 5545 ``RRULE``, in local wall time.

The rule is expanded by ``dateutil.rrule`` over *naive local* times and only
then placed in the zone (``timeparse.wall_to_instant``), so a weekly 18:00
Europe/Warsaw meeting stays at 18:00 on both sides of a DST change — the
interval-trigger drift other reminder bots suffer from. It is also exactly how
calendar clients expand ``DTSTART;TZID=…`` + ``RRULE``, so the ``.ics`` export
and the reminders agree.

A ``Recurrence`` keeps the canonical rule text (what goes into the database
and the ``.ics``); the start it applies to is stored with the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.args import fold

from .messages import EventError
from .timeparse import format_local, utc, wall_to_instant

if TYPE_CHECKING:
    from dateutil.rrule import rrule

# More often than daily would make every reminder a flood; nobody needs it for events.
ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
ALLOWED_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH",
                 "BYSETPOS", "BYWEEKNO", "BYYEARDAY", "WKST")
MAX_COUNT = 1000

_NAMED_RULES = {
    phrase: rule
    for rule, phrases in (
        ("FREQ=DAILY", ("daily", "every day", "codziennie", "co dzien")),
        ("FREQ=WEEKLY", ("weekly", "every week", "co tydzien", "tygodniowo", "cotygodniowo", "raz w tygodniu")),
        ("FREQ=MONTHLY", ("monthly", "every month", "co miesiac", "miesiecznie", "comiesiecznie",
                          "raz w miesiacu")),
        ("FREQ=YEARLY", ("yearly", "annually", "every year", "co rok", "corocznie", "rocznie", "raz w roku")),
    )
    for phrase in phrases
}
_EVERY_N = re.compile(r"^(?:every|co)\s+(\d+)\s+([a-z]+)$")
_EVERY_UNITS = {
    "DAILY": "days dni", "WEEKLY": "weeks tygodnie tygodni",
    "MONTHLY": "months miesiace miesiecy", "YEARLY": "years lata lat",
}
_NO_REPEAT = {"", "-", "none", "no", "never", "once", "nie", "brak", "jednorazowo", "jednorazowe"}


@dataclass(frozen=True)
class Recurrence:
    """A validated rule, e.g. ``FREQ=WEEKLY;INTERVAL=2`` (``UNTIL`` always in UTC, as RFC 5545 wants)."""

    rule: str

    def __str__(self) -> str:
        return f"RRULE:{self.rule}"


def parse_repeat(text: str, start: datetime) -> Recurrence | None:
    """``weekly``/``co tydzień``/``every 2 weeks``/``RRULE:…`` for an event starting at ``start``.

    None means "does not repeat". Errors name the value and the reason; the
    start must be the first occurrence, because RFC 5545 leaves a ``DTSTART``
    outside its own rule undefined and calendar clients disagree about it.
    """
    folded = re.sub(r"\s+", " ", fold(text)).strip()
    if folded in _NO_REPEAT:
        return None
    rule = _NAMED_RULES.get(folded) or _every_n(folded)
    if rule is None:
        body = re.sub(r"^\s*rrule\s*:", "", text.strip(), flags=re.IGNORECASE)
        rule = _canonical(body, start, text)
    recurrence = Recurrence(rule)
    first = next(iter(_rrule(recurrence, start)), None)
    if first is None:
        raise EventError("events.error.repeat_empty", field="repeat", value=text)
    if first != start.replace(tzinfo=None):
        raise EventError("events.error.repeat_start_mismatch", field="repeat", value=text,
                         start=format_local(start))
    return recurrence


def _every_n(folded: str) -> str | None:
    match = _EVERY_N.match(folded)
    if not match:
        return None
    for freq, units in _EVERY_UNITS.items():
        if match[2] in units.split():
            interval = int(match[1])
            return f"FREQ={freq}" if interval == 1 else f"FREQ={freq};INTERVAL={interval}"
    return None


def _canonical(body: str, start: datetime, text: str) -> str:
    """Check an RRULE value part by part and write it back normalised."""
    parts: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in body.split(";"))):
        name, sep, value = item.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not value or name in parts:
            raise EventError("events.error.repeat_invalid", field="repeat", value=text)
        if name not in ALLOWED_PARTS:
            raise EventError("events.error.repeat_part_unsupported", field="repeat", value=text,
                             part=name, allowed=", ".join(ALLOWED_PARTS))
        parts[name] = value
    if parts.get("FREQ") not in ALLOWED_FREQ:
        key = ("events.error.repeat_too_frequent" if parts.get("FREQ") in ("HOURLY", "MINUTELY", "SECONDLY")
               else "events.error.repeat_invalid")
        raise EventError(key, field="repeat", value=text)
    if "COUNT" in parts and "UNTIL" in parts:
        raise EventError("events.error.repeat_count_and_until", field="repeat", value=text)
    for name in ("INTERVAL", "COUNT"):
        if name in parts and not (parts[name].isdigit() and 1 <= int(parts[name]) <= MAX_COUNT):
            raise EventError("events.error.repeat_number", field="repeat", value=text,
                             part=name, limit=MAX_COUNT)
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_utc(parts["UNTIL"], start, text)
    rule = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        _rrule(Recurrence(rule), start)
    except (ValueError, TypeError):
        raise EventError("events.error.repeat_invalid", field="repeat", value=text) from None
    return rule


def _until_utc(value: str, start: datetime, text: str) -> str:
    """``UNTIL`` as UTC. A date or a floating time is read in the event's zone (a date: its last minute)."""
    zone = start.tzinfo
    try:
        if re.fullmatch(r"\d{8}", value):
            local = datetime.strptime(value, "%Y%m%d").replace(hour=23, minute=59, second=59)
        elif re.fullmatch(r"\d{8}T\d{6}Z", value):
            return value
        else:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S")
    except ValueError:
        raise EventError("events.error.repeat_invalid", field="repeat", value=text) from None
    return wall_to_instant(local, zone).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _rrule(recurrence: Recurrence, start: datetime) -> rrule:
    """The dateutil rule over naive wall times of ``start``'s zone."""
    from dateutil.rrule import rrulestr  # when a repeating event is planned, not at start

    zone = start.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise TypeError("a recurrence needs a start in a ZoneInfo zone")
    parts = dict(p.split("=", 1) for p in recurrence.rule.split(";"))
    until = parts.pop("UNTIL", None)
    rule = rrulestr("RRULE:" + ";".join(f"{k}={v}" for k, v in parts.items()),
                    dtstart=start.replace(tzinfo=None))
    if until:
        # dateutil compares UNTIL with naive wall times, so give it the wall time too.
        instant = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        rule = rule.replace(until=instant.astimezone(zone).replace(tzinfo=None))
    return rule


def occurrences(start: datetime, recurrence: Recurrence | None,
                after: datetime, before: datetime) -> list[datetime]:
    """Starts of the occurrences with ``after <= start < before``, aware, in the event's zone."""
    after, before = utc(after), utc(before)
    if recurrence is None:
        return [start] if after <= utc(start) < before else []
    zone = start.tzinfo
    # A day of slack either side of the naive bounds covers any UTC offset; the
    # exact filter is done on aware instants.
    low = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    high = before.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = (wall_to_instant(naive, zone) for naive in _rrule(recurrence, start).between(low, high, inc=True))
    return [occ for occ in found if after <= utc(occ) < before]


def next_occurrences(start: datetime, recurrence: Recurrence | None, after: datetime,
                     count: int) -> list[datetime]:
    """Up to ``count`` occurrences at or after ``after`` (for "upcoming events" lists)."""
    after = utc(after)
    if recurrence is None:
        return [start] if count > 0 and utc(start) >= after else []
    zone = start.tzinfo
    found: list[datetime] = []
    low = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    for naive in _rrule(recurrence, start).xafter(low, inc=True):
        if len(found) >= count:
            break
        occ = wall_to_instant(naive, zone)
        if utc(occ) >= after:
            found.append(occ)
    return found


def next_occurrence(start: datetime, recurrence: Recurrence | None, after: datetime) -> datetime | None:
    """The first occurrence at or after ``after``, or None when the series is over."""
    found = next_occurrences(start, recurrence, after, 1)
    return found[0] if found else None


def last_occurrence(start: datetime, recurrence: Recurrence | None) -> datetime | None:
    """The start of the last occurrence (the start itself for a single event); None for a series without end."""
    if recurrence is None:
        return start
    if not is_bounded(recurrence):
        return None
    last = None
    for last in _rrule(recurrence, start):
        pass
    return wall_to_instant(last, start.tzinfo) if last is not None else None  # type: ignore[arg-type]


def is_bounded(recurrence: Recurrence | None) -> bool:
    """False for a series that goes on for ever."""
    return recurrence is None or "COUNT=" in recurrence.rule or "UNTIL=" in recurrence.rule
