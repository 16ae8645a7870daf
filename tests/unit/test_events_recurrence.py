"""Repeat rules: the friendly names, RFC 5545 RRULEs, and local wall time across DST."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from commands.events.messages import EventError
from commands.events.recurrence import (
    Recurrence,
    is_bounded,
    next_occurrence,
    next_occurrences,
    occurrences,
    parse_repeat,
)

WAW = ZoneInfo("Europe/Warsaw")
MONDAY_1800 = datetime(2026, 3, 16, 18, 0, tzinfo=WAW)


@pytest.mark.parametrize(
    "text, rule",
    [
        ("weekly", "FREQ=WEEKLY"),
        ("Weekly", "FREQ=WEEKLY"),
        ("co tydzień", "FREQ=WEEKLY"),
        ("co tydzien", "FREQ=WEEKLY"),
        ("cotygodniowo", "FREQ=WEEKLY"),
        ("monthly", "FREQ=MONTHLY"),
        ("co miesiąc", "FREQ=MONTHLY"),
        ("daily", "FREQ=DAILY"),
        ("codziennie", "FREQ=DAILY"),
        ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("co 2 tygodnie", "FREQ=WEEKLY;INTERVAL=2"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("rrule:freq=weekly;byday=mo", "FREQ=WEEKLY;BYDAY=MO"),
        ("FREQ=MONTHLY;BYDAY=3MO", "FREQ=MONTHLY;BYDAY=3MO"),
        ("RRULE:FREQ=WEEKLY;COUNT=10", "FREQ=WEEKLY;COUNT=10"),
        # UNTIL is stored in UTC, as RFC 5545 requires with a zoned DTSTART; a date means its last second.
        ("RRULE:FREQ=WEEKLY;UNTIL=20260415", "FREQ=WEEKLY;UNTIL=20260415T215959Z"),
        ("RRULE:FREQ=WEEKLY;UNTIL=20260413T180000", "FREQ=WEEKLY;UNTIL=20260413T160000Z"),
        ("RRULE:FREQ=WEEKLY;UNTIL=20260413T160000Z", "FREQ=WEEKLY;UNTIL=20260413T160000Z"),
    ],
)
def test_repeat_forms(text, rule):
    assert parse_repeat(text, MONDAY_1800) == Recurrence(rule)


@pytest.mark.parametrize("text", ["", "none", "nie", "brak", "-"])
def test_no_repeat(text):
    assert parse_repeat(text, MONDAY_1800) is None


@pytest.mark.parametrize(
    "text, key",
    [
        ("sometimes", "events.error.repeat_invalid"),
        ("RRULE:FREQ=FORTNIGHTLY", "events.error.repeat_invalid"),
        ("RRULE:BYDAY=MO", "events.error.repeat_invalid"),
        ("RRULE:FREQ=WEEKLY;BYDAY=XX", "events.error.repeat_invalid"),
        ("RRULE:FREQ=WEEKLY;UNTIL=tomorrow", "events.error.repeat_invalid"),
        ("RRULE:FREQ=WEEKLY;FREQ=DAILY", "events.error.repeat_invalid"),
        ("RRULE:FREQ=HOURLY", "events.error.repeat_too_frequent"),
        ("RRULE:FREQ=MINUTELY", "events.error.repeat_too_frequent"),
        ("RRULE:FREQ=WEEKLY;BYHOUR=9", "events.error.repeat_part_unsupported"),
        ("RRULE:FREQ=WEEKLY;DTSTART=20260101", "events.error.repeat_part_unsupported"),
        ("RRULE:FREQ=WEEKLY;COUNT=3;UNTIL=20261231", "events.error.repeat_count_and_until"),
        ("RRULE:FREQ=WEEKLY;INTERVAL=0", "events.error.repeat_number"),
        ("RRULE:FREQ=WEEKLY;COUNT=100000", "events.error.repeat_number"),
        ("RRULE:FREQ=WEEKLY;UNTIL=20260101", "events.error.repeat_empty"),
        ("RRULE:FREQ=WEEKLY;BYDAY=TU", "events.error.repeat_start_mismatch"),
    ],
)
def test_bad_repeat_rules_are_named(text, key):
    with pytest.raises(EventError) as err:
        parse_repeat(text, MONDAY_1800)
    assert err.value.key == key
    assert err.value.params["field"] == "repeat"
    assert err.value.params["value"] == text


def test_weekly_1800_warsaw_stays_1800_local_across_both_dst_changes():
    weekly = parse_repeat("weekly", MONDAY_1800)
    found = occurrences(MONDAY_1800, weekly, MONDAY_1800, datetime(2026, 11, 10, tzinfo=WAW))
    assert len(found) == 35
    assert {occ.strftime("%a %H:%M") for occ in found} == {"Mon 18:00"}
    # ...while the UTC offset does change: winter, summer from 29 March, winter from 25 October.
    offsets = {occ.date().isoformat(): occ.utcoffset() for occ in found}
    assert offsets["2026-03-23"] == timedelta(hours=1)
    assert offsets["2026-03-30"] == timedelta(hours=2)
    assert offsets["2026-10-19"] == timedelta(hours=2)
    assert offsets["2026-10-26"] == timedelta(hours=1)
    utc = [occ.astimezone(timezone.utc) for occ in found]
    assert utc[1] - utc[0] == timedelta(days=7)
    assert utc[2] - utc[1] == timedelta(days=7, hours=-1)  # the spring week is an hour short


def test_window_bounds_and_next_occurrence():
    weekly = parse_repeat("co tydzień", MONDAY_1800)
    second = datetime(2026, 3, 23, 18, 0, tzinfo=WAW)
    assert occurrences(MONDAY_1800, weekly, second, second + timedelta(days=7)) == [second]
    assert next_occurrence(MONDAY_1800, weekly, second) == second
    assert next_occurrence(MONDAY_1800, weekly, second + timedelta(seconds=1)) == second + timedelta(days=7)
    # A window given in another zone is the same instants.
    assert occurrences(MONDAY_1800, weekly, second.astimezone(timezone.utc),
                       (second + timedelta(hours=1)).astimezone(timezone.utc)) == [second]


def test_single_event_is_its_own_only_occurrence():
    assert occurrences(MONDAY_1800, None, MONDAY_1800, MONDAY_1800 + timedelta(1)) == [MONDAY_1800]
    assert occurrences(MONDAY_1800, None, MONDAY_1800 + timedelta(1), MONDAY_1800 + timedelta(2)) == []
    assert next_occurrence(MONDAY_1800, None, MONDAY_1800 + timedelta(1)) is None


def test_bounded_series_end():
    until = parse_repeat("RRULE:FREQ=WEEKLY;UNTIL=20260406", MONDAY_1800)
    count = parse_repeat("RRULE:FREQ=WEEKLY;COUNT=4", MONDAY_1800)
    last = datetime(2026, 4, 6, 18, 0, tzinfo=WAW)
    for rule in (until, count):
        assert is_bounded(rule)
        assert next_occurrence(MONDAY_1800, rule, last) == last
        assert next_occurrence(MONDAY_1800, rule, last + timedelta(minutes=1)) is None
    assert not is_bounded(parse_repeat("weekly", MONDAY_1800))


def test_monthly_keeps_the_day_and_the_local_time():
    start = datetime(2026, 1, 15, 18, 0, tzinfo=WAW)
    monthly = parse_repeat("monthly", start)
    found = occurrences(start, monthly, start, datetime(2026, 12, 31, tzinfo=WAW))
    assert [occ.month for occ in found] == list(range(1, 13))
    assert {(occ.day, occ.hour, occ.minute) for occ in found} == {(15, 18, 0)}


def test_an_instance_in_the_spring_gap_moves_forward_by_the_gap():
    start = datetime(2026, 3, 27, 2, 30, tzinfo=WAW)
    daily = parse_repeat("daily", start)
    found = occurrences(start, daily, start, start + timedelta(days=3))
    assert [occ.strftime("%d %H:%M") for occ in found] == ["27 02:30", "28 02:30", "29 03:30"]


def test_autumn_repeated_hour_takes_the_first():
    start = datetime(2026, 10, 23, 2, 30, tzinfo=WAW)
    daily = parse_repeat("daily", start)
    sunday = occurrences(start, daily, datetime(2026, 10, 25, tzinfo=WAW), datetime(2026, 10, 26, tzinfo=WAW))
    assert len(sunday) == 1
    assert sunday[0].utcoffset() == timedelta(hours=2)


def test_next_occurrences_lists_upcoming_ones():
    weekly = parse_repeat("weekly", MONDAY_1800)
    after = datetime(2026, 3, 24, tzinfo=WAW)
    assert [o.strftime("%m-%d %H:%M %Z") for o in next_occurrences(MONDAY_1800, weekly, after, 3)] == [
        "03-30 18:00 CEST", "04-06 18:00 CEST", "04-13 18:00 CEST"]
    count = parse_repeat("RRULE:FREQ=WEEKLY;COUNT=2", MONDAY_1800)
    assert len(next_occurrences(MONDAY_1800, count, MONDAY_1800, 5)) == 2
    assert next_occurrences(MONDAY_1800, None, MONDAY_1800, 5) == [MONDAY_1800]
    assert next_occurrences(MONDAY_1800, None, after, 5) == []
