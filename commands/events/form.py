"""The ``Field: value`` form of ``!event add`` / ``!event edit``, and the ``!announce`` arguments.

Field names are accepted in English and Polish, in any case, with or without
Polish diacritics. Everything is validated before anything is built: a form
either becomes a complete ``EventDraft`` or raises one ``EventError`` that
names the field (as the user typed it) and the value — nothing half-made.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

from bot.args import fold

from .messages import FIELD_LABELS, EventError, field_label
from .recurrence import Recurrence, is_bounded, next_occurrence, parse_repeat
from .timeparse import (
    format_duration,
    format_local,
    get_zone,
    localize,
    parse_duration,
    parse_offsets,
    parse_when,
    utc,
    zone_name,
)

ROOMS_THIS = "this"  # the room the command was sent in; the chat layer resolves it
ROOMS_ALL = "all"  # every leader room
DEFAULT_REMINDERS = (timedelta(days=1), timedelta(hours=1))
MAX_REMINDERS = 10
MAX_DURATION = timedelta(days=31)
# A registration deadline given as a bare date means "until the end of that day".
DEADLINE_TIME = time(23, 59)
TEXT_LIMITS = {"title": 200, "place": 300, "description": 4000, "link": 2000, "registration_link": 2000}

# Field id → extra accepted names (the English and Polish labels are always accepted).
_EXTRA_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("name", "nazwa"),
    "start": ("when", "kiedy", "date", "data"),
    "end": (),
    "duration": ("czas",),
    "timezone": ("time zone", "zone", "tz", "strefa czasowa"),
    "place": ("location", "where", "gdzie"),
    "link": ("url", "online"),
    "description": ("opis wydarzenia",),
    "registration_until": ("registration deadline", "registration", "termin zapisow", "zapisy"),
    "registration_link": ("link do rejestracji", "registration url"),
    "rooms": ("room", "pokoj"),
    "reminders": ("reminder", "przypomnienie"),
    "repeat": ("recurrence", "repeats", "powtarzanie", "powtarza sie"),
}
FORM_FIELDS = tuple(_EXTRA_NAMES)
FIELD_ALIASES: dict[str, str] = {
    re.sub(r"[\s_-]+", " ", fold(name)).strip(): fid
    for fid, names in _EXTRA_NAMES.items()
    for name in (*FIELD_LABELS[fid].values(), fid, *names)
}

# "Name: value" where the name is a few words of letters; "https://…" is not a field line.
_FIELD_LINE = re.compile(r"^\s*(?P<name>[^\W\d_]+(?:[ _\-]+[^\W\d_]+){0,3})\s*:(?!//)\s*(?P<value>.*)$")
_CLEAR = {"-", "none", "brak"}  # on edit: remove an optional value
_ROOM = re.compile(r"^[!#][^\s:,]+(?::[^\s,]+)?$")
_URL = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)


@dataclass(frozen=True)
class EventDraft:
    """A validated event, ready to store. Times are aware, in the event's own zone."""

    title: str
    start: datetime
    duration: timedelta | None = None  # exact length; None = a point in time
    place: str | None = None
    link: str | None = None
    description: str | None = None
    registration_until: datetime | None = None
    registration_link: str | None = None
    rooms: tuple[str, ...] = (ROOMS_THIS,)
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    repeat: Recurrence | None = None

    @property
    def zone(self) -> str:
        return self.start.tzinfo.key  # type: ignore[union-attr]

    @property
    def end(self) -> datetime:
        return self.end_of(self.start)

    def end_of(self, occurrence: datetime) -> datetime:
        # Exact (elapsed) length for every occurrence, as RFC 5545 does for DTEND.
        length = self.duration or timedelta(0)
        return (utc(occurrence) + length).astimezone(occurrence.tzinfo)

    def has_ended(self, now: datetime) -> bool:
        """Over for good: a single event after its end, a series after its last occurrence."""
        if is_bounded(self.repeat):
            length = self.duration or timedelta(0)
            # An occurrence that starts after now - length is still running or to come.
            return next_occurrence(self.start, self.repeat, utc(now) - length + timedelta(microseconds=1)) is None
        return False


@dataclass(frozen=True)
class AnnouncementDraft:
    """A scheduled plain announcement (``!announce``)."""

    when: datetime
    text: str
    rooms: tuple[str, ...] = (ROOMS_THIS,)
    repeat: Recurrence | None = None


