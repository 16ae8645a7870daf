"""Planned sends: one announcement, reminders in local wall time, the registration reminder, late sends."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.events.form import build_announcement, parse_event_form
from commands.events.planner import EventTiming, PlannedSend, decide_late, plan_announcement, plan_event

WAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=WAW)
FAR = datetime(2027, 1, 1, tzinfo=WAW)


def event(form, now=NOW, event_id=7):
    draft = parse_event_form(form, now=now, default_zone="Europe/Warsaw")
    return EventTiming.of(event_id, draft, announced_at=now)


def local(sends):
    return [(s.kind, s.due_at.strftime("%Y-%m-%d %H:%M %Z")) for s in sends]


def test_single_event_announcement_default_reminders_and_registration_reminder():
    sends = plan_event(event("Title: X\nStart: 2026-03-20 18:00\nRegistration until: 2026-03-15 12:00"), NOW, FAR)
    assert local(sends) == [
        ("announce", "2026-03-01 10:00 CET"),
        ("registration", "2026-03-14 12:00 CET"),  # a day before the deadline
        ("reminder", "2026-03-19 18:00 CET"),  # 1d
        ("reminder", "2026-03-20 17:00 CET"),  # 1h
    ]
    registration = sends[1]
    assert registration.expires_at == datetime(2026, 3, 15, 12, 0, tzinfo=WAW)
    assert sends[2].occurrence == sends[2].expires_at == datetime(2026, 3, 20, 18, 0, tzinfo=WAW)


def test_registration_reminder_is_added_to_custom_reminders_and_to_none():
    custom = plan_event(event("Title: X\nStart: 2026-03-20 18:00\nReminders: 10m\nZapisy do: 2026-03-18"), NOW, FAR)
    assert local(custom) == [
        ("announce", "2026-03-01 10:00 CET"),
        ("registration", "2026-03-17 23:59 CET"),
        ("reminder", "2026-03-20 17:50 CET"),
    ]
    none = plan_event(event("Title: X\nStart: 2026-03-20 18:00\nReminders: none\nZapisy do: 2026-03-18"), NOW, FAR)
    assert [s.kind for s in none] == ["announce", "registration"]


def test_weekly_1800_warsaw_reminders_stay_at_local_times_across_march_and_october():
    timing = event("Title: Weekly\nStart: 2026-03-16 18:00\nDuration: 1h\nRepeat: weekly")
    sends = plan_event(timing, NOW, datetime(2026, 11, 15, tzinfo=WAW))
    reminders = [s for s in sends if s.kind == "reminder"]
    assert [s.kind for s in sends].count("announce") == 1  # a series is announced once
    day_before = [s.due_at for s in reminders if s.offset == timedelta(days=1)]
    hour_before = [s.due_at for s in reminders if s.offset == timedelta(hours=1)]
    assert len(day_before) == len(hour_before) == 35
    assert {d.strftime("%a %H:%M") for d in day_before} == {"Sun 18:00"}
    assert {d.strftime("%a %H:%M") for d in hour_before} == {"Mon 17:00"}
    # Around the last Sunday of March (29th) and of October (25th):
    around = {s.due_at.strftime("%m-%d %H:%M %Z") for s in reminders}
    assert {"03-22 18:00 CET", "03-23 17:00 CET", "03-29 18:00 CEST", "03-30 17:00 CEST",
            "10-18 18:00 CEST", "10-19 17:00 CEST", "10-25 18:00 CET", "10-26 17:00 CET"} <= around


def test_weekly_sunday_event_day_before_reminder_is_23h_and_25h_before_on_change_days():
    timing = event("Title: Sunday\nStart: 2026-03-22 18:00\nRepeat: weekly\nReminders: 1d")
    reminders = {s.occurrence.date().isoformat(): s for s in plan_event(timing, NOW, FAR) if s.kind == "reminder"}

    def real_gap(send):
        return send.occurrence.astimezone(timezone.utc) - send.due_at.astimezone(timezone.utc)

    assert reminders["2026-03-29"].due_at.strftime("%a %H:%M %Z") == "Sat 18:00 CET"
    assert real_gap(reminders["2026-03-29"]) == timedelta(hours=23)
    assert reminders["2026-10-25"].due_at.strftime("%a %H:%M %Z") == "Sat 18:00 CEST"
    assert real_gap(reminders["2026-10-25"]) == timedelta(hours=25)
    assert real_gap(reminders["2026-04-05"]) == timedelta(hours=24)


def test_nothing_is_planned_before_the_announcement():
    now = datetime(2026, 3, 20, 16, 0, tzinfo=WAW)  # confirmed two hours before the start
    sends = plan_event(event("Title: X\nStart: 2026-03-20 18:00", now=now), now, FAR)
    assert local(sends) == [("announce", "2026-03-20 16:00 CET"), ("reminder", "2026-03-20 17:00 CET")]


def test_ids_are_stable_unique_and_carry_event_kind_and_occurrence():
    timing = event("Title: Weekly\nStart: 2026-03-16 18:00\nRepeat: weekly\nRegistration until: 2026-03-10")
    first = plan_event(timing, NOW, datetime(2026, 6, 1, tzinfo=WAW))
    again = plan_event(timing, NOW, datetime(2026, 6, 1, tzinfo=WAW))
    assert first == again
    ids = [s.id for s in first]
    assert len(set(ids)) == len(ids)
    assert "event:7:announce" in ids
    assert "event:7:registration:20260310T225900Z" in ids
    assert "event:7:reminder:20260330T160000Z:1d" in ids
    assert "event:7:reminder:20260330T160000Z:1h" in ids
    send = first[0]
    assert send.txn_id("!a:x") == send.txn_id("!a:x") != send.txn_id("!b:x")
    assert send.txn_id("!a:x").startswith("lh-") and len(send.txn_id("!a:x")) == 35


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=300 * 24), max_size=6))
def test_consecutive_windows_plan_each_send_exactly_once(cuts):
    timing = event("Title: W\nStart: 2026-03-16 18:00\nRepeat: weekly\nReminders: 1d, 1h, 10m\n"
                   "Registration until: 2026-03-12 09:00")
    end = NOW + timedelta(days=300)
    whole = plan_event(timing, NOW, end)
    bounds = [NOW, *sorted(NOW + timedelta(hours=h) for h in cuts), end]
    pieces = [s for lo, hi in zip(bounds, bounds[1:]) for s in plan_event(timing, lo, hi)]
    assert sorted(pieces, key=lambda send: send.sort_key) == whole


def test_plain_announcement_posts_once_per_occurrence():
    ann = build_announcement("2026-03-23 09:00", "Weekly digest", now=NOW, zone="Europe/Warsaw", repeat="weekly")
    posts = plan_announcement(3, ann, NOW, datetime(2026, 4, 7, tzinfo=WAW))
    assert [(p.kind, p.due_at.strftime("%m-%d %H:%M")) for p in posts] == [
        ("post", "03-23 09:00"), ("post", "03-30 09:00"), ("post", "04-06 09:00")]
    assert posts[1].id == "announcement:3:post:20260330T070000Z"
    once = build_announcement("in 2 hours", "Hi", now=NOW, zone="Europe/Warsaw")
    assert [p.due_at for p in plan_announcement(4, once, NOW, FAR)] == [NOW + timedelta(hours=2)]


DUE = datetime(2026, 3, 20, 17, 0, tzinfo=WAW)


@pytest.mark.parametrize(
    "late_by, expected",
    [
        (timedelta(minutes=-5), "send"),  # early: nothing late about it
        (timedelta(0), "send"),
        (timedelta(seconds=59), "send"),  # scheduler jitter is on time
        (timedelta(minutes=2), "late"),
        (timedelta(minutes=30), "late"),
        (timedelta(minutes=31), "skip"),
        (timedelta(days=2), "skip"),
    ],
)
def test_decide_late_default_grace(late_by, expected):
    assert decide_late(DUE, DUE + late_by) == expected


def test_decide_late_custom_grace_and_expiry():
    assert decide_late(DUE, DUE + timedelta(minutes=45), timedelta(hours=1)) == "late"
    assert decide_late(DUE, DUE + timedelta(minutes=45), timedelta(minutes=10)) == "skip"
    # A reminder for 18:00 found at 18:05 would mislead, whatever the grace.
    start = DUE + timedelta(hours=1)
    assert decide_late(DUE, start + timedelta(minutes=5), timedelta(hours=2), expires_at=start) == "skip"
    assert decide_late(DUE, start - timedelta(minutes=5), timedelta(hours=2), expires_at=start) == "late"
    # Zones do not matter: instants are compared.
    assert decide_late(DUE, DUE.astimezone(timezone.utc) + timedelta(minutes=5)) == "late"


def test_decide_late_counts_real_minutes_across_the_autumn_change():
    # 02:30 summer time, then the clocks go back; 02:20 winter time is 50 minutes later.
    due = datetime(2026, 10, 25, 2, 30, tzinfo=WAW)
    now = datetime(2026, 10, 25, 2, 20, fold=1, tzinfo=WAW)
    assert decide_late(due, now) == "skip"
    assert decide_late(due, now, timedelta(hours=1)) == "late"


def test_sends_are_ordered_by_real_time_in_the_repeated_hour():
    first = PlannedSend(datetime(2026, 10, 25, 2, 45, tzinfo=WAW), "b", "post")
    second = PlannedSend(datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=WAW), "a", "post")
    assert sorted([second, first], key=lambda send: send.sort_key) == [first, second]
