"""Reading the times people type, in English and Polish, into aware datetimes.

Everything is relative to an injected ``now`` and an IANA zone, so the parser
is pure and testable. Wall-clock rules follow RFC 5545, the same rules the
recurrence and ``.ics`` code uses, so what the bot plans is what calendars show:

* A typed local time that does not exist (the hour skipped in March) is
  refused — the user must choose; a typed time that exists twice (the hour
  repeated in October) means the first one (``fold=0``).
* A computed wall time that falls into a gap (a recurrence, a "1 day before"
  reminder) is moved forward by the gap, as RFC 5545 prescribes for instances.
* Spans of whole days move the calendar date and keep the local time
  ("in 3 days", a 1d reminder); the rest is elapsed time ("in 2 hours").
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.args import fold
from basics.durations import format_duration as common_format_duration

from .messages import EventError

UTC = timezone.utc


# --- zones and wall time -------------------------------------------------------------

_NOT_ZONES = {"localtime", "posixrules", "factory"}  # files the system's zoneinfo folder also holds


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    # Only real IANA names (no "localtime", no file paths); matched case-insensitively.
    return {
        name.lower(): name
        for name in available_timezones()
        if name.lower() not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    }


def get_zone(name: str | ZoneInfo) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name typed in any case; ``zone_unknown`` otherwise."""
    if isinstance(name, ZoneInfo):
        return name
    canonical = _zone_names().get(name.strip().lower())
    if canonical is None:
        raise EventError("events.error.zone_unknown", field="timezone", value=name)
    return ZoneInfo(canonical)


def zone_name(dt: datetime) -> str:
    """The IANA name of an aware datetime's zone (we never build fixed offsets)."""
    tz = dt.tzinfo
    if not isinstance(tz, ZoneInfo):
        raise ValueError(f"expected a datetime in a ZoneInfo zone, got {tz!r}")
    return tz.key


def is_nonexistent(naive: datetime, zone: ZoneInfo) -> bool:
    """True for a wall time the clocks skip (it does not survive a round trip through UTC)."""
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive


def wall_to_instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """RFC 5545 instance rule: ambiguous → first, in a gap → shifted forward by the gap."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def localize(naive: datetime, zone: ZoneInfo, *, value: str) -> datetime:
    """A typed wall time as an aware datetime; a skipped one is refused, naming ``value``."""
    if is_nonexistent(naive, zone):
        raise EventError("events.error.time_nonexistent", value=value, zone=zone.key)
    return naive.replace(tzinfo=zone, fold=0)


def shift_wall(dt: datetime, delta: timedelta) -> datetime:
    """``dt + delta`` with whole days on the calendar (same local time) and the rest elapsed.

    So a 1-day reminder before Monday 18:00 is Sunday 18:00 even when the clocks
    changed in between, and "1h" is always sixty real minutes.
    """
    zone = dt.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise TypeError("shift_wall needs a datetime in a ZoneInfo zone")
    sign = -1 if delta < timedelta(0) else 1
    magnitude = abs(delta)
    days, rest = timedelta(days=magnitude.days), magnitude - timedelta(days=magnitude.days)
    wall = dt.replace(tzinfo=None) + sign * days
    moved = wall_to_instant(wall, zone) if days else dt
    return (moved.astimezone(UTC) + sign * rest).astimezone(zone)


def utc(dt: datetime) -> datetime:
    """The same instant in UTC.

    Needed for every comparison and subtraction: Python compares and subtracts
    two datetimes that share a tzinfo by wall time, ignoring the UTC offset and
    ``fold`` — wrong by an hour across a DST change.
    """
    return dt.astimezone(UTC)


def format_local(dt: datetime) -> str:
    """How the bot writes a time back to the user (in the datetime's own zone)."""
    return dt.strftime("%Y-%m-%d %H:%M")


# --- durations ------------------------------------------------------------------------

_UNITS: dict[str, timedelta] = {}
for _words, _unit in (
    ("s sec secs second seconds sekunda sekunde sekundy sekund", timedelta(seconds=1)),
    ("m min mins minute minutes minuta minute minuty minut minutke minutki", timedelta(minutes=1)),
    ("h hr hrs hour hours godz godzina godzine godziny godzin g", timedelta(hours=1)),
    ("d day days dzien dni dnia doba dobe doby dob", timedelta(days=1)),
    ("w wk wks week weeks tydzien tygodnie tygodni tyg tydz", timedelta(weeks=1)),
):
    for _word in _words.split():
        _UNITS[_word] = _unit

# Number words that stand in for digits: "in an hour", "za pół godziny", "półtorej godziny".
_WORD_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "jeden": 1.0, "jedna": 1.0, "jedno": 1.0,
                 "jedne": 1.0, "half": 0.5, "pol": 0.5, "poltorej": 1.5, "poltora": 1.5}
