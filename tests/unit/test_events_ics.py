"""iCalendar export, checked by parsing it back with icalendar and expanding it with dateutil."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar

from commands.events.form import parse_event_form
from commands.events.ics import IcsEntry, event_calendar, event_uid, feed_calendar, feed_changed, in_feed

WAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=WAW)


def draft(form, now=NOW):
    return parse_event_form(form, now=now, default_zone="Europe/Warsaw")


def parse(ics: bytes) -> Calendar:
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n") and ics.endswith(b"END:VCALENDAR\r\n")
    calendar = Calendar.from_ical(ics)
    calendar.validate()  # PRODID, VERSION, at least one component
    return calendar


def vtimezones(calendar):
    return {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}


WEEKLY = draft("Title: Weekly leaders' call\nStart: 2026-03-16 18:00\nDuration: 1h30m\nRepeat: weekly\n"
               "Place: Online\nLink: https://meet.example.org/x\nDescription: Agenda; notes, links")
SINGLE = draft("Title: Study tour\nStart: 2026-04-10 09:00\nEnd: 2026-04-10 17:00\nTimezone: Europe/London")


def test_single_event_export():
    ics = event_calendar(IcsEntry(event_uid(12, "hub.example.org"), SINGLE, NOW, sequence=2))
    calendar = parse(ics)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "event-12@hub.example.org"
    assert event["SEQUENCE"] == 2
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTEND"].params["TZID"] == "Europe/London"
    assert event.decoded("DTSTART") == datetime(2026, 4, 10, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=8)
    assert vtimezones(calendar) == {"Europe/London"} == calendar.get_used_tzids()
    assert b"DTSTAMP:20260301T090000Z" in ics
    assert b"TZID=Europe/London:20260410T090000" in ics


def test_cancelled_single_export_says_so():
    calendar = parse(event_calendar(IcsEntry("event-12@hub", SINGLE, NOW, sequence=3, cancelled=True)))
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 3


def test_sequence_bumps_on_edit_while_uid_stays():
    edited = parse_event_form("Place: Hall B", now=NOW, default_zone="Europe/Warsaw", base=SINGLE)
    before = parse(event_calendar(IcsEntry("event-12@hub", SINGLE, NOW, sequence=0))).walk("VEVENT")[0]
    after = parse(event_calendar(IcsEntry("event-12@hub", edited, NOW, sequence=1))).walk("VEVENT")[0]
    assert before["UID"] == after["UID"] and after["SEQUENCE"] > before["SEQUENCE"]
    assert str(after["LOCATION"]) == "Hall B"


def test_weekly_1800_warsaw_ics_expands_to_1800_local_across_march_and_october():
    calendar = parse(event_calendar(IcsEntry("event-1@hub", WEEKLY, NOW)))
    (event,) = calendar.walk("VEVENT")
    assert vtimezones(calendar) == {"Europe/Warsaw"}
    assert event["DTSTART"].params["TZID"] == "Europe/Warsaw"
    assert event.decoded("DURATION") == timedelta(minutes=90)
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY"
    assert "DTEND" not in event

    start = event.decoded("DTSTART")
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start.replace(tzinfo=None))
    found = [naive.replace(tzinfo=start.tzinfo) for naive in rule.between(datetime(2026, 3, 1), datetime(2026, 11, 10))]
    assert {occ.strftime("%a %H:%M") for occ in found} == {"Mon 18:00"}
    utc_hours = {occ.date().isoformat(): occ.astimezone(timezone.utc).hour for occ in found}
    assert (utc_hours["2026-03-23"], utc_hours["2026-03-30"]) == (17, 16)  # last Sunday of March in between
    assert (utc_hours["2026-10-19"], utc_hours["2026-10-26"]) == (16, 17)  # last Sunday of October in between

    # The VTIMEZONE itself describes both changes, for clients that do not know the IANA name.
    tz = calendar.walk("VTIMEZONE")[0].to_tz()
    assert datetime(2026, 3, 30, 18, 0, tzinfo=tz).utcoffset() == timedelta(hours=2)
    assert datetime(2026, 10, 26, 18, 0, tzinfo=tz).utcoffset() == timedelta(hours=1)


def test_until_is_utc_in_the_ics():
    bounded = draft("Title: X\nStart: 2026-03-16 18:00\nRepeat: RRULE:FREQ=WEEKLY;UNTIL=20260420")
    ics = event_calendar(IcsEntry("event-2@hub", bounded, NOW))
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20260420T215959Z" in ics
    event = parse(ics).walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert len(list(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))) == 6


def test_feed_has_every_confirmed_live_event_and_a_vtimezone_per_tzid():
    later = datetime(2026, 6, 1, tzinfo=WAW)
    entries = [
        IcsEntry("weekly@hub", WEEKLY, NOW),  # started in March, goes on: in
        IcsEntry("london@hub", draft("Title: L\nStart: 2026-07-01 09:00\nTimezone: Europe/London"), NOW),
        IcsEntry("ny@hub", draft("Title: NY\nStart: 2026-07-02 09:00\nDuration: 1h\nTimezone: America/New_York"), NOW),
        IcsEntry("past@hub", draft("Title: Past\nStart: 2026-04-01 10:00\nDuration: 1h"), NOW),  # ended
        IcsEntry("cancelled@hub", draft("Title: C\nStart: 2026-07-03 10:00"), NOW, cancelled=True),
        IcsEntry("draft@hub", draft("Title: D\nStart: 2026-07-04 10:00"), NOW, confirmed=False),
        IcsEntry("over@hub", draft("Title: O\nStart: 2026-03-16 10:00\nDuration: 1h\n"
                                   "Repeat: RRULE:FREQ=WEEKLY;COUNT=4"), NOW),  # series over
    ]
    calendar = parse(feed_calendar(entries, now=later, zone="Europe/Warsaw"))
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == ["weekly@hub", "london@hub", "ny@hub"]
    assert vtimezones(calendar) == calendar.get_used_tzids() == {"Europe/Warsaw", "Europe/London", "America/New_York"}
    assert not calendar.get_missing_tzids()
    for event in calendar.walk("VEVENT"):
        assert "TZID" in event["DTSTART"].params
    assert str(calendar["X-WR-CALNAME"]) == "Leaders Hub"


def test_in_feed_while_running():
    one = IcsEntry("x@hub", draft("Title: X\nStart: 2026-04-01 10:00\nDuration: 1h"), NOW)
    assert in_feed(one, datetime(2026, 4, 1, 10, 59, tzinfo=WAW))
    assert not in_feed(one, datetime(2026, 4, 1, 11, 0, tzinfo=WAW))


def test_empty_feed_is_still_a_valid_calendar():
    calendar = parse(feed_calendar([], now=NOW, zone="Europe/Warsaw"))
    assert not calendar.walk("VEVENT") and vtimezones(calendar) == {"Europe/Warsaw"}


def test_feed_is_deterministic():
    entries = [IcsEntry("a@hub", WEEKLY, NOW), IcsEntry("b@hub", SINGLE, NOW)]
    assert feed_calendar(entries, now=NOW) == feed_calendar(list(reversed(entries)), now=NOW)


def test_dtstamp_and_last_modified_are_the_events_last_change_not_the_clock():
    changed = datetime(2026, 2, 20, 8, 30, 15, 123456, tzinfo=timezone.utc)
    ics = event_calendar(IcsEntry("event-3@hub", SINGLE, changed))
    assert b"DTSTAMP:20260220T083015Z\r\n" in ics and b"LAST-MODIFIED:20260220T083015Z\r\n" in ics
    assert event_calendar(IcsEntry("event-3@hub", SINGLE, changed)) == ics


def test_feed_is_the_same_bytes_at_any_moment_while_nothing_changes():
    entries = [IcsEntry("a@hub", WEEKLY, NOW), IcsEntry("b@hub", SINGLE, NOW - timedelta(days=3)),
               IcsEntry("c@hub", draft("Title: Sydney\nStart: 2026-05-01 19:00\nTimezone: Australia/Sydney"), NOW)]
    first = feed_calendar(entries, now=NOW, zone="Europe/Warsaw")
    assert feed_calendar(entries, now=NOW + timedelta(hours=5), zone="Europe/Warsaw") == first
    assert feed_calendar(list(reversed(entries)), now=NOW + timedelta(days=2), zone="Europe/Warsaw") == first
    text = first.decode()
    assert [line for line in text.split("\r\n") if line.startswith("TZID:")] == [
        "TZID:Australia/Sydney", "TZID:Europe/London", "TZID:Europe/Warsaw"]


def test_last_modified_of_the_feed_follows_changes_cancellations_and_ends():
    ends = IcsEntry("x@hub", draft("Title: X\nStart: 2026-04-01 10:00\nDuration: 1h"), NOW)
    series = IcsEntry("s@hub", draft("Title: S\nStart: 2026-03-16 10:00\nDuration: 1h\nRepeat: RRULE:FREQ=WEEKLY;COUNT=3"),
                      NOW)
    cancelled = IcsEntry("c@hub", SINGLE, NOW + timedelta(days=1), cancelled=True)
    assert feed_changed([ends, series], NOW) == NOW.astimezone(timezone.utc)  # both still ahead
    later = datetime(2026, 5, 1, tzinfo=WAW)
    assert feed_changed([ends, series], later) == datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)  # x's end
    assert feed_changed([ends, series, cancelled], NOW) == (NOW + timedelta(days=1)).astimezone(timezone.utc)
    assert feed_changed([], NOW) is None
