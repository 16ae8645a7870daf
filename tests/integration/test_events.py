"""Events in a real room: preview, confirmation by reaction, RSVPs, reminders on the second,
exactly once across kill -9, iCalendar file and feed, cancellation, refusals."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from email.message import Message
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.calendars import Expected, assert_icaljs_reads, assert_python_libraries_read, icaljs, wall_clock_series
from tests.backends import as_datetime, rows
from tests.harness import BotProcess, Member, from_bot, reply_text

pytestmark = pytest.mark.synapse


async def _planned(bot: BotProcess, kind: str) -> list[tuple[datetime, str]]:
    """Due times and states of the bot's scheduled sends, read from its database."""
    found = await rows(bot.db_url, "SELECT due_at, status FROM scheduled_sends WHERE kind = :kind ORDER BY id",
                       kind=kind)
    return [(as_datetime(due), status) for due, status in found]



async def _react(member: Member, room: str, event_id: str, key: str) -> str:
    resp = await member.client.room_send(room, "m.reaction", {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}})
    return resp.event_id


@pytest.fixture
async def events_room(homeserver, leader_room, tmp_path, empty_db_url):
    room, bot_id, people = await leader_room("coord", "leader", "leader2", power={"coord": 50})
    coordinator, leader, leader2 = people["coord"], people["leader"], people["leader2"]
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    yield room, bot, bot_id, coordinator, leader, leader2
    bot.stop()


async def test_event_from_preview_to_reminder_exactly_once(events_room):
    room, bot, bot_id, coord, leader, leader2 = events_room

    refused = reply_text(await leader.ask(room, "!event add\nTitle: Not mine\nStart: tomorrow 10:00"))
    assert "the coordinator role (or higher)" in refused

    bad = reply_text(await coord.ask(room, "!event add\nTitle: Oops\nStart: 2020-01-01 10:00"))
    assert "Start" in bad and "2020-01-01 10:00" in bad and "past" in bad

    add = await coord.send(room, "!event add\nTitle: Community of Practice <b>meeting</b>\nStart: in 45 seconds\n"
                                 "Duration: 1h\nPlace: online\nReminders: 25s")
    preview = await coord.wait_reply(add)
    assert "Preview of event 1" in reply_text(preview) and "nothing is announced yet" in reply_text(preview)
    assert "<b>" not in preview["content"]["formatted_body"]  # the title is text, never HTML

    # ✅ on the preview confirms it: the announcement appears in the room.
    await _react(coord, room, preview["event_id"], "✅")
    announcement = await leader.wait_for(lambda e: e.get("sender") == bot_id and "📅" in e["content"].get("body", ""))
    assert "(event 1)" in announcement["content"]["body"]

    # RSVP by reaction (no new message) and by command.
    await _react(leader, room, announcement["event_id"], "✅")
    assert "your answer to event 1 is maybe" in reply_text(await leader2.ask(room, "!rsvp 1 maybe"))
    details = reply_text(await leader.ask(room, "!event 1"))
    assert "RSVP: ✅ 1 · ❔ 1 · ❌ 0" in details

    # A plain announcement; the bot is killed right after scheduling it and started again.
    scheduled = await coord.ask(room, '!announce "in 20 seconds" rooms:this Call for applications is open')
    assert "Announcement 1 scheduled" in reply_text(scheduled)
    bot.kill9()
    bot.start()

    reminder = await leader.wait_for(lambda e: e.get("sender") == bot_id and "⏰" in e["content"].get("body", ""),
                                     timeout=90)
    assert leader.user_id in reminder["content"]["m.mentions"]["user_ids"]  # yes-voters are notified
    assert leader.user_id in reminder["content"]["body"]
    post = await leader.wait_for(lambda e: e.get("sender") == bot_id and "Call for applications" in
                                 e["content"].get("body", "") and "📣" in e["content"]["body"], timeout=90)

    # Each fired at its planned second (the homeserver's timestamp against the stored due time).
    (reminder_due, reminder_state), = await _planned(bot, "reminder")
    (post_due, post_state), = await _planned(bot, "post")
    assert reminder_state == "sent" and post_state == "sent"
    assert abs(reminder["origin_server_ts"] / 1000 - reminder_due.timestamp()) < 2.0
    assert abs(post["origin_server_ts"] / 1000 - post_due.timestamp()) < 2.0

    await asyncio.sleep(2)
    assert len(from_bot(leader, bot_id, "📅")) == 1
    assert len(from_bot(leader, bot_id, "⏰")) == 1
    assert len(from_bot(leader, bot_id, "📣")) == 1

    # The .ics file and the feed parse back as valid iCalendar.
    ics_cmd = await leader.send(room, "!event ics 1")
    file_event = await leader.wait_for(lambda e: e.get("sender") == bot_id and e["content"].get("msgtype") == "m.file"
                                       and (e["content"].get("m.relates_to") or {}).get("m.in_reply_to", {})
                                       .get("event_id") == ics_cmd)
    downloaded = await leader.client.download(file_event["content"]["url"])
    calendar = icalendar.Calendar.from_ical(downloaded.body)
    vevent = next(c for c in calendar.walk("VEVENT"))
    assert "Community of Practice" in str(vevent["SUMMARY"])
    assert vevent["DTSTART"].params["TZID"] == "Europe/Warsaw"
    assert any(tz["TZID"] == "Europe/Warsaw" for tz in calendar.walk("VTIMEZONE"))
    with urllib.request.urlopen(f"http://127.0.0.1:{bot.http_port}/events.ics", timeout=10) as r:
        feed = icalendar.Calendar.from_ical(r.read())
    assert [str(e["UID"]) for e in feed.walk("VEVENT")] == [str(vevent["UID"])]

    # Cancelling is announced in the room; the event leaves the list.
    assert "is cancelled" in reply_text(await coord.ask(room, "!event cancel 1 the venue is closed"))
    cancelled = await leader.wait_for(lambda e: e.get("sender") == bot_id
                                      and e["content"].get("body", "").startswith("❌"))
    assert "is cancelled" in cancelled["content"]["body"] and "the venue is closed" in cancelled["content"]["body"]
    assert "No upcoming events" in reply_text(await leader.ask(room, "!events"))


