"""What a room sees of an event, over a real SQLite file and the console transport: the announcement
with its RSVP counts and the feed's subscription links, `!events`, and descriptions in Markdown."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.app import Hub
from bot.compose import create_hub, parse_config
from bot.console import CONSOLE_ROOM, ConsoleTransport
from bot.context import Incoming
from commands.events.scheduler import EventScheduler
from storage.models import EventMessage, ScheduledSend

COORD = "@coord:localhost"


async def _hub(tmp_path, db_url: str, lang: str = "en", http: str = "", events: str = "") -> Hub:
    config = parse_config(f"""
[matrix]
user_id = "@hub:localhost"
password = "x"
[bot]
language = "{lang}"
admins = ["{COORD}"]
[events]
{events}
[database]
url = "{db_url}"
[http]
{http}
""")
    hub = await create_hub(config)
    transport = ConsoleTransport(hub, COORD, tmp_path)
    transport.out = open(tmp_path / "out.txt", "a")
    return hub


@pytest.fixture
async def make_hub(tmp_path, db_url):
    """``await make_hub(lang=…)`` → a hub on the test's database (a second call: a restart on the same one)."""
    made: list[Hub] = []

    async def make(**kwargs) -> Hub:
        hub = await _hub(tmp_path, db_url, **kwargs)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        hub.platform.out.close()
        await hub.close()


def _start(days: int = 10) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%d 18:00")


async def _announce(hub: Hub, form: str, scheduler: EventScheduler | None = None) -> str:
    """Add and confirm an event, fire its announcement (with the hub's one scheduler); the text the room got."""
    transport = hub.platform
    assert "event 1" in (await transport.handle("!event add " + form))[0].lower()
    await transport.handle("!event confirm 1")
    async with hub.sessions() as session:
        (row,) = await session.scalars(select(ScheduledSend).where(ScheduledSend.kind == "announce"))
    await (scheduler or EventScheduler(hub)).fire(row.id)
    ((room, text),) = [(room, text) for room, text in transport.sent if text.startswith("📅")]
    assert room == CONSOLE_ROOM
    return text


async def test_the_announcement_gives_the_feeds_subscription_links_from_public_url(make_hub):
    hub = await make_hub(http='public_url = "https://hub.example.org/leaders/"')
    text = await _announce(hub, f"Title: Training\nStart: {_start()}")
    assert ("📆 Every event in your calendar app: subscribe to webcal://hub.example.org/leaders/events.ics "
            "or https://hub.example.org/leaders/events.ics") in text
    listing = (await hub.platform.handle("!events"))[0]
    assert "Training" in listing and "webcal://hub.example.org/leaders/events.ics" in listing
    assert listing.rstrip().endswith("https://hub.example.org/leaders/events.ics")


async def test_polish_readers_get_the_links_in_polish_and_an_empty_list_still_gives_them(make_hub):
    hub = await make_hub(lang="pl", http='public_url = "http://127.0.0.1:8080"')
    (reply,) = await hub.platform.handle("!wydarzenia")
    assert reply == ("Brak nadchodzących wydarzeń.\n\n📆 Wszystkie wydarzenia w Twoim kalendarzu: zasubskrybuj "
                     "webcal://127.0.0.1:8080/events.ics albo http://127.0.0.1:8080/events.ics")


async def test_without_public_url_nothing_is_said_about_links(make_hub):
    hub = await make_hub()
    text = await _announce(hub, f"Title: Training\nStart: {_start()}")
    listing = (await hub.platform.handle("!events"))[0]
    assert "webcal" not in text + listing and "events.ics" not in text + listing and "📆" not in text + listing
    assert (await hub.platform.handle("!events")) == [listing]


# --- RSVP counts kept current by throttled m.replace edits ------------------------------------------


async def _react(hub: Hub, user: str, key: str, message_id: str, kind: str = "reaction") -> None:
    """A reaction as the Matrix transport hands it over (the same path: hub.execute)."""
    incoming = Incoming(event_id=f"$r-{uuid.uuid4().hex}", room_id=CONSOLE_ROOM, sender=user, body=key,
                        origin_ts=int(time.time() * 1000), kind=kind, relates_to=message_id)
    await hub.execute(incoming)


