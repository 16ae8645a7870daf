"""The scheduler over a real SQLite file, with the console transport: sent once, late, skipped and told."""

from __future__ import annotations

import datetime as dt
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.compose import create_hub, parse_config
from bot.console import CONSOLE_ROOM, ConsoleTransport
from commands.events.scheduler import EventScheduler
from storage.models import Announcement, ScheduledSend


@pytest.fixture
async def hub(tmp_path, db_url):
    config = parse_config(f"""
[matrix]
user_id = "@hub:localhost"
password = "x"
[bot]
language = "en"
admins = ["@coord:localhost"]
[events]
plan_days = 200
[database]
url = "{db_url}"
""")
    hub = await create_hub(config)
    transport = ConsoleTransport(hub, "@coord:localhost", tmp_path)
    transport.out = open(tmp_path / "out.txt", "w")
    yield hub
    transport.out.close()
    await hub.close()


async def _announcement(hub, due: datetime, text: str = "Call for applications") -> int:
    async with hub.sessions() as session:
        row = Announcement(text=text, data=json.dumps({"when": due.isoformat(), "zone": "Europe/Warsaw",
                                                       "repeat": None, "rooms": [CONSOLE_ROOM]}),
                           created_by="@coord:localhost", created_room=CONSOLE_ROOM)
        session.add(row)
        await session.flush()
        send = ScheduledSend(send_key=f"announcement:{row.id}:post:x", room_id=CONSOLE_ROOM, owner="announcement",
                             owner_id=row.id, kind="post", due_at=due)
        session.add(send)
        await session.commit()
        return send.id


async def _status(hub, row_id: int) -> str:
    async with hub.sessions() as session:
        return (await session.get(ScheduledSend, row_id)).status


async def test_a_send_fires_once_even_when_woken_twice(hub):
    row = await _announcement(hub, datetime.now(timezone.utc))
    scheduler = EventScheduler(hub)
    await scheduler.fire(row)
    await scheduler.fire(row)  # a second wake-up (e.g. a rebuild racing a timer) sends nothing
    assert hub.platform.sent == [(CONSOLE_ROOM, "📣 Call for applications")]
    assert await _status(hub, row) == "sent"


async def test_a_send_due_while_down_goes_out_late_and_marked(hub):
    row = await _announcement(hub, datetime.now(timezone.utc) - timedelta(minutes=10))
    await EventScheduler(hub).fire(row)
    assert hub.platform.sent == [(CONSOLE_ROOM, "📣 (late) Call for applications")]
    assert await _status(hub, row) == "late"


async def test_a_send_older_than_the_grace_is_skipped_and_the_coordinator_told(hub):
    row = await _announcement(hub, datetime.now(timezone.utc) - timedelta(hours=2))
    await EventScheduler(hub).fire(row)
    assert await _status(hub, row) == "skipped"
    (room, text), = hub.platform.sent
    assert room == CONSOLE_ROOM and "was not sent" in text and "grace" in text
    assert "(announcement) about Call for applications for console" in text  # kind translated, room named


async def test_the_coordinator_is_told_of_a_skipped_send_in_their_own_language(hub):
    await hub.platform.handle("!lang pl")  # the bot's language is English
    row = await _announcement(hub, datetime.now(timezone.utc) - timedelta(hours=2))
    await EventScheduler(hub).fire(row)
    (room, text), = hub.platform.sent
    assert text.startswith("Zaplanowana wiadomość (ogłoszenie) o Call for applications dla console")


async def test_start_rebuilds_every_planned_send_from_the_database(hub):
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    rows = [await _announcement(hub, soon + timedelta(minutes=i)) for i in range(5)]
    scheduler = EventScheduler(hub)
    await scheduler.start()
    try:
        assert {job.id for job in scheduler.scheduler.get_jobs()} >= {f"send-{r}" for r in rows}
        assert scheduler.rebuild_seconds is not None
    finally:
        scheduler.stop()


