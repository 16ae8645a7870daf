"""The `!event add` form as a coordinator writes it, and the errors they get back."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from commands.events.form import (
    DEFAULT_REMINDERS,
    ROOMS_ALL,
    ROOMS_THIS,
    build_announcement,
    field_id,
    parse_event_form,
    parse_rooms,
)
from commands.events.messages import CATALOGUE, EventError
from commands.events.recurrence import Recurrence

WAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=WAW)  # a Friday

tr = Translator()
tr.register(CATALOGUE)


def add(text, lang="en", **kw):
    return parse_event_form(text, now=NOW, default_zone="Europe/Warsaw", lang=lang, **kw)


def refused(text, lang="en", **kw):
    with pytest.raises(EventError) as err:
        add(text, lang, **kw)
    return err.value, tr(lang, err.value.key, **err.value.params)


def test_a_polish_form_with_every_field():
    draft = add(
        """Tytuł: Szkolenie: innowacje społeczne
Początek: 2026-03-30 18:00
Czas trwania: 1h30m
Strefa: Europe/Warsaw
Miejsce: Warszawa, ul. Długa 5
Link: https://meet.example.org/abc
Opis: Pierwszy akapit
z drugą linią

i drugim akapitem
Zapisy do: 2026-03-28
Link do zapisów: https://example.org/zapisy
Pokoje: ten, #liderzy:example.org, !abc:example.org
Przypomnienia: 2d, 1h, 10m
Powtarzaj: co tydzień""",
        lang="pl",
    )
    assert draft.title == "Szkolenie: innowacje społeczne"
    assert draft.start == datetime(2026, 3, 30, 18, 0, tzinfo=WAW)
    assert draft.zone == "Europe/Warsaw"
    assert draft.duration == timedelta(minutes=90)
    assert draft.end == datetime(2026, 3, 30, 19, 30, tzinfo=WAW)
    assert draft.place == "Warszawa, ul. Długa 5"
    assert draft.link == "https://meet.example.org/abc"
    assert draft.description == "Pierwszy akapit\nz drugą linią\n\ni drugim akapitem"
    assert draft.registration_until == datetime(2026, 3, 28, 23, 59, tzinfo=WAW)
    assert draft.registration_link == "https://example.org/zapisy"
    assert draft.rooms == (ROOMS_THIS, "#liderzy:example.org", "!abc:example.org")
    assert draft.reminders == (timedelta(days=2), timedelta(hours=1), timedelta(minutes=10))
    assert draft.repeat == Recurrence("FREQ=WEEKLY")


def test_an_english_form_with_defaults():
    draft = add("Title: Study tour\nStart: tomorrow 18:00\nEnd: 20:00\nPlace: Radom")
    assert draft.start == datetime(2026, 3, 21, 18, 0, tzinfo=WAW)
    assert draft.end == datetime(2026, 3, 21, 20, 0, tzinfo=WAW)
    assert draft.rooms == (ROOMS_THIS,)
    assert draft.reminders == DEFAULT_REMINDERS == (timedelta(days=1), timedelta(hours=1))
    assert draft.repeat is None and draft.registration_until is None


def test_field_names_ignore_case_diacritics_and_separators():
    for name, fid in [("TYTUŁ", "title"), ("tytul", "title"), ("poczatek", "start"), ("Zapisy_do", "registration_until"),
                      ("LINK DO ZAPISOW", "registration_link"), ("czas-trwania", "duration"), ("Registration until", "registration_until"),
                      ("strefa", "timezone"), ("Pokoje", "rooms"), ("przypomnienia", "reminders"), ("POWTARZAJ", "repeat")]:
        assert field_id(name) == fid, name
    draft = add("TYTUL: X\nPOCZĄTEK: jutro 18:00\nczas_trwania: 2h\nstrefa: europe/london\nZapisy-do: jutro 12:00")
    assert draft.zone == "Europe/London" and draft.duration == timedelta(hours=2)


def test_other_zone_and_relative_start():
    draft = add("Title: Call\nStart: in 3 hours\nTimezone: America/New_York\nDuration: 45m")
    assert draft.zone == "America/New_York"
    assert draft.start == NOW + timedelta(hours=3)


def test_no_reminders_and_all_rooms():
    draft = add("Title: X\nStart: jutro 18:00\nReminders: none\nRooms: all")
    assert draft.reminders == () and draft.rooms == (ROOMS_ALL,)


def test_end_across_the_spring_change_is_real_elapsed_time():
    draft = add("Title: Night shift\nStart: 2026-03-29 01:00\nEnd: 2026-03-29 04:00")
    assert draft.duration == timedelta(hours=2)  # the clocks skipped 02:00-03:00
    assert draft.end == datetime(2026, 3, 29, 4, 0, tzinfo=WAW)


def test_repeated_autumn_hour_start_means_the_first():
    draft = add("Title: Night\nStart: 2026-10-25 02:30")
    assert draft.start.fold == 0 and draft.start.utcoffset() == timedelta(hours=2)


# --- every bad input is named: field and value, in both languages; nothing is created ---

@pytest.mark.parametrize(
    "form, key, field, value",
    [
        ("Title: X\nStart: 2026-03-29 02:30", "events.error.time_nonexistent", "Start", "2026-03-29 02:30"),
        ("Tytuł: X\nPoczątek: 2026-03-29 02:15", "events.error.time_nonexistent", "Początek", "2026-03-29 02:15"),
        ("Title: X\nStart: 2026-03-01 10:00", "events.error.in_past", "Start", "2026-03-01 10:00"),
        ("Title: X\nStart: dziś 9:00", "events.error.in_past", "Start", "dziś 9:00"),
        ("Title: X\nStart: 2026-04-01 10:00\nEnd: 09:00", "events.error.end_before_start", "End", "09:00"),
        ("Title: X\nStart: 2026-04-01 10:00\nEnd: 2026-04-01 10:00", "events.error.end_before_start", "End",
         "2026-04-01 10:00"),
        ("Title: X\nStart: 2026-04-01 10:00\nTimezone: Mars/Base", "events.error.zone_unknown", "Timezone", "Mars/Base"),
        ("Tytuł: X\nPoczątek: 2026-04-01 10:00\nStrefa: CET+1", "events.error.zone_unknown", "Strefa", "CET+1"),
        ("Title: X\nStart: 2026-04-01 10:00\nRegistration until: 2026-04-02", "events.error.registration_after_start",
         "Registration until", "2026-04-02 23:59"),
        ("Title: X\nStart: 2026-04-01 10:00\nRegistration until: 2026-03-01 10:00", "events.error.in_past",
         "Registration until", "2026-03-01 10:00"),
        ("Title: X\nStart: someday", "events.error.when_invalid", "Start", "someday"),
        ("Tytuł: X\nPoczątek: kiedyś", "events.error.when_invalid", "Początek", "kiedyś"),
        ("Title: X\nStart: 2026-02-30 10:00", "events.error.date_invalid", "Start", "2026-02-30 10:00"),
        ("Title: X\nStart: 2026-04-01 10:00\nColour: red", "events.error.field_unknown", "Colour", "Colour: red"),
        ("Title: X\nStart: 2026-04-01 10:00\nDuration: long", "events.error.duration_invalid", "Duration", "long"),
        ("Title: X\nStart: 2026-04-01 10:00\nDuration: 40d", "events.error.duration_too_long", "Duration", "40d"),
        ("Title: X\nStart: 2026-04-01 10:00\nRooms: leaders", "events.error.room_invalid", "Rooms", "leaders"),
        ("Title: X\nStart: 2026-04-01 10:00\nReminders: 1d, soon", "events.error.reminder_invalid", "Reminders",
         "1d, soon"),
        ("Title: X\nStart: 2026-04-01 10:00\nRepeat: sometimes", "events.error.repeat_invalid", "Repeat", "sometimes"),
        ("Title: X\nStart: 2026-04-01 10:00\nRepeat: RRULE:FREQ=HOURLY", "events.error.repeat_too_frequent", "Repeat",
         "RRULE:FREQ=HOURLY"),
        ("Title: X\nStart: 2026-04-01 10:00\nLink: example.org", "events.error.link_invalid", "Link", "example.org"),
        ("Title: X\nStart: 2026-04-01 10:00\nRegistration link: ftp://x", "events.error.link_invalid",
         "Registration link", "ftp://x"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "pl"])
def test_bad_input_names_field_and_value(form, key, field, value, lang):
    err, message = refused(form, lang)
    assert err.key == key
    assert field in message and value in message
    assert "{" not in message  # every placeholder was filled


@pytest.mark.parametrize(
    "form, key, lang, fragment",
    [
        ("Start: 2026-04-01 10:00", "events.error.field_missing", "en", "Title"),
        ("Start: 2026-04-01 10:00", "events.error.field_missing", "pl", "Tytuł"),
        ("Title: X", "events.error.field_missing", "pl", "Początek"),
        ("Title: X\nTytuł: Y\nStart: 2026-04-01 10:00", "events.error.field_duplicate", "en", "Tytuł"),
        ("Title: X\nhello there\nStart: 2026-04-01 10:00", "events.error.stray_line", "en", "hello there"),
        ("Title:\nStart: 2026-04-01 10:00", "events.error.value_empty", "en", "Title"),
        ("Title: X\nStart: 2026-04-01 10:00\nEnd: 11:00\nDuration: 1h", "events.error.end_and_duration", "en", "Duration"),
        ("Title: " + "x" * 201 + "\nStart: 2026-04-01 10:00", "events.error.text_too_long", "en", "201"),
        ("Title: X\nStart: 2026-04-01 10:00\nReminders: 1m,2m,3m,4m,5m,6m,7m,8m,9m,10m,11m",
         "events.error.reminder_too_many", "en", "11"),
    ],
)
def test_form_structure_errors(form, key, lang, fragment):
    err, message = refused(form, lang)
    assert err.key == key
    assert fragment in message and "{" not in message


def test_field_id_survives_labelling():
    err, _ = refused("Tytuł: X\nPoczątek: 2026-03-29 02:30", "pl")
    assert err.field_id == "start"
    assert err.params["field"] == "Początek"


def test_a_url_line_in_the_description_is_not_a_field():
    draft = add("Title: X\nStart: jutro 18:00\nDescription: Agenda online\nhttps://example.org/agenda")
    assert draft.description == "Agenda online\nhttps://example.org/agenda"


# --- editing: the stored event is the base; named fields change, the rest stays ---

def _base():
    return add("Title: Meeting\nStart: 2026-04-01 18:00\nDuration: 1h\nPlace: Hall\n"
               "Registration until: 2026-03-30 12:00\nRepeat: weekly")


def test_edit_changes_only_named_fields():
    base = _base()
    edited = add("Miejsce: Sala 2", base=base)
    assert edited.place == "Sala 2"
    assert (edited.title, edited.start, edited.duration, edited.repeat) == (base.title, base.start, base.duration, base.repeat)


def test_edit_clears_optional_fields_with_a_dash():
    edited = add("Place: -\nRegistration until: -\nRepeat: none\nDuration: -", base=_base())
    assert edited.place is None and edited.registration_until is None and edited.repeat is None
    assert edited.duration is None


def test_edit_moving_start_before_the_deadline_is_refused():
    err, message = refused("Start: 2026-03-25 18:00", base=_base())
    assert err.key == "events.error.registration_after_start"
    assert "Registration until" in message and "2026-03-30 12:00" in message


def test_edit_new_zone_keeps_the_wall_time():
    edited = add("Timezone: Europe/London", base=_base())
    assert edited.start.replace(tzinfo=None) == datetime(2026, 4, 1, 18, 0)
    assert edited.zone == "Europe/London"


def test_edit_does_not_refuse_a_series_that_already_started():
    base = _base()
    later = datetime(2026, 5, 1, tzinfo=WAW)
    edited = parse_event_form("Title: Renamed", now=later, default_zone="Europe/Warsaw", base=base)
    assert edited.title == "Renamed" and edited.start == base.start


def test_has_ended():
    single = add("Title: X\nStart: 2026-04-01 18:00\nDuration: 1h")
    assert not single.has_ended(datetime(2026, 4, 1, 18, 59, tzinfo=WAW))
    assert single.has_ended(datetime(2026, 4, 1, 19, 0, tzinfo=WAW))
    forever = add("Title: X\nStart: 2026-04-01 18:00\nDuration: 1h\nRepeat: weekly")
    assert not forever.has_ended(datetime(2030, 1, 1, tzinfo=WAW))
    bounded = add("Title: X\nStart: 2026-04-01 18:00\nDuration: 1h\nRepeat: RRULE:FREQ=WEEKLY;COUNT=2")
    assert not bounded.has_ended(datetime(2026, 4, 8, 18, 30, tzinfo=WAW))
    assert bounded.has_ended(datetime(2026, 4, 8, 19, 0, tzinfo=WAW))


def test_rooms():
    assert parse_rooms("this") == (ROOMS_THIS,) == parse_rooms("ten")
    assert parse_rooms("wszystkie") == (ROOMS_ALL,) == parse_rooms("#a:x, all")
    assert parse_rooms("#a:x, !b:y, #a:x, #local") == ("#a:x", "!b:y", "#local")


# --- !announce ---

def test_announcement_when_forms_rooms_and_repeat():
    ann = build_announcement("jutro 9:00", "  Spotkanie o 10!  ", now=NOW, zone="Europe/Warsaw",
                             rooms="all", repeat="co tydzień")
    assert ann.when == datetime(2026, 3, 21, 9, 0, tzinfo=WAW)
    assert ann.text == "Spotkanie o 10!" and ann.rooms == (ROOMS_ALL,)
    assert ann.repeat == Recurrence("FREQ=WEEKLY")
    plain = build_announcement("in 2 hours", "Hi", now=NOW, zone="Europe/Warsaw")
    assert plain.when == NOW + timedelta(hours=2) and plain.rooms == (ROOMS_THIS,) and plain.repeat is None


@pytest.mark.parametrize(
    "when, text, extra, key, field",
    [
        ("yesterday", "Hi", {}, "events.error.when_invalid", "Termin"),
        ("2026-03-01 10:00", "Hi", {}, "events.error.in_past", "Termin"),
        ("2026-03-29 02:30", "Hi", {}, "events.error.time_nonexistent", "Termin"),
        ("jutro 9:00", "  ", {}, "events.error.value_empty", "Treść"),
        ("jutro 9:00", "Hi", {"rooms": "somewhere"}, "events.error.room_invalid", "Pokoje"),
        ("jutro 9:00", "Hi", {"repeat": "hourly"}, "events.error.repeat_invalid", "Powtarzaj"),
    ],
)
def test_announcement_errors_are_named(when, text, extra, key, field):
    with pytest.raises(EventError) as err:
        build_announcement(when, text, now=NOW, zone="Europe/Warsaw", lang="pl", **extra)
    assert err.value.key == key
    message = tr("pl", err.value.key, **err.value.params)
    assert field in message and "{" not in message


def test_edit_new_zone_keeps_the_deadline_wall_time_too():
    edited = add("Strefa: Europe/Lisbon", base=_base())
    assert edited.registration_until.replace(tzinfo=None) == datetime(2026, 3, 30, 12, 0)
    assert edited.registration_until.tzinfo == ZoneInfo("Europe/Lisbon")