async def _announcement_id(hub: Hub) -> str:
    async with hub.sessions() as session:
        (message,) = await session.scalars(select(EventMessage).where(EventMessage.kind == "announce"))
    return message.matrix_event_id


async def _edits_settle(hub: Hub, scheduler: EventScheduler, timeout: float = 10.0) -> list[tuple[float, str]]:
    """Wait until the editor is idle; every edit, with when it was sent (see ``announced``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not scheduler.editor.tasks:
            return [(at, text) for at, (_room, _edited, text) in zip(hub.platform.edit_times, hub.platform.edits)]
        await asyncio.sleep(0.02)
    raise AssertionError(f"the editor did not settle: {hub.platform.edits}")


@pytest.fixture
async def announced(make_hub):
    """A hub whose event 1 is announced, with the scheduler running as the bot runs it."""
    hub = await make_hub(events="rsvp_edit_seconds = 1")
    # When each edit is sent (not when a test looks: it may be busy sending reactions then).
    hub.platform.edit_times, edit = [], hub.platform.edit_notice

    async def timed_edit(*args, **kwargs):
        hub.platform.edit_times.append(time.monotonic())
        return await edit(*args, **kwargs)

    hub.platform.edit_notice = timed_edit
    scheduler = hub.service(EventScheduler)
    scheduler.started = True  # as in the running bot; its timer is not needed, the tests fire the sends themselves
    text = await _announce(hub, f"Title: Training\nStart: {_start()}", scheduler)
    yield hub, scheduler, text, await _announcement_id(hub)
    scheduler.stop()


async def test_a_burst_of_answers_becomes_at_most_two_edits_and_the_last_shows_them_all(announced):
    hub, scheduler, text, message = announced
    assert "RSVP: ✅ 0 · ❔ 0 · ❌ 0" in text
    await _edits_settle(hub, scheduler)
    assert hub.platform.edits == []  # nothing changed since it was posted
    for n in range(5):
        await _react(hub, f"@leader{n}:localhost", "✅", message)
    await _react(hub, "@sceptic:localhost", "❌", message)
    edits = await _edits_settle(hub, scheduler)
    assert 1 <= len(edits) <= 2
    assert "RSVP: ✅ 5 · ❔ 0 · ❌ 1" in edits[-1][1]
    assert edits[-1][1].startswith("📅 Training (event 1)") and "Coming? React ✅" in edits[-1][1]
    if len(edits) == 2:
        assert edits[1][0] - edits[0][0] >= 0.9  # never two edits of one announcement within the interval
    assert {room for room, _m, _t in hub.platform.edits} == {CONSOLE_ROOM}
    assert {edited for _r, edited, _t in hub.platform.edits} == {message}

    # Taking a reaction back is an answer withdrawn: shown too, after the interval.
    await _react(hub, "@sceptic:localhost", "❌", message, kind="unreaction")
    await _react(hub, "@leader0:localhost", "❔", message)
    (last_at, last), = (await _edits_settle(hub, scheduler))[-1:]
    assert "RSVP: ✅ 4 · ❔ 1 · ❌ 0" in last
    assert "RSVP: ✅ 4 · ❔ 1 · ❌ 0" in (await hub.platform.handle("!event 1"))[0]


async def test_rsvp_by_command_edits_the_announcement_too(announced):
    hub, scheduler, _text, _message = announced
    hub.platform.sender = "@ala:localhost"
    assert "your answer to event 1 is maybe" in (await hub.platform.handle("!rsvp 1 maybe"))[0]
    (_at, text), = await _edits_settle(hub, scheduler)
    assert "RSVP: ✅ 0 · ❔ 1 · ❌ 0" in text


async def test_an_answer_committed_before_a_crash_is_shown_at_the_next_start_and_only_once(announced):
    hub, scheduler, _text, message = announced
    scheduler.stop()  # the bot "crashes" right after committing the answer, before any edit
    await _react(hub, "@ala:localhost", "✅", message)
    await _edits_settle(hub, scheduler)
    assert hub.platform.edits == []

    restarted = EventScheduler(hub)
    await restarted.start()  # the database is the truth: the stale announcement is found and edited
    try:
        (_at, text), = await _edits_settle(hub, restarted)
        assert "RSVP: ✅ 1 · ❔ 0 · ❌ 0" in text
    finally:
        restarted.stop()
    again = EventScheduler(hub)
    await again.start()
    try:
        await _edits_settle(hub, again)
        assert len(hub.platform.edits) == 1  # nothing to show: no second edit
    finally:
        again.stop()
    async with hub.sessions() as session:
        stored = await session.get(EventMessage, message)
    assert (stored.shown, stored.edits) == ("1/0/0", 1)


async def test_a_cancelled_events_announcement_is_left_as_it_was(announced):
    hub, scheduler, _text, message = announced
    await hub.platform.handle("!event cancel 1 no room")
    await _react(hub, "@ala:localhost", "✅", message)  # not an answer any more
    await _edits_settle(hub, scheduler)
    assert hub.platform.edits == []


# --- the description is the organiser's Markdown ---------------------------------------------------------


async def test_a_description_in_markdown_is_shown_formatted_and_safe_everywhere(make_hub):
    hub = await make_hub()
    description = ("Description: **Bring** your *own* data; [agenda](https://example.org/a) "
                   "[x](javascript:alert(1)) <b>hi</b>\n- first\n- second\n```\nleft open")
    form = f"Title: Data day\nStart: {_start()}\n{description}"
    preview = (await hub.platform.handle("!event add " + form))[0]
    await hub.platform.handle("!event confirm 1")
    async with hub.sessions() as session:
        (row,) = await session.scalars(select(ScheduledSend).where(ScheduledSend.kind == "announce"))
    await EventScheduler(hub).fire(row.id)
    ((_room, announcement),) = [s for s in hub.platform.sent if s[1].startswith("📅")]
    details = (await hub.platform.handle("!event 1"))[0]
    for plain in (preview, announcement, details):
        assert "Bring your own data; agenda (https://example.org/a) [x](javascript:alert(1)) <b>hi</b>" in plain
        assert "**" not in plain and "• first\n• second" in plain and "left open" in plain
    assert "Coming? React ✅" in announcement.split("left open")[1]  # what follows is the bot's, intact
    assert "Status:" in details.split("left open")[1]


async def test_the_html_of_a_markdown_description(make_hub):
    from bot.reply import render_markdown
    from commands.events.render import describe
    from commands.events.store import draft_from_json

    hub = await make_hub()
    await hub.platform.handle("!event add Title: T\nStart: " + _start() + "\nDescription: **Bold** <i>x</i>")
    async with hub.sessions() as session:
        from storage.models import HubEvent

        draft = draft_from_json((await session.get(HubEvent, 1)).data)
    _plain, html = render_markdown("\n".join(describe(hub.translator, "en", draft, "Europe/Warsaw")))
    assert "<strong>Bold</strong> &lt;i&gt;x&lt;/i&gt;" in html and "<i>" not in html


async def test_events_at_the_same_time_are_listed_in_the_order_they_were_added(make_hub):
    """On PostgreSQL a row that is updated moves in the table, so without an order the list would follow the
    order of confirmation there and of creation on SQLite."""
    hub = await make_hub()
    start = _start()
    for title in ("Alpha", "Beta"):
        assert "event" in (await hub.platform.handle(f"!event add Title: {title}\nStart: {start}"))[0].lower()
    await hub.platform.handle("!event confirm 2")
    await hub.platform.handle("!event confirm 1")
    listed = (await hub.platform.handle("!events"))[0]
    assert "Alpha" in listed and "Beta" in listed
    assert listed.index("Alpha") < listed.index("Beta"), listed
