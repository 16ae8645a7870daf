"""Times as coordinators type them, in English and Polish, relative to a fixed 'now'."""

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.events.messages import EventError
from commands.events.timeparse import (
    format_duration,
    get_zone,
    parse_duration,
    parse_offsets,
    parse_when,
    shift_wall,
    wall_to_instant,
)

WAW = ZoneInfo("Europe/Warsaw")
# Wednesday 25 March 2026, noon in Warsaw; the clocks go forward on Sunday the 29th.
NOW = datetime(2026, 3, 25, 12, 0, tzinfo=WAW)


def when(text, **kw):
    return parse_when(text, now=NOW, zone="Europe/Warsaw", **kw)


def local(y, mo, d, h, mi):
    return datetime(y, mo, d, h, mi, tzinfo=WAW)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-05-14 18:00", local(2026, 5, 14, 18, 0)),
        ("2026-05-14T18:00", local(2026, 5, 14, 18, 0)),
        ("14.05.2026 18:00", local(2026, 5, 14, 18, 0)),
        ("14.05.2026 o 18.30", local(2026, 5, 14, 18, 30)),
        ("today 18:00", local(2026, 3, 25, 18, 0)),
        ("dziś 18:00", local(2026, 3, 25, 18, 0)),
        ("dzis 18:00", local(2026, 3, 25, 18, 0)),
        ("Dzisiaj o 18", local(2026, 3, 25, 18, 0)),
        ("tomorrow 18:00", local(2026, 3, 26, 18, 0)),
        ("tomorrow at 6pm", local(2026, 3, 26, 18, 0)),
        ("jutro 18:00", local(2026, 3, 26, 18, 0)),
        ("jutro o godz. 9:15", local(2026, 3, 26, 9, 15)),
        ("18:00 jutro", local(2026, 3, 26, 18, 0)),
        ("pojutrze 10:00", local(2026, 3, 27, 10, 0)),
        ("day after tomorrow 10:00", local(2026, 3, 27, 10, 0)),
        ("friday 18:00", local(2026, 3, 27, 18, 0)),
        ("on Friday at 18:00", local(2026, 3, 27, 18, 0)),
        ("piątek 18:00", local(2026, 3, 27, 18, 0)),
        ("w piątek o 18:00", local(2026, 3, 27, 18, 0)),
        ("we wtorek 10:00", local(2026, 3, 31, 10, 0)),
        ("poniedziałek 9:00", local(2026, 3, 30, 9, 0)),
        ("sobota 9:00", local(2026, 3, 28, 9, 0)),
        ("w niedzielę 9:00", local(2026, 3, 29, 9, 0)),
        ("czwartek 9:00", local(2026, 3, 26, 9, 0)),
        # Today's weekday: today while the time is ahead, else next week.
        ("wednesday 13:00", local(2026, 3, 25, 13, 0)),
        ("środa 11:00", local(2026, 4, 1, 11, 0)),
        ("in 2 hours", local(2026, 3, 25, 14, 0)),
        ("za 2 godziny", local(2026, 3, 25, 14, 0)),
        ("za godzinę", local(2026, 3, 25, 13, 0)),
        ("in an hour", local(2026, 3, 25, 13, 0)),
        ("in 30 minutes", local(2026, 3, 25, 12, 30)),
        ("za 30 minut", local(2026, 3, 25, 12, 30)),
        ("za pół godziny", local(2026, 3, 25, 12, 30)),
        ("in 1h30m", local(2026, 3, 25, 13, 30)),
        ("in 3 days", local(2026, 3, 28, 12, 0)),
        ("za 3 dni", local(2026, 3, 28, 12, 0)),
        ("za tydzień", local(2026, 4, 1, 12, 0)),
        ("in 2 weeks", local(2026, 4, 8, 12, 0)),
        ("18:30", local(2026, 3, 25, 18, 30)),
        ("o 11:00", local(2026, 3, 26, 11, 0)),  # already past today: tomorrow
    ],
)
def test_every_when_form_in_both_languages(text, expected):
    result = when(text)
    assert result == expected
    assert result.tzinfo == WAW  # aware, in the event's zone, never a fixed offset
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)


def test_relative_days_keep_the_local_time_across_the_spring_change():
    # Saturday noon + 1 day = Sunday noon local, although only 23 hours pass.
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=WAW)
    result = parse_when("in 1 day", now=saturday, zone="Europe/Warsaw")
    assert result.replace(tzinfo=None) == datetime(2026, 3, 29, 12, 0)
    assert result.astimezone(timezone.utc) - saturday.astimezone(timezone.utc) == timedelta(hours=23)


def test_relative_hours_are_elapsed_time_across_the_change():
    before = datetime(2026, 3, 29, 1, 30, tzinfo=WAW)
    result = parse_when("za 2 godziny", now=before, zone="Europe/Warsaw")
    assert result.replace(tzinfo=None) == datetime(2026, 3, 29, 4, 30)


def test_now_in_another_zone_is_read_in_the_event_zone():
    now_utc = datetime(2026, 3, 25, 23, 30, tzinfo=timezone.utc)  # already the 26th in Warsaw
    assert parse_when("jutro 10:00", now=now_utc, zone="Europe/Warsaw") == local(2026, 3, 27, 10, 0)