_AND = {"and", "i"}
_SPAN_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([a-z]+)|(.))")


def _parse_span(text: str) -> timedelta | None:
    """``90m``, ``1h30m``, ``2 hours``, ``1 godzinę i 30 minut``, ``a day``; None if not a span."""
    total, pending, seen = timedelta(0), None, False
    for number, word, other in _SPAN_TOKEN.findall(fold(text).strip()):
        if other:
            return None
        if number:
            if pending is not None:
                return None
            pending = float(number)
        elif word in _WORD_NUMBERS and pending is None:
            pending = _WORD_NUMBERS[word]
        elif word in ("a", "an") and pending == 0.5:
            continue  # "half an hour"
        elif word in _AND and pending is None and seen:
            continue
        elif word in _UNITS:
            total += _UNITS[word] * (1.0 if pending is None else pending)
            pending, seen = None, True
        else:
            return None
    if pending is not None or not seen:
        return None
    if total.total_seconds() % 60:
        # Seconds were named ("in 30 seconds": a test or a quick check): keep them, whole seconds.
        return timedelta(seconds=round(total.total_seconds()))
    # Otherwise whole minutes: nobody schedules to the second.
    return timedelta(minutes=round(total.total_seconds() / 60))


def parse_duration(text: str) -> timedelta:
    """A positive duration; ``duration_invalid`` naming the value otherwise."""
    span = _parse_span(text)
    if span is None or span <= timedelta(0):
        raise EventError("events.error.duration_invalid", value=text)
    return span


_NO_OFFSETS = {"none", "no", "off", "brak", "nie", "zadne", "-"}


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """``1d, 1h, 10m`` → offsets before the start, largest first, without repeats.

    ``none``/``brak`` is an explicit empty list (no reminders).
    """
    if fold(text).strip() in _NO_OFFSETS:
        return ()
    offsets = set()
    for part in re.split(r"[,;]", text):
        span = _parse_span(part) if part.strip() else None
        if span is None or span <= timedelta(0):
            raise EventError("events.error.reminder_invalid", value=text)
        offsets.add(span)
    return tuple(sorted(offsets, reverse=True))


def format_duration(delta: timedelta) -> str:
    """``timedelta(days=1, minutes=90)`` → ``1d1h30m``: the compact form the parser reads back."""
    return common_format_duration(delta, zero="0m")


# --- points in time -------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {}
for _index, _words in enumerate((
    "monday mon poniedzialek pon pn",
    "tuesday tue tues wtorek wt",
    "wednesday wed sroda srode sr",
    "thursday thu thur thurs czwartek czw",
    "friday fri piatek pt",
    "saturday sat sobota sobote sob",
    "sunday sun niedziela niedziele niedz nd",
)):
    for _word in _words.split():
        _WEEKDAYS[_word] = _index

_DAY_OFFSETS = {"today": 0, "dzis": 0, "dzisiaj": 0, "tomorrow": 1, "jutro": 1,
                "pojutrze": 2, "day after tomorrow": 2}

