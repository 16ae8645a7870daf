"""Texts of the events core: the error messages and the field names, in both languages.

Errors are raised as ``EventError(key, **params)``. ``field`` in the params is
a canonical field id (``start``, ``registration_until``…) while the error
travels; ``EventError.labelled(lang)`` swaps it for the field's name in the
reader's language (or the exact name the user typed) just before it is shown,
so one error serves both languages and every message names field and value.
"""

from __future__ import annotations

from typing import Any

from bot.errors import CommandError
from bot.reply import clip

# Canonical field ids → display names. form.FIELD_ALIASES accepts every label
# here as a field name, so what the bot prints is always what it reads.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Title", "pl": "Tytuł"},
    "start": {"en": "Start", "pl": "Początek"},
    "end": {"en": "End", "pl": "Koniec"},
    "duration": {"en": "Duration", "pl": "Czas trwania"},
    "timezone": {"en": "Timezone", "pl": "Strefa"},
    "place": {"en": "Place", "pl": "Miejsce"},
    "link": {"en": "Link", "pl": "Link"},
    "description": {"en": "Description", "pl": "Opis"},
    "registration_until": {"en": "Registration until", "pl": "Zapisy do"},
    "registration_link": {"en": "Registration link", "pl": "Link do zapisów"},
    "rooms": {"en": "Rooms", "pl": "Pokoje"},
    "reminders": {"en": "Reminders", "pl": "Przypomnienia"},
    "repeat": {"en": "Repeat", "pl": "Powtarzaj"},
    # Not form fields: the <when> and the text of `!announce`.
    "when": {"en": "When", "pl": "Termin"},
    "text": {"en": "Text", "pl": "Treść"},
}


class EventError(CommandError):
    """Bad event or announcement input; nothing was created.

    A ``CommandError``, so the router's single error path can show it; the
    message key is in ``CATALOGUE`` below.
    """

    def __init__(self, key: str | None = None, /, **params: Any):
        # What the user typed is echoed cut to about 60 characters (a value already in code stays whole).
        for name in ("value", "part"):
            if isinstance(params.get(name), str) and not params[name].startswith("`"):
                params[name] = clip(params[name])
        super().__init__(key, **params)

    def with_field(self, field: str) -> "EventError":
        """The same error attributed to ``field`` (kept if one is already set)."""
        if self.params.get("field"):
            return self
        return EventError(self.key, **{**self.params, "field": field})

    def labelled(self, lang: str, typed: dict[str, str] | None = None) -> "EventError":
        """Show ``field`` (and ``other``) as names: as the user typed them, else the label in ``lang``."""
        field = self.params.get("field")
        if field not in FIELD_LABELS:
            return self
        params = {**self.params, "field_id": field}
        for param in ("field", "other"):
            fid = self.params.get(param)
            if fid in FIELD_LABELS:
                params[param] = (typed or {}).get(fid) or field_label(fid, lang)
        return EventError(self.key, **params)

    @property
    def field_id(self) -> str | None:
        return self.params.get("field_id") or self.params.get("field")


def field_label(field: str, lang: str) -> str:
    labels = FIELD_LABELS.get(field, {})
    return labels.get(lang) or labels.get("en") or field


_EN: dict[str, Any] = {
    "events.error.field_unknown": "Unknown field “{field}” in line “{value}”. Known fields: {known}.",
    "events.error.field_duplicate": "The field {field} is given twice.",
    "events.error.field_missing": "The field {field} is required.",
    "events.error.field_readonly": "The field {field} cannot be changed here.",
    "events.error.value_empty": "The field {field} has no value.",
    "events.error.stray_line": "The line “{value}” is not a `Field: value` line.",
    "events.error.when_invalid": (
        "{field}: “{value}” is not a date and time I understand. "
        "Try `2026-05-14 18:00`, `14.05.2026 18:00`, `tomorrow 18:00`, `friday 18:00` or `in 2 hours`."
    ),
    "events.error.time_missing": "{field}: “{value}” has no time of day; add one, e.g. `{value} 18:00`.",
    "events.error.date_invalid": "{field}: “{value}” is not a real date.",
    "events.error.time_nonexistent": (
        "{field}: {value} does not exist in {zone} — the clocks skip that hour. Choose another time."
    ),
    "events.error.in_past": "{field}: {value} is in the past.",
    "events.error.end_before_start": "{field}: {value} is not after the start ({start}).",
    "events.error.end_and_duration": "Give either {field} or {other}, not both.",
    "events.error.duration_invalid": (
        "{field}: “{value}” is not a duration. Try `90m`, `1h30m`, `2h` or `1d`."
    ),
    "events.error.duration_too_long": "{field}: {value} is longer than {limit}.",
    "events.error.zone_unknown": "{field}: “{value}” is not a known time zone. Use an IANA name such as `Europe/Warsaw`.",
    "events.error.registration_after_start": "{field}: {value} is after the start ({start}).",
    "events.error.room_invalid": (
        "{field}: “{value}” is not a room. Use `this`, `all`, or room ids (`!id:server`) "
        "and aliases (`#name:server`) separated by commas."
    ),
    "events.error.reminder_invalid": (
        "{field}: “{value}” is not a list of offsets before the start. Try `1d, 1h, 10m` or `none`."
    ),
    "events.error.reminder_too_many": "{field}: at most {limit} reminders, not {count}.",
    "events.error.repeat_invalid": (
        "{field}: “{value}” is not a repeat rule. Use `weekly`, `monthly`, or `RRULE:FREQ=WEEKLY;BYDAY=MO`."
    ),
    "events.error.repeat_part_unsupported": "{field}: `{part}` is not supported in a repeat rule (allowed: {allowed}).",
    "events.error.repeat_count_and_until": "{field}: “{value}” has both COUNT and UNTIL; give one of them.",
    "events.error.repeat_number": "{field}: {part} in “{value}” must be a whole number from 1 to {limit}.",
    "events.error.repeat_too_frequent": "{field}: “{value}” repeats more than once a day; the shortest is daily.",
    "events.error.repeat_empty": "{field}: “{value}” gives no occurrence at or after the start.",
    "events.error.repeat_start_mismatch": (
        "{field}: “{value}” does not include the start ({start}); make the start the first occurrence."
    ),
    "events.error.link_invalid": "{field}: “{value}” is not an http:// or https:// address.",
    "events.error.text_too_long": "{field} is too long ({count} characters, at most {limit}).",
}