async def _add_and_confirm(coord: Member, room: str, form: str) -> int:
    preview = reply_text(await coord.ask(room, "!event add\n" + form))
    number = int(re.search(r"Preview of event (\d+)", preview).group(1))
    assert f"Event {number} is confirmed" in reply_text(await coord.ask(room, f"!event confirm {number}"))
    return number


async def _ics_file(member: Member, room: str, bot_id: str, number: int) -> tuple[bytes, dict]:
    """``!event ics N`` as the member sees it: the file's bytes and the caption notice under it."""
    command = await member.send(room, f"!event ics {number}")
    replies = lambda: [e for e in member.replies_to(command, bot_id)]  # noqa: E731
    await member.wait_for(lambda _e: len(replies()) >= 2)
    (file_event,) = [e for e in replies() if e["content"].get("msgtype") == "m.file"]
    (caption,) = [e for e in replies() if e["content"].get("msgtype") == "m.notice"]
    downloaded = await member.client.download(file_event["content"]["url"])
    return downloaded.body, caption


def _get_feed(bot: BotProcess, headers: dict[str, str] | None = None) -> tuple[int, bytes, Message]:
    """``GET /events.ics`` as a calendar app polls it: status, body, headers."""
    request = urllib.request.Request(f"http://127.0.0.1:{bot.http_port}/events.ics", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as exc:  # urllib raises for a 304
        return exc.code, exc.read(), exc.headers


def _feed(bot: BotProcess) -> bytes:
    status, body, _headers = _get_feed(bot)
    assert status == 200
    return body


async def test_every_calendar_file_the_bot_gives_is_read_right_by_icaljs(events_room):
    """Events in four zones, added in chat; each one's ``!event ics N`` and the feed, read by ical.js,
    icalendar and dateutil, put every occurrence for a year at tzdata's instant."""
    room, bot, bot_id, coord, leader, _leader2 = events_room
    year = datetime.now(timezone.utc).year + 1
    jan1 = date(year, 1, 1)
    monday = jan1 + timedelta(days=(7 - jan1.weekday()) % 7 + 7)
    wednesday = monday + timedelta(days=2)
    until = datetime(year + 1, 1, 20, tzinfo=timezone.utc)
    events = [  # form, zone, first start (local), series step, length
        (f"Title: Weekly leaders' call\nStart: {monday} 18:00\nDuration: 1h30m\nRepeat: weekly",
         "Europe/Warsaw", f"{monday} 18:00", timedelta(weeks=1), timedelta(minutes=90)),
        (f"Title: Study visit\nStart: {year}-06-15 10:00\nEnd: {year}-06-15 12:00\nTimezone: America/New_York",
         "America/New_York", f"{year}-06-15 10:00", None, timedelta(hours=2)),
        (f"Title: Sydney circle\nStart: {year}-01-20 19:00\nDuration: 1h\nRepeat: monthly\n"
         "Timezone: Australia/Sydney", "Australia/Sydney", f"{year}-01-20 19:00", "monthly", timedelta(hours=1)),
        (f"Title: Kolkata sync\nStart: {wednesday} 15:00\nDuration: 45m\nRepeat: weekly\nTimezone: Asia/Kolkata",
         "Asia/Kolkata", f"{wednesday} 15:00", timedelta(weeks=1), timedelta(minutes=45)),
    ]
    files, expected = {}, {}
    for form, zone, first, step, length in events:
        number = await _add_and_confirm(coord, room, form)
        start = datetime.strptime(first, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
        starts = [start] if step is None else wall_clock_series(start, zone, step, until)
        expected[f"event-{number}@{bot_id.split(':', 1)[1]}"] = Expected(zone, starts, length)
        data, caption = await _ics_file(leader, room, bot_id, number)
        assert f"Event {number} as an iCalendar file" in reply_text(caption)
        assert caption["content"]["m.mentions"] == {"user_ids": [leader.user_id]}  # like every other reply
        files[f"event-{number}.ics"] = data
    files["feed.ics"] = _feed(bot)
    assert len(icalendar.Calendar.from_ical(files["feed.ics"]).walk("VEVENT")) == 4

    assert_icaljs_reads(icaljs(files, until), expected, until)
    assert_python_libraries_read(files, expected, until)


async def test_the_feed_is_the_same_bytes_across_requests_and_restarts(events_room):
    room, bot, _bot_id, coord, _leader, _leader2 = events_room
    year = datetime.now(timezone.utc).year + 1
    await _add_and_confirm(coord, room, f"Title: Weekly call\nStart: {year}-02-01 18:00\nDuration: 1h\nRepeat: weekly")
    await _add_and_confirm(coord, room, f"Title: Study visit\nStart: {year}-06-15 10:00\nDuration: 2h\n"
                                        "Timezone: America/New_York")
    status, first, headers = _get_feed(bot)
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    etag = headers["ETag"]
    assert etag.startswith('"') and headers["Last-Modified"].endswith(" GMT")
    assert _feed(bot) == first

    # A calendar app that has it gets 304 and no body; a wrong tag gets the feed.
    status, body, again = _get_feed(bot, {"If-None-Match": etag})
    assert (status, body, again["ETag"]) == (304, b"", etag)
    assert _get_feed(bot, {"If-None-Match": '"something-else"'})[0] == 200

    for _restart in range(2):
        bot.stop()
        bot.start()
        assert _feed(bot) == first
        assert _get_feed(bot, {"If-None-Match": etag})[0] == 304

    # A change gives new bytes and a new tag; the old tag no longer matches.
    assert "Event 2 is changed" in reply_text(await coord.ask(room, "!event edit 2\nPlace: Hall B"))
    status, changed, headers = _get_feed(bot, {"If-None-Match": etag})
    assert status == 200 and changed != first and headers["ETag"] != etag
    assert b"LOCATION:Hall B" in changed and b"SEQUENCE:1" in changed


def _edit_of(event: dict, bot_id: str, original: str) -> dict | None:
    """The new content if ``event`` is the bot's m.replace edit of ``original``."""
    content = event.get("content", {})
    relates = content.get("m.relates_to") or {}
    if event.get("sender") == bot_id and relates == {"rel_type": "m.replace", "event_id": original}:
        return content.get("m.new_content")
    return None


async def test_the_announcement_shows_the_rsvp_counts_and_follows_the_reactions(events_room):
    room, _bot, bot_id, coord, leader, leader2 = events_room
    start = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%d 10:00")
    await _add_and_confirm(coord, room, f"Title: Training day\nStart: {start}\nDuration: 2h")
    announcement = await leader.wait_for(lambda e: e.get("sender") == bot_id and "📅" in e["content"].get("body", ""))
    assert "RSVP: ✅ 0 · ❔ 0 · ❌ 0" in announcement["content"]["body"]
    original = announcement["event_id"]

    await _react(leader, room, original, "✅")
    no = await _react(leader2, room, original, "❌")
    edit = await leader.wait_for(lambda e: "RSVP: ✅ 1 · ❔ 0 · ❌ 1" in (_edit_of(e, bot_id, original) or {}).get(
        "body", ""))
    new = edit["content"]["m.new_content"]
    assert new["msgtype"] == "m.notice" and "Training day" in new["body"] and new["m.mentions"] == {}
    assert edit["content"]["body"].startswith("* ") and edit["content"]["m.mentions"] == {}

    # Taking the ❌ back (redacting the reaction) withdraws the answer: a later edit shows it.
    await leader2.client.room_redact(room, no)
    await leader.wait_for(lambda e: "RSVP: ✅ 1 · ❔ 0 · ❌ 0" in (_edit_of(e, bot_id, original) or {}).get("body", ""))
    edits = [e for e in leader.events if _edit_of(e, bot_id, original)]
    assert len(edits) <= 3  # one per change at most, and the throttle merges what comes together
    times = sorted(e["origin_server_ts"] for e in edits)
    assert all(b - a >= 4500 for a, b in zip(times, times[1:]))  # at most one edit every 5 s