def test_skipped_spring_hour_is_refused():
    with pytest.raises(EventError) as err:
        when("2026-03-29 02:30")
    assert err.value.key == "events.error.time_nonexistent"
    assert err.value.params["value"] == "2026-03-29 02:30"
    assert err.value.params["zone"] == "Europe/Warsaw"


def test_repeated_autumn_hour_means_the_first():
    result = when("2026-10-25 02:30")
    assert result.fold == 0
    assert result.utcoffset() == timedelta(hours=2)  # still summer time: the first 02:30
    assert result.astimezone(timezone.utc).hour == 0


def test_a_bare_date_needs_a_time_unless_a_default_is_given():
    with pytest.raises(EventError) as err:
        when("jutro")
    assert err.value.key == "events.error.time_missing"
    assert when("2026-05-10", default_time=time(23, 59)) == local(2026, 5, 10, 23, 59)
    assert when("jutro", default_time=time(23, 59)) == local(2026, 3, 26, 23, 59)


def test_a_bare_time_is_on_the_base_date_when_given():
    assert when("19:30", base_date=datetime(2026, 6, 1).date()) == local(2026, 6, 1, 19, 30)


@pytest.mark.parametrize(
    "text, key",
    [
        ("someday", "events.error.when_invalid"),
        ("kiedyś", "events.error.when_invalid"),
        ("", "events.error.when_invalid"),
        ("18", "events.error.when_invalid"),  # a number alone is not a time
        ("18.05", "events.error.when_invalid"),  # nor is a date without a year
        ("25:00", "events.error.when_invalid"),
        ("jutro 18:75", "events.error.when_invalid"),
        ("13pm", "events.error.when_invalid"),
        ("in -2 hours", "events.error.when_invalid"),
        ("za 0 minut", "events.error.when_invalid"),
        ("2026-02-30 10:00", "events.error.date_invalid"),
        ("31.04.2026 10:00", "events.error.date_invalid"),
    ],
)
def test_unparseable_when_is_refused_with_the_value(text, key):
    with pytest.raises(EventError) as err:
        when(text)
    assert err.value.key == key
    assert err.value.params["value"].strip() == text.strip()


def test_zones_by_iana_name_in_any_case():
    assert get_zone("europe/warsaw").key == "Europe/Warsaw"
    assert get_zone("UTC").key == "UTC"
    for bad in ("Mars/Olympus", "CET+1", "", "localtime", "../etc/passwd"):
        with pytest.raises(EventError) as err:
            get_zone(bad)
        assert err.value.key == "events.error.zone_unknown"
        assert err.value.params == {"field": "timezone", "value": bad}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30min", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1.5h", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("2 hours", timedelta(hours=2)),
        ("2 godziny", timedelta(hours=2)),
        ("1 godzina i 15 minut", timedelta(minutes=75)),
        ("3 dni", timedelta(days=3)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "abc", "10", "1h-30m", "1,5h", "2 hours ago"])
def test_bad_durations_name_the_value(text):
    with pytest.raises(EventError) as err:
        parse_duration(text)
    assert err.value.key == "events.error.duration_invalid"
    assert err.value.params["value"] == text


def test_offset_lists():
    assert parse_offsets("1d, 1h, 10m") == (timedelta(days=1), timedelta(hours=1), timedelta(minutes=10))
    assert parse_offsets("10m; 2d,1h, 60m") == (timedelta(days=2), timedelta(hours=1), timedelta(minutes=10))
    assert parse_offsets("brak") == () == parse_offsets("none")
    for bad in ("1d,,1h", "1d, soon", "0m"):
        with pytest.raises(EventError) as err:
            parse_offsets(bad)
        assert err.value.key == "events.error.reminder_invalid"


def test_format_duration_reads_back():
    for delta in (timedelta(minutes=10), timedelta(minutes=90), timedelta(days=1, hours=2), timedelta(days=7)):
        assert parse_duration(format_duration(delta)) == delta
    assert format_duration(timedelta(days=1, minutes=90)) == "1d1h30m"


def test_shift_wall_moves_days_on_the_calendar_and_the_rest_in_real_time():
    monday = datetime(2026, 3, 30, 18, 0, tzinfo=WAW)  # first Monday of summer time
    assert shift_wall(monday, -timedelta(days=1)).replace(tzinfo=None) == datetime(2026, 3, 29, 18, 0)
    assert shift_wall(monday, -timedelta(hours=1)).replace(tzinfo=None) == datetime(2026, 3, 30, 17, 0)
    # A computed time in the gap moves forward by the gap (RFC 5545), it is not refused.
    assert wall_to_instant(datetime(2026, 3, 29, 2, 30), WAW).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)


@settings(max_examples=60, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
    minutes=st.integers(min_value=1, max_value=24 * 60 - 1),
    zone=st.sampled_from(["Europe/Warsaw", "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_in_minutes_is_elapsed_time_in_the_given_zone(now, minutes, zone):
    aware = now.replace(tzinfo=timezone.utc)
    result = parse_when(f"in {minutes} minutes", now=aware, zone=zone)
    assert result.tzinfo == ZoneInfo(zone)
    assert result - aware.replace(second=0, microsecond=0) == timedelta(minutes=minutes)