@dataclass
class RawForm:
    values: dict[str, str] = field(default_factory=dict)  # field id → value text
    typed: dict[str, str] = field(default_factory=dict)  # field id → the name as typed


@contextmanager
def _about(fid: str) -> Iterator[None]:
    """Attribute any error raised inside to the field ``fid``."""
    try:
        yield
    except EventError as err:
        raise err.with_field(fid) from None


def field_id(name: str) -> str | None:
    """``Zapisy do`` / ``ZAPISY DO`` / ``registration_until`` → ``registration_until``."""
    return FIELD_ALIASES.get(re.sub(r"[\s_-]+", " ", fold(name)).strip())


def _cleared(value: str) -> bool:
    return fold(value) in _CLEAR


def parse_fields(text: str, lang: str = "en") -> RawForm:
    """Split the form into fields; unknown or repeated names and stray lines are refused.

    Lines that are not ``Name: value`` continue a Description (blank lines kept
    as paragraph breaks); anywhere else they are an error.
    """
    form = RawForm()
    current: str | None = None
    for line in text.splitlines():
        match = _FIELD_LINE.match(line)
        if match:
            current = field_id(match["name"])
            if current is None:
                known = ", ".join(field_label(f, lang) for f in FORM_FIELDS)
                raise EventError("events.error.field_unknown", field=match["name"], value=line.strip(),
                                 known=known)
            if current in form.values:
                raise EventError("events.error.field_duplicate", field=match["name"])
            form.values[current] = match["value"].strip()
            form.typed[current] = match["name"]
        elif current == "description":
            form.values[current] += "\n" + line.rstrip()
        elif line.strip():
            raise EventError("events.error.stray_line", value=line.strip())
    if "description" in form.values:
        form.values["description"] = form.values["description"].strip()
    return form


def parse_event_form(
    text: str,
    *,
    now: datetime,
    default_zone: str,
    lang: str = "en",
    base: EventDraft | None = None,
) -> EventDraft:
    """The body of ``!event add`` (``base`` None) or ``!event edit`` (``base`` = the stored event).

    Errors come out labelled for ``lang``: the field named as the user typed it.
    """
    form = parse_fields(text, lang)
    try:
        return build_draft(form.values, now=now, default_zone=default_zone, base=base)
    except EventError as err:
        raise err.labelled(lang, form.typed) from None


def build_draft(
    values: dict[str, str],
    *,
    now: datetime,
    default_zone: str,
    base: EventDraft | None = None,
) -> EventDraft:
    """Validate field values (by field id) into a draft; on edit, unnamed fields keep ``base``'s values."""
    for fid, value in values.items():
        if not value:
            raise EventError("events.error.value_empty", field=fid)
    if base is None:
        for required in ("title", "start"):
            if required not in values:
                raise EventError("events.error.field_missing", field=required)
    with _about("timezone"):
        zone = get_zone(values.get("timezone") or (base.zone if base else default_zone))

    draft = base or EventDraft(title="", start=now.astimezone(zone))
    changes: dict[str, object] = {}

    if "title" in values:
        changes["title"] = _text("title", values["title"])
    if "start" in values:
        with _about("start"):
            start = parse_when(values["start"], now=now, zone=zone)
        if utc(start) <= utc(now):
            raise EventError("events.error.in_past", field="start", value=values["start"])
    elif base and zone.key != base.zone:
        # A new zone without a new start: the same wall time, read in the new zone.
        with _about("start"):
            start = localize(base.start.replace(tzinfo=None), zone, value=format_local(base.start))
    else:
        start = draft.start
    changes["start"] = start
    changes["duration"] = _length(values, start, now, zone, draft.duration)

    for fid in ("place", "description"):
        if fid in values:
            changes[fid] = None if _cleared(values[fid]) else _text(fid, values[fid])
    for fid in ("link", "registration_link"):
        if fid in values:
            changes[fid] = None if _cleared(values[fid]) else _url(fid, values[fid])

    deadline = draft.registration_until
    if deadline is not None and zone_name(deadline) != zone.key and "registration_until" not in values:
        # Like the start: a new zone keeps the deadline's wall time.
        with _about("registration_until"):
            deadline = localize(deadline.replace(tzinfo=None), zone, value=format_local(deadline))
    if "registration_until" in values:
        raw = values["registration_until"]
        if _cleared(raw):
            deadline = None
        else:
            with _about("registration_until"):
                deadline = parse_when(raw, now=now, zone=zone, default_time=DEADLINE_TIME)
            if utc(deadline) <= utc(now):
                raise EventError("events.error.in_past", field="registration_until", value=raw)
    if deadline is not None and utc(deadline) > utc(start):
        raise EventError("events.error.registration_after_start", field="registration_until",
                         value=format_local(deadline.astimezone(zone)), start=format_local(start))
    changes["registration_until"] = deadline

    if "rooms" in values:
        with _about("rooms"):
            changes["rooms"] = parse_rooms(values["rooms"])
    if "reminders" in values:
        changes["reminders"] = _reminders(values["reminders"])

    repeat_text = values.get("repeat", str(draft.repeat) if draft.repeat else "")
    # Re-checked on every edit: a moved start must still be the rule's first occurrence.
    with _about("repeat"):
        changes["repeat"] = parse_repeat(repeat_text, start) if repeat_text else None

    return replace(draft, **changes)


