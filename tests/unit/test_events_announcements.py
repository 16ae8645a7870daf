"""What a room sees of an event, over a real SQLite file and the console transport: the announcement
with its RSVP counts and the feed's subscription links, `!events`, and descriptions in Markdown."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.app import Hub
from bot.config import parse_config
from bot.console import CONSOLE_ROOM, ConsoleTransport
from commands.events.scheduler import EventScheduler
from storage.models import ScheduledSend

COORD = "@coord:localhost"


async def _hub(tmp_path, lang: str = "en", http: str = "", events: str = "") -> Hub:
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
url = "sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
[http]
{http}
""")
    hub = await Hub.create(config)
    transport = ConsoleTransport(hub, COORD, tmp_path)
    transport.out = open(tmp_path / "out.txt", "a")
    return hub


@pytest.fixture
async def make_hub(tmp_path):
    made: list[Hub] = []

    async def make(**kwargs) -> Hub:
        hub = await _hub(tmp_path, **kwargs)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        hub.transport.out.close()
        await hub.close()


def _start(days: int = 10) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%d 18:00")


async def _announce(hub: Hub, form: str) -> str:
    """Add and confirm an event, fire its announcement; the text the room got."""
    transport = hub.transport
    assert "event 1" in (await transport.handle("!event add " + form))[0].lower()
    await transport.handle("!event confirm 1")
    async with hub.sessions() as session:
        (row,) = await session.scalars(select(ScheduledSend).where(ScheduledSend.kind == "announce"))
    await EventScheduler(hub).fire(row.id)
    ((room, text),) = [(room, text) for room, text in transport.sent if text.startswith("📅")]
    assert room == CONSOLE_ROOM
    return text


async def test_the_announcement_gives_the_feeds_subscription_links_from_public_url(make_hub):
    hub = await make_hub(http='public_url = "https://hub.example.org/leaders/"')
    text = await _announce(hub, f"Title: Training\nStart: {_start()}")
    assert ("📆 Every event in your calendar app: subscribe to webcal://hub.example.org/leaders/events.ics "
            "or https://hub.example.org/leaders/events.ics") in text
    listing = (await hub.transport.handle("!events"))[0]
    assert "Training" in listing and "webcal://hub.example.org/leaders/events.ics" in listing
    assert listing.rstrip().endswith("https://hub.example.org/leaders/events.ics")


async def test_polish_readers_get_the_links_in_polish_and_an_empty_list_still_gives_them(make_hub):
    hub = await make_hub(lang="pl", http='public_url = "http://127.0.0.1:8080"')
    (reply,) = await hub.transport.handle("!wydarzenia")
    assert reply == ("Brak nadchodzących wydarzeń.\n\n📆 Wszystkie wydarzenia w Twoim kalendarzu: zasubskrybuj "
                     "webcal://127.0.0.1:8080/events.ics albo http://127.0.0.1:8080/events.ics")


async def test_without_public_url_nothing_is_said_about_links(make_hub):
    hub = await make_hub()
    text = await _announce(hub, f"Title: Training\nStart: {_start()}")
    listing = (await hub.transport.handle("!events"))[0]
    assert "webcal" not in text + listing and "events.ics" not in text + listing and "📆" not in text + listing
    assert (await hub.transport.handle("!events")) == [listing]
