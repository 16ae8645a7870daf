"""The runtime against a real Synapse: what a leader sees in the room."""

from __future__ import annotations

import pytest

from tests.harness import BotProcess, reply_text

pytestmark = pytest.mark.synapse


@pytest.fixture
async def hub_room(homeserver, members, unique, tmp_path, empty_db_url):
    """A leader room made by its owner (a room-v12 creator), with a leader and a power-50 moderator, and the bot."""
    bot_local = unique("hub")
    bot_id = homeserver.register(bot_local, "correct horse battery staple")
    owner = await members(unique("owner"))
    leader = await members(unique("leader"))
    moderator = await members(unique("mod"))
    room_id = await owner.create_room("Leaders", invite=[bot_id, leader.user_id, moderator.user_id],
                                      power={moderator.user_id: 50})
    await leader.join(room_id)
    await moderator.join(room_id)
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room_id], user_id=bot_id).start()
    yield {"room": room_id, "owner": owner, "leader": leader, "moderator": moderator, "bot": bot, "bot_id": bot_id}
    bot.stop()


async def test_help_ping_and_language(hub_room):
    room, leader, bot_id = hub_room["room"], hub_room["leader"], hub_room["bot_id"]
    reply = await leader.ask(room, "!help")
    content = reply["content"]
    assert reply["sender"] == bot_id
    assert content["msgtype"] == "m.notice"
    assert "!ping" in content["body"] and "!lang" in content["body"]
    assert "!status" not in content["body"]  # a leader is not shown moderator commands
    assert content["format"] == "org.matrix.custom.html" and "<code>!ping</code>" in content["formatted_body"]
    assert content["m.mentions"] == {"user_ids": [leader.user_id]}

    ping_id = await leader.send(room, "!ping")
    pong = await leader.wait_reply(ping_id)
    assert pong["content"]["body"].startswith("pong!")
    assert pong["content"]["pong"]["ping"] == ping_id
    assert isinstance(pong["content"]["pong"]["ms"], int)

    assert "po polsku" in reply_text(await leader.ask(room, "!jezyk pl"))
    assert "Polecenia, których możesz tu użyć" in reply_text(await leader.ask(room, "!pomoc"))
    assert "Użycie: !lang pl|en" in reply_text(await leader.ask(room, "!help lang"))
    assert "in English" in reply_text(await leader.ask(room, "!lang en"))


async def test_bad_input_gets_a_clear_reply(hub_room):
    room, leader = hub_room["room"], hub_room["leader"]
    assert "Did you mean !ping?" in reply_text(await leader.ask(room, "!pnig"))
    assert "never closed" in reply_text(await leader.ask(room, '!help "lang'))
    missing = reply_text(await leader.ask(room, "!lang"))
    assert "Missing argument: language" in missing and "Usage: !lang pl|en" in missing
    assert "choose one of: pl, en" in reply_text(await leader.ask(room, "!lang de"))
    refused = reply_text(await leader.ask(room, "!status"))
    assert "the moderator role (or higher)" in refused and "you are: leader" in refused


async def test_roles_per_room(hub_room):
    room = hub_room["room"]
    assert "role in this room: leader" in reply_text(await hub_room["leader"].ask(room, "!whoami"))
    assert "role in this room: moderator" in reply_text(await hub_room["moderator"].ask(room, "!whoami"))
    # Room-version-12 creators are not listed in m.room.power_levels but outrank everyone.
    assert "role in this room: admin" in reply_text(await hub_room["owner"].ask(room, "!whoami"))
    assert "Up for" in reply_text(await hub_room["moderator"].ask(room, "!status"))


async def test_replies_in_threads_and_to_replies(hub_room):
    room, leader = hub_room["room"], hub_room["leader"]
    root = await leader.send(room, "Thread about the calculator")
    in_thread = await leader.send(room, "!ping", **{"m.relates_to": {"rel_type": "m.thread", "event_id": root,
                                                                     "is_falling_back": True,
                                                                     "m.in_reply_to": {"event_id": root}}})
    reply = await leader.wait_reply(in_thread)
    assert reply["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert reply["content"]["m.relates_to"]["event_id"] == root
    # An old client quotes the replied-to message first; the command after it still counts.
    quoted = await leader.send(room, f"> <{leader.user_id}> Thread about the calculator\n\n!ping",
                               **{"m.relates_to": {"m.in_reply_to": {"event_id": root}}})
    assert (await leader.wait_reply(quoted))["content"]["body"].startswith("pong")


async def test_ignores_notices_and_plain_talk(hub_room):
    room, leader = hub_room["room"], hub_room["leader"]
    notice = await leader.send(room, "!ping", msgtype="m.notice")
    talk = await leader.send(room, "Hello! ping me later")
    marker = await leader.send(room, "!ping")
    await leader.wait_reply(marker)
    assert leader.replies_to(notice) == [] and leader.replies_to(talk) == []


async def test_user_text_is_escaped(hub_room):
    room, leader = hub_room["room"], hub_room["leader"]
    reply = await leader.ask(room, '!lang "<img src=x onerror=alert(1)> **bold** [x](https://evil.example)"')
    html = reply["content"]["formatted_body"]
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<strong>bold" not in html and "<a " not in html
    assert "<img src=x onerror=alert(1)> **bold**" in reply["content"]["body"]


async def test_metrics_and_health(hub_room):
    room, leader, bot = hub_room["room"], hub_room["leader"], hub_room["bot"]
    await leader.ask(room, "!ping")
    assert bot.healthz() == 200
    metrics = bot.metrics()
    assert 'leaders_hub_commands_total{command="ping",outcome="ok"}' in metrics
    assert "leaders_hub_reply_latency_seconds_bucket" in metrics
    assert "leaders_hub_sync_lag_seconds" in metrics
