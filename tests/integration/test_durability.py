"""Nothing replayed, nothing lost, nothing twice — across restarts, kill -9, outages and rate limits."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from bot.synapse import Homeserver
from tests.harness import PASSWORD, BotProcess, Member, reply_text

pytestmark = pytest.mark.synapse


async def _room(homeserver, members, unique, encrypted=False):
    bot_id = homeserver.register(unique("hub"), PASSWORD)
    owner = await members(unique("owner"), encrypted=encrypted)
    leader = await members(unique("leader"), encrypted=encrypted)
    room_id = await owner.create_room("Leaders", invite=[bot_id, leader.user_id], encrypted=encrypted)
    await leader.join(room_id)
    return bot_id, owner, leader, room_id


async def _quiet(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def test_restart_reuses_the_stored_session_and_replays_nothing(homeserver, members, unique, tmp_path,
                                                                     empty_db_url):
    bot_id, _owner, leader, room = await _room(homeserver, members, unique)
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    first = await leader.send(room, "!ping")
    await leader.wait_reply(first)
    device = json.loads((tmp_path / "bot" / "store" / "session.json").read_text())["device_id"]
    bot.stop()
    # The password may be removed once the session is stored.
    bot.write_config([room], [], None, 600, user_id=bot_id)
    bot.start()
    second = await leader.send(room, "!ping")
    await leader.wait_reply(second)
    await _quiet(2)
    assert len(leader.replies_to(first)) == 1 and len(leader.replies_to(second)) == 1
    assert json.loads((tmp_path / "bot" / "store" / "session.json").read_text())["device_id"] == device
    assert PASSWORD not in bot.log()
    bot.stop()


async def test_commands_sent_while_down_are_answered_unless_too_old(homeserver, members, unique, tmp_path,
                                                                    empty_db_url):
    bot_id, _owner, leader, room = await _room(homeserver, members, unique)
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url,
                     rooms=[room], user_id=bot_id, catch_up_seconds=6).start()
    await leader.ask(room, "!ping")
    bot.stop()
    too_old = await leader.send(room, "!ping")
    await asyncio.sleep(7)
    recent = [await leader.send(room, "!whoami"), await leader.send(room, "!whoami")]
    bot.start()
    for event_id in recent:
        assert "role in this room: leader" in reply_text(await leader.wait_reply(event_id))
    await _quiet(2)
    assert leader.replies_to(too_old) == []
    # Each ran once: the homeserver would hide a second reply (the same transaction id), not a second run.
    ran = re.findall(r'^leaders_hub_commands_total\{command="whoami"[^}]*\} (\S+)$', bot.metrics(), re.M)
    assert sum(float(n) for n in ran) == 2, ran
    bot.stop()


async def test_kill_9_while_leaders_send_every_command_answered_exactly_once(homeserver, members, unique, tmp_path,
                                                                             empty_db_url):
    bot_id, owner, leader, room = await _room(homeserver, members, unique)
    second = await members(unique("leader"))
    await owner.client.room_invite(room, second.user_id)
    await second.join(room)
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    sent: list[str] = []

    async def send_many(member: Member, count: int) -> None:
        for _ in range(count):
            sent.append(await member.send(room, "!ping"))
            await asyncio.sleep(0.05)

    senders = asyncio.gather(send_many(leader, 15), send_many(second, 15))
    # Kill the bot hard once some replies are out and more commands are on their way.
    await leader.wait_for(lambda e: e.get("sender") == bot_id and e.get("type") == "m.room.message", timeout=30)
    bot.kill9()
    await senders
    bot.start()
    for event_id in sent:
        await leader.wait_reply(event_id, timeout=60)
    await _quiet(3)
    counts = {event_id: len(leader.replies_to(event_id, bot_id)) for event_id in sent}
    assert len(sent) == 30
    assert set(counts.values()) == {1}, counts
    bot.stop()


@pytest.mark.one_backend("encryption: the keys are in the Matrix store")
async def test_end_to_end_encrypted_room(homeserver, members, unique, tmp_path, empty_db_url):
    bot_id, _owner, leader, room = await _room(homeserver, members, unique, encrypted=True)
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    # Wait until the leader's client knows the bot is in the room, so it shares its keys with the bot.
    deadline = time.monotonic() + 30
    while bot_id not in leader.client.rooms[room].users and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await leader.client.keys_query() if leader.client.should_query_keys else None
    ping = await leader.send(room, "!ping")
    reply = await leader.wait_reply(ping, timeout=40)
    assert reply["content"]["body"].startswith("pong")
    obj = next(o for o in leader.event_objects if o.source.get("content", {}).get("body", "").startswith("pong"))
    assert obj.decrypted, "the bot's reply in an encrypted room must be encrypted"

    # A message the bot cannot decrypt gets a notice saying so (sent raw by a client without encryption).
    plain = await members(unique("plain"))
    await _owner_invite(_owner, room, plain)
    bogus = await plain.client.room_send(room, "m.room.encrypted", {
        "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnAB" * 8, "sender_key": "x" * 43,
        "session_id": "nosuchsession" + "x" * 30, "device_id": "NODEVICE"})
    notice = await leader.wait_reply(bogus.event_id, timeout=40)
    assert "could not decrypt" in notice["content"]["body"]
    bot.stop()


@pytest.mark.one_backend("encryption: the keys are in the Matrix store")
async def test_a_command_whose_key_comes_late_is_still_answered(homeserver, members, unique, tmp_path, empty_db_url):
    """The room key reaches the bot only after the encrypted command (and after its notice): the command is
    answered then, in reply to it."""
    from nio import RoomSendResponse
    from nio.api import Api

    bot_id, _owner, leader, room = await _room(homeserver, members, unique, encrypted=True)
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    await leader.ask(room, "!ping", timeout=40)  # the leader's client now knows the bot's device
    client, olm = leader.client, leader.client.olm
    await leader.pause()  # no device-list change may replace the session this test builds by hand
    olm.create_outbound_group_session(room)
    session = olm.outbound_group_sessions[room]
    first_key = session.session_key  # the key as it was before the message: what a delayed m.room_key carries
    session.__class__ = type("DelayedKeySession", (type(session),), {"session_key": property(lambda _: first_key)})
    session.shared = True  # encrypt with it before anyone has the key
    payload = olm.group_encrypt(room, {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "!ping"}})
    method, path, data = Api.room_send(client.access_token, room, "m.room.encrypted", payload, "late-key-1")
    sent = await client._send(RoomSendResponse, method, path, data, response_data=(room,))
    assert isinstance(sent, RoomSendResponse), sent
    leader.resume()
    notice = await leader.wait_reply(sent.event_id, timeout=40)
    assert "could not decrypt" in reply_text(notice)
    await leader.pause()
    session.shared = False
    olm.outbound_group_sessions[room] = session
    await client.share_group_session(room, ignore_unverified_devices=True)  # the same session, late
    leader.resume()
    answer = await leader.wait_for(lambda e: (e.get("content", {}).get("m.relates_to", {}) or {}).get(
        "m.in_reply_to", {}).get("event_id") == sent.event_id and reply_text(e).startswith("pong"), timeout=40)
    assert answer["sender"] == bot_id
    await _quiet(2)
    assert len(leader.replies_to(sent.event_id)) == 2  # the notice, then the answer: nothing more
    bot.stop()


async def _owner_invite(owner: Member, room: str, member: Member) -> None:
    await owner.client.room_invite(room, member.user_id)
    await member.join(room)


@pytest.mark.one_backend("invites: decided by the config and the room")
async def test_invites_only_from_admins_and_admin_direct_chats(homeserver, members, unique, tmp_path, empty_db_url):
    bot_id, _owner, leader, room = await _room(homeserver, members, unique)
    admin = await members(unique("admin"))
    stranger = await members(unique("stranger"))
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url,
                     rooms=[room], admins=[admin.user_id], user_id=bot_id).start()
    dm = await admin.create_room("DM", invite=[bot_id])
    await admin.wait_for(lambda e: e.get("type") == "m.room.member" and e.get("state_key") == bot_id
                         and e["content"].get("membership") == "join" and e.get("room_id") == dm)
    assert "role in this room: admin" in reply_text(await admin.ask(dm, "!whoami"))

    other = await stranger.create_room("Elsewhere", invite=[bot_id])
    await stranger.wait_for(lambda e: e.get("type") == "m.room.member" and e.get("state_key") == bot_id
                            and e["content"].get("membership") == "leave" and e.get("room_id") == other)
    # A leader's command in a room that is not a leader room is ignored, even if the bot were there.
    ignored = await stranger.send(other, "!ping")
    await leader.ask(room, "!ping")
    await _quiet(1)
    assert stranger.replies_to(ignored) == []
    bot.stop()


@pytest.fixture(scope="module")
def strict_homeserver(tmp_path_factory):
    """A Synapse of its own (it is stopped and restarted), with a tight message rate limit."""
    hs = Homeserver(tmp_path_factory.mktemp("synapse-strict"), message_rate=(0.5, 3))
    hs.start()
    yield hs
    hs.stop()


@pytest.mark.one_backend("the homeserver's rate limits")
async def test_rate_limits_are_waited_out_and_no_reply_dropped(strict_homeserver, unique, tmp_path, empty_db_url):
    hs = strict_homeserver
    bot_id = hs.register(unique("hub"), PASSWORD)
    owner = await Member(hs, unique("owner")).login()
    leader = await Member(hs, unique("leader")).login()
    for member in (owner, leader):
        hs.exempt_from_rate_limits(member.user_id)
    room = await owner.create_room("Leaders", invite=[bot_id, leader.user_id])
    await leader.join(room)
    bot = BotProcess(tmp_path / "bot", hs, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    try:
        sent = [await leader.send(room, "!ping") for _ in range(7)]
        for event_id in sent:
            await leader.wait_reply(event_id, timeout=60)
        await _quiet(1)
        assert all(len(leader.replies_to(e, bot_id)) == 1 for e in sent)
        assert "429" in bot.log()  # the homeserver did push back, and the bot waited
    finally:
        bot.stop()
        await owner.close()
        await leader.close()


@pytest.mark.one_backend("the homeserver going away")
async def test_reconnects_after_the_homeserver_comes_back(strict_homeserver, unique, tmp_path, empty_db_url):
    hs = strict_homeserver
    bot_id = hs.register(unique("hub"), PASSWORD)
    owner = await Member(hs, unique("owner")).login()
    leader = await Member(hs, unique("leader")).login()
    room = await owner.create_room("Leaders", invite=[bot_id, leader.user_id])
    await leader.join(room)
    bot = BotProcess(tmp_path / "bot", hs, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    try:
        await leader.ask(room, "!ping")
        hs.stop()
        deadline = time.monotonic() + 30
        while bot.healthz() == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        assert bot.healthz() == 503, "health must show the homeserver is gone"
        hs.start()
        bot.wait_healthy(60)
        assert reply_text(await leader.ask(room, "!ping", timeout=60)).startswith("pong")
        assert bot.process.poll() is None
    finally:
        bot.stop()
        await owner.close()
        await leader.close()
