"""Two instances on one PostgreSQL database, exactly one active: kill -9 the active one while leaders send
commands and announcements fall due; the other takes over and nothing is lost or sent twice. Then the
killed one comes back as the standby and the new active one is killed: the same again."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest

from tests.harness import PASSWORD, BotProcess, Member, from_bot, reply_text
from tests.pg import postgres_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.synapse


async def _wait_role(bot: BotProcess, role: str, timeout: float) -> float:
    """Seconds until the bot's /healthz says ``role`` with 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status, body = bot.health()
        if status == 200 and body.get("role") == role:
            return time.monotonic() - started
        assert bot.process is not None and bot.process.poll() is None, bot.log()[-3000:]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{bot.workdir.name} did not become {role} within {timeout} s:\n{bot.log()[-3000:]}")


def _active_metric(bot: BotProcess) -> float:
    return float(re.search(r"^leaders_hub_active (\S+)$", bot.metrics(), re.M).group(1))



async def _encrypted_ping_answered_once(member: Member, room: str, bot_id: str, kill) -> dict:
    """An encrypted !ping sent just before ``kill()``; its one reply, encrypted."""
    ping = await member.send(room, "!ping")
    kill()
    reply = await member.wait_reply(ping, timeout=60)
    obj = next(o for o in member.event_objects if o.event_id == reply["event_id"])
    assert obj.decrypted, "the reply in an encrypted room must be encrypted"
    return reply