_PL: dict[str, Any] = {
    "events.error.field_unknown": "Nieznane pole „{field}” w wierszu „{value}”. Znane pola: {known}.",
    "events.error.field_duplicate": "Pole {field} podano dwa razy.",
    "events.error.field_missing": "Pole {field} jest wymagane.",
    "events.error.field_readonly": "Pola {field} nie można tu zmienić.",
    "events.error.value_empty": "Pole {field} nie ma wartości.",
    "events.error.stray_line": "Wiersz „{value}” nie ma postaci `Pole: wartość`.",
    "events.error.when_invalid": (
        "{field}: „{value}” to nie data i godzina, które rozumiem. "
        "Spróbuj `2026-05-14 18:00`, `14.05.2026 18:00`, `jutro 18:00`, `piątek 18:00` albo `za 2 godziny`."
    ),
    "events.error.time_missing": "{field}: „{value}” nie ma godziny; dopisz ją, np. `{value} 18:00`.",
    "events.error.date_invalid": "{field}: „{value}” to nie jest prawdziwa data.",
    "events.error.time_nonexistent": (
        "{field}: {value} nie istnieje w strefie {zone} — zegary przeskakują tę godzinę. Wybierz inną."
    ),
    "events.error.in_past": "{field}: {value} jest w przeszłości.",
    "events.error.end_before_start": "{field}: {value} nie jest po początku ({start}).",
    "events.error.end_and_duration": "Podaj {field} albo {other}, nie oba.",
    "events.error.duration_invalid": (
        "{field}: „{value}” to nie czas trwania. Spróbuj `90m`, `1h30m`, `2h` albo `1d`."
    ),
    "events.error.duration_too_long": "{field}: {value} to więcej niż {limit}.",
    "events.error.zone_unknown": "{field}: „{value}” to nieznana strefa czasowa. Użyj nazwy IANA, np. `Europe/Warsaw`.",
    "events.error.registration_after_start": "{field}: {value} jest po początku wydarzenia ({start}).",
    "events.error.room_invalid": (
        "{field}: „{value}” to nie pokój. Użyj `ten`, `wszystkie` albo identyfikatorów (`!id:serwer`) "
        "i aliasów (`#nazwa:serwer`) rozdzielonych przecinkami."
    ),
    "events.error.reminder_invalid": (
        "{field}: „{value}” to nie lista wyprzedzeń przed początkiem. Spróbuj `1d, 1h, 10m` albo `brak`."
    ),
    "events.error.reminder_too_many": "{field}: najwyżej {limit} przypomnień, nie {count}.",
    "events.error.repeat_invalid": (
        "{field}: „{value}” to nie reguła powtarzania. Użyj `co tydzień`, `co miesiąc` "
        "albo `RRULE:FREQ=WEEKLY;BYDAY=MO`."
    ),
    "events.error.repeat_part_unsupported": "{field}: `{part}` nie jest obsługiwane w regule powtarzania (można: {allowed}).",
    "events.error.repeat_count_and_until": "{field}: „{value}” ma jednocześnie COUNT i UNTIL; podaj jedno z nich.",
    "events.error.repeat_number": "{field}: {part} w „{value}” musi być liczbą całkowitą od 1 do {limit}.",
    "events.error.repeat_too_frequent": "{field}: „{value}” powtarza się częściej niż raz dziennie; najczęściej można codziennie.",
    "events.error.repeat_empty": "{field}: „{value}” nie daje żadnego terminu od początku wydarzenia.",
    "events.error.repeat_start_mismatch": (
        "{field}: „{value}” nie obejmuje początku ({start}); początek musi być pierwszym terminem."
    ),
    "events.error.link_invalid": "{field}: „{value}” to nie adres http:// ani https://.",
    "events.error.text_too_long": "Pole {field} jest za długie ({count} znaków, najwyżej {limit}).",
}

# Words of an event's state and of a scheduled message's kind, as shown in replies.
_EN.update({"events.status.draft": "draft (not announced)", "events.status.confirmed": "confirmed",
            "events.status.cancelled": "cancelled",
            "events.kind.announce": "announcement", "events.kind.reminder": "reminder",
            "events.kind.registration": "registration deadline", "events.kind.post": "announcement",
            "events.kind.cancel": "cancellation", "events.kind.update": "change"})
_PL.update({"events.status.draft": "szkic (nieogłoszone)", "events.status.confirmed": "zatwierdzone",
            "events.status.cancelled": "odwołane",
            "events.kind.announce": "ogłoszenie", "events.kind.reminder": "przypomnienie",
            "events.kind.registration": "koniec zapisów", "events.kind.post": "ogłoszenie",
            "events.kind.cancel": "odwołanie", "events.kind.update": "zmiana"})

# Field names are messages too, so a chat layer can print a form template.
for _field, _labels in FIELD_LABELS.items():
    _EN[f"events.field.{_field}"] = _labels["en"]
    _PL[f"events.field.{_field}"] = _labels["pl"]

CATALOGUE: dict[str, dict[str, Any]] = {"en": _EN, "pl": _PL}