def _length(values: dict[str, str], start: datetime, now: datetime, zone: ZoneInfo,
            kept: timedelta | None) -> timedelta | None:
    if "end" in values and "duration" in values:
        raise EventError("events.error.end_and_duration", field="end", other="duration")
    if "end" in values:
        if _cleared(values["end"]):
            return None
        with _about("end"):
            end = parse_when(values["end"], now=now, zone=zone, base_date=start.date())
        if utc(end) <= utc(start):
            raise EventError("events.error.end_before_start", field="end", value=values["end"],
                             start=format_local(start))
        length = utc(end) - utc(start)  # real elapsed time, even across a DST change
    elif "duration" in values:
        if _cleared(values["duration"]):
            return None
        with _about("duration"):
            length = parse_duration(values["duration"])
    else:
        return kept
    if length > MAX_DURATION:
        field_name = "end" if "end" in values else "duration"
        raise EventError("events.error.duration_too_long", field=field_name, value=values[field_name],
                         limit=format_duration(MAX_DURATION))
    return length


def _text(fid: str, value: str) -> str:
    limit = TEXT_LIMITS[fid]
    if len(value) > limit:
        raise EventError("events.error.text_too_long", field=fid, count=len(value), limit=limit)
    return value


def _url(fid: str, value: str) -> str:
    if not _URL.match(value):
        raise EventError("events.error.link_invalid", field=fid, value=value)
    return _text(fid, value)


def _reminders(value: str) -> tuple[timedelta, ...]:
    with _about("reminders"):
        offsets = parse_offsets(value)
    if len(offsets) > MAX_REMINDERS:
        raise EventError("events.error.reminder_too_many", field="reminders", count=len(offsets),
                         limit=MAX_REMINDERS)
    return offsets


def parse_rooms(value: str) -> tuple[str, ...]:
    """``this`` / ``all`` / ``!id:server, #alias:server`` (a bare ``#alias`` is completed by the chat layer)."""
    rooms: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        word = fold(item)
        if word in ("all", "wszystkie", "wszystkie pokoje"):
            return (ROOMS_ALL,)
        if word in ("this", "here", "ten", "tutaj", "tu", "ten pokoj"):
            item = ROOMS_THIS
        elif not _ROOM.match(item):
            raise EventError("events.error.room_invalid", field="rooms", value=item or value)
        if item not in rooms:
            rooms.append(item)
    return tuple(rooms)


def build_announcement(
    when: str,
    text: str,
    *,
    now: datetime,
    zone: str,
    rooms: str | None = None,
    repeat: str | None = None,
    lang: str = "en",
) -> AnnouncementDraft:
    """``!announce "<when>" [rooms:…] [repeat:…] <text>`` once the chat layer has split it."""
    try:
        with _about("when"):
            tz = get_zone(zone)
            at = parse_when(when, now=now, zone=tz)
        if utc(at) <= utc(now):
            raise EventError("events.error.in_past", field="when", value=when)
        if not text.strip():
            raise EventError("events.error.value_empty", field="text")
        with _about("rooms"):
            targets = parse_rooms(rooms) if rooms else (ROOMS_THIS,)
        with _about("repeat"):
            rule = parse_repeat(repeat, at) if repeat else None
    except EventError as err:
        raise err.labelled(lang) from None
    return AnnouncementDraft(when=at, text=text.strip(), rooms=targets, repeat=rule)