async def test_two_instances_one_active_failover_and_back(homeserver, members, unique, tmp_path, postgres_server):
    url = postgres_server.create_database("failover")
    bot_id = homeserver.register(unique("hub"), PASSWORD)
    owner = await members(unique("owner"), encrypted=True)
    coordinator = await members(unique("coord"))
    leader = await members(unique("leader"))
    second = await members(unique("leader"))
    secret = await members(unique("leader"), encrypted=True)  # in the encrypted room
    mutee = await members(unique("mutee"))
    room = await owner.create_room("Leaders", invite=[bot_id, coordinator.user_id, leader.user_id, second.user_id,
                                                      mutee.user_id],
                                   power={coordinator.user_id: 50, bot_id: 100})
    private = await owner.create_room("Private leaders", invite=[bot_id, secret.user_id], encrypted=True)
    for member in (coordinator, leader, second, mutee):
        await member.join(room)
    await secret.join(private)
    # Two instances: the same account and database, each its own device (store) and config; one recovery key.
    shared = f'recovery_key_file = "{tmp_path / "recovery-key.txt"}"'
    one, two = (BotProcess(tmp_path / name, homeserver, rooms=[room, private], user_id=bot_id, matrix=shared,
                           database=url) for name in ("one", "two"))
    one.start()
    await _wait_role(one, "active", 30)
    two.start(wait=False)
    standby_after = await _wait_role(two, "standby", 15)
    print(f"\nthe second instance says standby {standby_after:.1f} s after its start")
    assert _active_metric(one) == 1 and _active_metric(two) == 0

    # A setting made through the active one holds on the other after the takeover.
    assert "po polsku" in reply_text(await second.ask(room, "!lang pl"))
    # So does a role granted through it: the leader may announce only once made a coordinator.
    denied = reply_text(await leader.ask(room, '!announce "in 2 hours" rooms:this Not yet'))
    assert "Only a user with the coordinator role" in denied, denied
    granted = reply_text(await coordinator.ask(room, f"!role grant {leader.user_id} coordinator"))
    assert "is now coordinator" in granted, granted
    # An announcement due while both run is sent once, by the active one; one falls due during the takeover.
    for text, when in (("Both run now", "in 3 seconds"), ("During the takeover", "in 12 seconds")):
        scheduled = await coordinator.ask(room, f'!announce "{when}" rooms:this {text}')
        assert "scheduled" in reply_text(scheduled), reply_text(scheduled)
    await coordinator.wait_for(lambda e: from_bot(coordinator, bot_id, "Both run now"), timeout=30)
    # A mute that ends during the takeover.
    assert "Muted" in reply_text(await coordinator.ask(room, f"!mod mute {mutee.user_id} 12s"))
    # The leader's encrypted client must know both of the bot's devices, so that it shares its keys with both.
    await _wait_devices(secret, bot_id, 2)

    async def takeover(active: BotProcess, standby: BotProcess, round_: int) -> None:
        sent: list[str] = []
        stop = asyncio.Event()

        async def stream(member: Member) -> None:
            while not stop.is_set():
                sent.append(await member.send(room, "!ping"))
                await asyncio.sleep(0.15)

        senders = [asyncio.ensure_future(stream(m)) for m in (leader, second)]
        await leader.wait_for(lambda e: len([x for x in leader.events if x.get("sender") == bot_id]) > 6 * round_,
                              timeout=30)
        killed_at = time.monotonic()
        before = await _encrypted_ping_answered_once(secret, private, bot_id, active.kill9)
        after_kill = await leader.send(room, "!ping")  # sent after the kill, before the takeover
        await _wait_role(standby, "active", 30)
        active_after = time.monotonic() - killed_at
        await leader.wait_reply(after_kill, timeout=30)
        answered_after = time.monotonic() - killed_at
        print(f"round {round_}: takeover — the standby said active {active_after:.1f} s after the kill, and had "
              f"answered a command sent after the kill {answered_after:.1f} s after it")
        assert answered_after < 10, f"the takeover took {answered_after:.1f} s"
        after = await secret.ask(private, "!ping", timeout=30)
        # Both encrypted pings are answered with pong (once, encrypted: checked above and below). In round 1
        # the device taking over is a fresh standby; in round 2 it is the device killed with -9 in round 1 —
        # maybe while it read the room key of the leader's session (PolicyOlm.handle_to_device_event).
        for reply in (before, after):
            assert reply["content"]["body"].startswith("pong"), reply
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*senders)
        sent.append(after_kill)
        for event_id in sent:
            await leader.wait_reply(event_id, timeout=60)
        await asyncio.sleep(3)  # anything sent twice would be in by now
        counts = {event_id: len(leader.replies_to(event_id, bot_id)) for event_id in sent}
        assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
        before_ping = before["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        assert len(secret.replies_to(before_ping, bot_id)) == 1
        print(f"round {round_}: {len(sent)} commands, each answered once")

    await takeover(one, two, 1)
    lifted = await coordinator.wait_for(lambda e: len(_level_changes(coordinator, bot_id)) >= 2, timeout=30)
    assert lifted
    announced = await coordinator.wait_for(lambda e: from_bot(coordinator, bot_id, "During the takeover"), timeout=30)
    assert announced
    # The setting made through the first instance holds on the second.
    polish = await second.ask(room, "!ping")
    assert reply_text(polish).startswith("pong! Twoja"), reply_text(polish)
    held = reply_text(await leader.ask(room, '!announce "in 2 hours" rooms:this The grant holds'))
    assert "scheduled" in held, held

    # The killed one comes back as the standby; then the new active one is killed.
    one.start(wait=False)
    await _wait_role(one, "standby", 15)
    await _wait_devices(secret, bot_id, 2)
    scheduled = await coordinator.ask(room, '!announce "in 8 seconds" rooms:this Second takeover')
    assert "scheduled" in reply_text(scheduled)
    await takeover(two, one, 2)
    await coordinator.wait_for(lambda e: from_bot(coordinator, bot_id, "Second takeover"), timeout=30)
    await asyncio.sleep(2)
    for text in ("Both run now", "During the takeover", "Second takeover"):
        assert len(from_bot(coordinator, bot_id, text)) == 1, text
    # The mute was put on once and lifted once: two changes of the power levels by the bot, the last one
    # giving the muted leader their level back.
    changes = _level_changes(coordinator, bot_id)
    assert len(changes) == 2, changes
    assert mutee.user_id not in (changes[-1].get("users") or {}), changes[-1]
    one.stop()
    two.stop()


def _level_changes(member: Member, bot_id: str) -> list[dict]:
    return [e["content"] for e in member.events if e.get("type") == "m.room.power_levels" and e.get("sender") == bot_id]


async def _wait_devices(member: Member, user_id: str, count: int, timeout: float = 30) -> None:
    """Until ``member``'s client knows ``count`` devices of ``user_id`` (asking the homeserver again)."""
    client = member.client
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.olm.users_for_key_query.add(user_id)
        await client.keys_query()
        if len(list(client.device_store.active_user_devices(user_id))) >= count:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{member.user_id} does not see {count} devices of {user_id}")


async def _claim_one_time_key(member: Member, user_id: str, device_id: str) -> bool:
    """What a new client does before its first encrypted message to a device: claim one of its one-time keys.
    True when the homeserver had one left."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{member.client.homeserver}/_matrix/client/v3/keys/claim",
                             headers={"Authorization": f"Bearer {member.client.access_token}"},
                             json={"one_time_keys": {user_id: {device_id: "signed_curve25519"}}}) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
    return bool(((body.get("one_time_keys") or {}).get(user_id) or {}).get(device_id))


async def test_a_standby_that_never_syncs_still_has_one_time_keys_for_new_clients(homeserver, members, unique,
                                                                                 tmp_path, postgres_server):
    """Every client that starts an encrypted session with the standby's device takes one of its one-time keys;
    the standby does not sync, so it asks how many are left and uploads more before they run out."""
    url = postgres_server.create_database("standby_keys")
    bot_id = homeserver.register(unique("hub"), PASSWORD)
    owner = await members(unique("owner"))
    room = await owner.create_room("Leaders", invite=[bot_id])
    shared = f'recovery_key_file = "{tmp_path / "recovery-key.txt"}"'
    one = BotProcess(tmp_path / "one", homeserver, rooms=[room], user_id=bot_id, matrix=shared, database=url)
    two = BotProcess(tmp_path / "two", homeserver, rooms=[room], user_id=bot_id, database=url,
                     matrix=shared + "\nstandby_key_check_seconds = 5")
    one.start()
    await _wait_role(one, "active", 30)
    two.start(wait=False)
    await _wait_role(two, "standby", 15)
    deadline = time.monotonic() + 30
    while not (found := re.search(r"logged in as \S+, device (\S+)", two.log())):
        assert time.monotonic() < deadline, two.log()[-3000:]
        await asyncio.sleep(0.2)
    device = found.group(1)
    # Many new clients: every key the standby uploaded at its start is taken.
    claimed = 0
    while await _claim_one_time_key(owner, bot_id, device):
        claimed += 1
        assert claimed < 200, "the standby's one-time keys never ran out"
    assert claimed >= 10, claimed
    # The next new client within the check's interval finds a key again.
    deadline = time.monotonic() + 20
    while not await _claim_one_time_key(owner, bot_id, device):
        assert time.monotonic() < deadline, f"no one-time key uploaded by the standby:\n{two.log()[-3000:]}"
        await asyncio.sleep(1)
    assert "one-time keys left; uploading more" in two.log()
    assert _active_metric(two) == 0
    one.stop()
    two.stop()