async def test_confirming_an_event_plans_reminders_in_local_time_across_dst(hub):
    transport = hub.platform
    # A weekly event at 18:00 Warsaw time whose series crosses the last Sunday of March.
    replies = await transport.handle("!event add Title: Weekly meeting\nStart: 2027-03-22 18:00\n"
                                     "Repeat: weekly\nReminders: 1h")
    assert "Preview of event 1" in replies[0]
    await transport.handle("!event confirm 1")
    async with hub.sessions() as session:
        store_rows = list(await session.scalars(select(ScheduledSend).where(ScheduledSend.kind == "reminder")))
    local = sorted(r.due_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Europe/Warsaw")) for r in store_rows)
    assert local[0].strftime("%Y-%m-%d %H:%M %Z") == "2027-03-22 17:00 CET"
    assert local[1].strftime("%Y-%m-%d %H:%M %Z") == "2027-03-29 17:00 CEST"  # still 17:00 on the wall


async def test_editing_the_time_replans_the_reminders_and_announces_the_change(hub):
    # A winter date always in the future (no DST change near it), so the test does not expire.
    year = dt.date.today().year + 1
    transport = hub.platform
    await transport.handle(f"!event add Title: Study tour\nStart: {year}-01-20 10:00\nReminders: 1d")
    await transport.handle("!event confirm 1")
    reply = await transport.handle(f"!event edit 1\nStart: {year}-01-21 12:00")
    assert "Event **1** is changed" in reply[0] or "Event 1 is changed" in reply[0]
    async with hub.sessions() as session:
        rows = list(await session.scalars(select(ScheduledSend).where(ScheduledSend.owner == "event")))
    reminders = {(r.status, r.due_at.strftime("%Y-%m-%d %H:%M")) for r in rows if r.kind == "reminder"}
    assert ("cancelled", f"{year}-01-19 09:00") in reminders  # the old one is dropped…
    assert ("planned", f"{year}-01-20 11:00") in reminders  # …and a day before the new start, Warsaw 12:00
    assert [r.kind for r in rows if r.kind == "update"] == ["update"]  # the change is announced once


async def test_a_coordinator_cannot_target_a_room_that_is_not_a_leader_room(hub):
    reply = await hub.platform.handle("!event add Title: X\nStart: tomorrow 10:00\nRooms: !elsewhere:localhost")
    assert "is not a leader room I serve" in reply[0] and "Rooms" in reply[0]
    async with hub.sessions() as session:
        assert list(await session.scalars(select(ScheduledSend))) == []


async def test_a_room_set_to_polish_gets_its_announcement_and_reminders_in_polish(hub):
    """``!lang room``: what the bot posts in a room by itself is in the room's language; its reply to the
    coordinator stays in the coordinator's (the bot's default here, English). The post is counted."""
    console = hub.platform
    start = (datetime.now(timezone.utc) + timedelta(days=3)).astimezone(ZoneInfo("Europe/Warsaw"))
    assert (await console.handle("!lang room pl"))[0].startswith("From now on what I post in console")  # English
    await console.handle(f"!event add Title: Study tour\nStart: {start:%Y-%m-%d} 10:00\nReminders: 1d")
    await console.handle("!event confirm 1")
    async with hub.sessions() as session:
        sends = await session.scalars(select(ScheduledSend).where(ScheduledSend.owner == "event"))
        rows = {row.kind: row.id for row in sends}
    scheduler = EventScheduler(hub)
    await scheduler.fire(rows["announce"])
    await scheduler.fire(rows["reminder"])
    (_r1, announcement), (_r2, reminder) = console.sent
    assert announcement.startswith("📅 Study tour (wydarzenie 1)") and "Będziesz?" in announcement, announcement
    assert reminder.startswith("⏰ Przypomnienie"), reminder
    assert 'leaders_hub_posts_total{kind="reminder",outcome="ok"} 1.0' in hub.metrics.render().decode()
    await console.handle("!lang room en")
    async with hub.sessions() as session:
        row = await session.get(ScheduledSend, rows["reminder"])
        row.status = "planned"  # the same reminder once more, now that the room reads English
        await session.commit()
    await scheduler.fire(rows["reminder"])
    assert console.sent[-1][1].startswith("⏰ Reminder:"), console.sent[-1]