_TIME = r"(?:(?:at|o|o godz\.?|godz\.?|o godzinie)\s*)?(?P<h>\d{1,2})(?:[:.](?P<mi>\d{2}))?\s*(?P<ap>am|pm)?"
_DATE = (
    r"(?P<iso>(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2}))"
    r"|(?P<eu>(?P<d2>\d{1,2})\.(?P<mo2>\d{1,2})\.(?P<y2>\d{4}))"
    r"|(?:(?:on|w|we)\s+)?(?P<word>"
    + "|".join(sorted(map(re.escape, [*_DAY_OFFSETS, *_WEEKDAYS]), key=len, reverse=True))
    + ")"
)
_DATE_TIME = re.compile(rf"^(?:{_DATE})(?:(?:\s*,\s*|\s+|t){_TIME})?$")
_TIME_DATE = re.compile(rf"^{_TIME}\s*,?\s+(?:{_DATE})$")
_TIME_ONLY = re.compile(rf"^{_TIME}$")
_RELATIVE = re.compile(r"^(?:in|za)\s+(?P<span>.+)$")


def parse_when(
    text: str,
    *,
    now: datetime,
    zone: str | ZoneInfo,
    default_time: time | None = None,
    base_date: date | None = None,
) -> datetime:
    """A point in time typed by a user, as an aware datetime in ``zone``.

    ``default_time`` fills in a date given without a time (a registration
    deadline "2026-05-10" means the end of that day); without it a time is
    required. ``base_date`` is the day of a bare time ("End: 19:30" is on the
    start's day); without it a bare time is its next occurrence after ``now``.
    The result may lie in the past: whether that is allowed is the caller's call.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zone = get_zone(zone)
    local_now = now.astimezone(zone)
    folded = re.sub(r"\s+", " ", fold(text)).strip().rstrip(".,;").strip()
    if not folded:
        raise EventError("events.error.when_invalid", value=text)

    relative = _RELATIVE.match(folded)
    if relative:
        span = _parse_span(relative["span"])
        if span is None or span <= timedelta(0):
            raise EventError("events.error.when_invalid", value=text)
        base = local_now.replace(microsecond=0) if span.total_seconds() % 60 else local_now.replace(second=0,
                                                                                                    microsecond=0)
        return shift_wall(base, span)

    match = _DATE_TIME.match(folded) or _TIME_DATE.match(folded)
    if match:
        at = _time_of(match, text, default_time)
        day = _date_of(match, text, local_now, at)
        return localize(datetime.combine(day, at), zone, value=text.strip())

    match = _TIME_ONLY.match(folded)
    # A bare "18" or "18.05" is more likely a date fragment than a time: it needs
    # a colon, am/pm or a word ("o 18", "at 6") to count as a time of day.
    if match and (":" in folded or match["ap"] or folded[0].isalpha()):
        at = _time_of(match, text, None)
        day = base_date or local_now.date()
        if base_date is None and datetime.combine(day, at) <= local_now.replace(tzinfo=None):
            day += timedelta(days=1)
        return localize(datetime.combine(day, at), zone, value=text.strip())

    raise EventError("events.error.when_invalid", value=text)


def _time_of(match: re.Match, text: str, default: time | None) -> time:
    if match["h"] is None:
        if default is None:
            raise EventError("events.error.time_missing", value=text.strip())
        return default
    hour, minute, ampm = int(match["h"]), int(match["mi"] or 0), match["ap"]
    if ampm:
        if not 1 <= hour <= 12:
            raise EventError("events.error.when_invalid", value=text)
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise EventError("events.error.when_invalid", value=text)
    return time(hour, minute)


def _date_of(match: re.Match, text: str, local_now: datetime, at: time) -> date:
    if match["iso"] or match["eu"]:
        year, month, day = (match["y"], match["mo"], match["d"]) if match["iso"] else (
            match["y2"], match["mo2"], match["d2"])
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise EventError("events.error.date_invalid", value=text.strip()) from None
    word = match["word"]
    today = local_now.date()
    if word in _DAY_OFFSETS:
        return today + timedelta(days=_DAY_OFFSETS[word])
    if word in _WEEKDAYS:
        # The nearest such weekday still ahead: today only if the time is yet to come.
        ahead = (_WEEKDAYS[word] - today.weekday()) % 7
        if ahead == 0 and datetime.combine(today, at) <= local_now.replace(tzinfo=None):
            ahead = 7
        return today + timedelta(days=ahead)
    raise EventError("events.error.when_invalid", value=text)
