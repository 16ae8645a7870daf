"""Moderation against a real Synapse: who may do what, what the room looks like afterwards, what the
audit log says, and mutes that end on time — also across a kill -9 of the bot.

One bot and one set of rooms for the whole module (it is the slow part): room A, where the bot has
power level 100, and room B, where it has none. Both are leader rooms, both made by ``owner`` (a
room-version-12 creator).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest

from tests.backends import rows
from tests.harness import PASSWORD, BotProcess, Member, reply_text

pytestmark = pytest.mark.synapse

MOD_COMMANDS = ["roles", "kick", "ban", "unban", "mute", "unmute", "redact", "broadcast", "audit", "verify",
                "grant_coordinator", "revoke_coordinator"]
ADMIN_COMMANDS = ["grant_moderator", "revoke_moderator"]
ACTION_OF = {"roles": "roles", "kick": "kick", "ban": "ban", "unban": "unban", "mute": "mute", "unmute": "unmute",
             "redact": "redact", "broadcast": "broadcast", "audit": "audit", "verify": "verify",
             "grant_coordinator": "role.grant", "revoke_coordinator": "role.revoke",
             "grant_moderator": "role.grant", "revoke_moderator": "role.revoke"}


@dataclass
class Hub:
    homeserver: object
    bot: BotProcess
    bot_id: str
    room_a: str
    room_b: str
    people: dict[str, Member]
    own_rooms: dict[str, str] = field(default_factory=dict)  # who → a room of their own the bot is in

    async def cases(self, **where: str) -> list[tuple]:
        clause = " AND ".join(f"{k} = :{k}" for k in where) or "1 = 1"
        return await rows(self.bot.db_url, f"SELECT actor, action, target, room_id, outcome FROM audit_log "
                          f"WHERE {clause} ORDER BY id", **where)


async def ask(member: Member, room: str, body: str, timeout: float = 30, **extra) -> str:
    return reply_text(await member.ask(room, body, timeout=timeout, **extra))


async def state_of(member: Member, room: str) -> dict:
    """The room's state as the homeserver has it: (type, state key) → content."""
    resp = await member.client.room_get_state(room)
    return {(e["type"], e.get("state_key", "")): e.get("content") for e in resp.events}


async def membership(member: Member, room: str, user_id: str) -> str | None:
    content = (await state_of(member, room)).get(("m.room.member", user_id))
    return content.get("membership") if content else None


async def power_entry(member: Member, room: str, user_id: str) -> int | None:
    resp = await member.client.room_get_state_event(room, "m.room.power_levels")
    return (resp.content.get("users") or {}).get(user_id)


async def _people(homeserver, n: int, names: list[str]) -> dict[str, Member]:
    """Registered (in threads: the admin API blocks) and logged in, all at once."""
    made = await asyncio.gather(*(asyncio.to_thread(Member, homeserver, f"m{n}{name.replace('_', '')}")
                                  for name in names))
    await asyncio.gather(*(member.login() for member in made))
    return dict(zip(names, made))


@pytest.fixture(scope="module")
async def hub(homeserver, tmp_path_factory, backend):
    n = int(time.time() * 1000) % 10**8
    bot_id = homeserver.register(f"modhub{n}", PASSWORD)
    people = await _people(homeserver, n, ["owner", "admin", "modpl", "gmod", "coord", "leader", "norole",
                                            "outsider", "mutee", "victim_modpl", "victim_gmod", "victim_admin",
                                            "victim_owner"])
    owner = people["owner"]
    invited = [bot_id] + [m.user_id for k, m in people.items() if k not in ("owner", "outsider")]
    room_a = await owner.create_room("Leaders A", invite=invited,
                                     power={bot_id: 100, people["modpl"].user_id: 50, people["mutee"].user_id: 10})
    room_b = await owner.create_room("Leaders B", invite=invited)
    await asyncio.gather(*(member.client.join(room) for key, member in people.items()
                           if key not in ("owner", "outsider") for room in (room_a, room_b)))
    # Two members share a display name; one has a name of their own (mention pills, display names).
    await asyncio.gather(people["coord"].client.set_displayname("Ola"),
                         people["norole"].client.set_displayname("Ola"),
                         people["mutee"].client.set_displayname("Zenon"))
    folder = tmp_path_factory.mktemp("modbot")
    bot = BotProcess(folder, homeserver, database=backend.create(folder, migrated=False), rooms=[room_a, room_b],
                     admins=[people["admin"].user_id], user_id=bot_id)
    # Any user of this server may invite the bot to a room of their own (which makes them nothing).
    bot.config_path.write_text(bot.config_path.read_text().replace("[bot]", 'allowed_servers = ["localhost"]\n[bot]', 1))
    bot.start()
    made = Hub(homeserver, bot, bot_id, room_a, room_b, people)
    for key in ("norole", "outsider"):
        room = await people[key].create_room(f"{key}'s own room", invite=[bot_id])
        made.own_rooms[key] = room
    for key, room in made.own_rooms.items():
        await people[key].wait_for(lambda e, room=room: e.get("room_id") == room and e.get("type") == "m.room.member"
                                   and e.get("state_key") == bot_id and e["content"].get("membership") == "join")
    admin = people["admin"]
    assert "now moderator" in await ask(admin, room_a, f"!role grant {people['gmod'].user_id} moderator")
    assert "now coordinator" in await ask(admin, room_a, f"!role grant {people['coord'].user_id} coordinator")
    yield made
    bot.stop()
    backend.drop(bot.db_url)
    for member in people.values():
        await member.close()


def command_text(hub: Hub, command: str, caller: str, event_id: str = "$nothing") -> str:
    """The command as ``caller`` types it; targets are chosen so that the allowed ones can succeed."""
    p = hub.people
    victim = p[f"victim_{caller}"].user_id if f"victim_{caller}" in p else p["leader"].user_id
    return {
        "roles": "!roles",
        "kick": f"!mod kick {victim} matrix test",
        "ban": f"!mod ban {victim} matrix test",
        "unban": f"!mod unban {victim}",
        "mute": f"!mod mute {victim} 1h",
        "unmute": f"!mod unmute {victim}",
        "redact": f"!mod redact {event_id} matrix test",
        "broadcast": f"!mod broadcast Matrix test from {caller}",
        "audit": "!mod audit 5",
        "verify": "!mod verify",
        "grant_coordinator": f"!role grant {victim} coordinator",
        "revoke_coordinator": f"!role revoke {victim} coordinator",
        "grant_moderator": f"!role grant {victim} moderator",
        "revoke_moderator": f"!role revoke {victim} moderator",
    }[command]


async def test_permission_matrix(hub):
    """Every privileged command × every role: only the allowed succeed; the others get a refusal that
    names the role needed, the room's state stays exactly as it was, and the audit log has both."""
    p, room = hub.people, hub.room_a
    leader = p["leader"]
    spam = [await leader.send(room, f"spam {i}") for i in range(4)]
    refused_callers = {"leader": "leader", "coord": "coordinator", "norole": "leader"}
    before = await state_of(p["owner"], room)

    # The user outside the leader rooms (and the no-role member, in his own room) are not answered at all.
    ignored = []
    for key in ("outsider", "norole"):
        for command in MOD_COMMANDS + ADMIN_COMMANDS:
            ignored.append((p[key], await p[key].send(hub.own_rooms[key], command_text(hub, command, key))))

    async def refused_run(key: str, commands: list[str], needed: str, have: str) -> None:
        for command in commands:
            text = await ask(p[key], room, command_text(hub, command, key, spam[0]))
            assert f"the {needed} role (or higher)" in text and f"you are: {have}" in text, (key, command, text)

    await asyncio.gather(
        *(refused_run(key, MOD_COMMANDS + ADMIN_COMMANDS, "moderator", have) for key, have in refused_callers.items()),
        refused_run("modpl", ADMIN_COMMANDS, "admin", "moderator"),
        refused_run("gmod", ADMIN_COMMANDS, "admin", "moderator"),
    )
    assert await state_of(p["owner"], room) == before
    for member, event_id in ignored:
        assert member.replies_to(event_id) == []
    for key in refused_callers:
        actions = [c[1] for c in await hub.cases(actor=p[key].user_id, outcome="refused")]
        assert sorted(actions) == sorted(ACTION_OF[c] for c in MOD_COMMANDS + ADMIN_COMMANDS), key
    for key in ("outsider",):
        assert (await hub.cases(actor=p[key].user_id)) == []

    # The allowed — moderator by power level, granted moderator, admin, room-v12 creator — each on a
    # victim of their own, all at once.
    async def allowed_run(index: int, key: str) -> None:
        caller = p[key]
        victim = p[f"victim_{key}"].user_id
        run = lambda command: ask(caller, room, command_text(hub, command, key, spam[index]))  # noqa: E731
        assert "Roles in this room" in await run("roles")
        assert "now coordinator" in await run("grant_coordinator")
        assert "no longer a granted coordinator" in await run("revoke_coordinator")
        if key in ("admin", "owner"):
            assert "now moderator" in await run("grant_moderator")
            assert "no longer a granted moderator" in await run("revoke_moderator")
        assert "Muted" in await run("mute")
        assert await power_entry(p["owner"], room, victim) == -1
        assert "may speak again" in await run("unmute")
        assert await power_entry(p["owner"], room, victim) is None  # no entry before, none after
        assert "Removed" in await run("kick")
        assert await membership(p["owner"], room, victim) == "leave"
        assert "Banned" in await run("ban")
        assert await membership(p["owner"], room, victim) == "ban"
        assert "Lifted the ban" in await run("unban")
        assert await membership(p["owner"], room, victim) == "leave"
        assert "Removed the message" in await run("redact")
        redacted = await p["owner"].client.room_get_event(room, spam[index])
        assert redacted.event.source.get("content") == {}
        assert "The broadcast reached" in await run("broadcast")
        assert "cases of the audit log" in await run("audit")
        assert "What I" in await run("verify")
        done = {c[1] for c in await hub.cases(actor=caller.user_id, outcome="done", room_id=room)}
        assert {"kick", "ban", "unban", "mute", "unmute", "redact", "broadcast", "role.grant", "role.revoke"} <= done

    await asyncio.gather(*(allowed_run(i, key) for i, key in enumerate(("modpl", "gmod", "admin", "owner"))))
    notices = [e for e in leader.events if e.get("sender") == hub.bot_id and "Matrix test from" in
               e.get("content", {}).get("body", "") and "m.relates_to" not in e.get("content", {})]
    assert len(notices) >= 4  # every broadcast reached the room


async def test_ranks_self_and_the_bot(hub):
    p, room = hub.people, hub.room_a
    text = await ask(p["gmod"], room, f"!mod kick {p['modpl'].user_id}")
    assert "is moderator in this room and you are moderator" in text
    text = await ask(p["admin"], room, f"!mod ban {p['owner'].user_id}")
    assert "is admin in this room and you are admin" in text  # the v12 creator outranks like an admin
    assert "to yourself" in await ask(p["modpl"], room, f"!mod mute {p['modpl'].user_id} 10m")
    assert "to myself" in await ask(p["admin"], room, f"!mod kick {hub.bot_id}")
    assert "to yourself" in await ask(p["admin"], room, f"!role revoke {p['admin'].user_id} moderator")
    assert await membership(p["owner"], room, p["modpl"].user_id) == "join"
    assert await membership(p["owner"], room, p["owner"].user_id) == "join"
    assert len(await hub.cases(actor=p["gmod"].user_id, action="kick", outcome="refused")) == 1


async def test_users_by_mention_pill_display_name_or_link(hub):
    p, room = hub.people, hub.room_a
    zenon = p["mutee"].user_id  # display name "Zenon"
    pill = f'<a href="https://matrix.to/#/{zenon}">Zenon</a>'
    text = await ask(p["modpl"], room, "!mod mute Zenon 10m", format="org.matrix.custom.html",
                     formatted_body=f"!mod mute {pill} 10m", **{"m.mentions": {"user_ids": [zenon]}})
    assert f"Muted {zenon}" in text
    assert f"{zenon} may speak again" in await ask(p["modpl"], room, f"!mod unmute https://matrix.to/#/{zenon}")
    assert await power_entry(p["owner"], room, zenon) == 10
    text = await ask(p["modpl"], room, "!mod kick Ola")
    assert "More than one member here is called Ola" in text
    assert p["coord"].user_id in text and p["norole"].user_id in text
    assert "Nobody in this room is called Olaf" in await ask(p["modpl"], room, "!mod kick Olaf")
    assert await membership(p["owner"], room, p["coord"].user_id) == "join"


async def test_power_counts_only_in_its_room_and_the_bot_says_what_it_lacks(hub):
    p, room_a, room_b = hub.people, hub.room_a, hub.room_b
    target = p["victim_modpl"].user_id  # kicked from room A by the permission matrix, still in room B
    # Power level 50 in room A makes a moderator there, and only a leader in room B.
    assert "you are: leader" in await ask(p["modpl"], room_b, f"!mod kick {target}")
    before = await state_of(p["owner"], room_b)
    text = await ask(p["admin"], room_b, f"!mod kick {target}")
    assert "my power level is 0 and kick needs 50" in text and "Give me power level 50" in text
    assert await state_of(p["owner"], room_b) == before
    assert (await hub.cases(actor=p["admin"].user_id, action="kick", room_id=room_b))[-1][4] == "refused"
    text = await ask(p["gmod"], room_a, f"!mod ban {target} in:all spam")
    assert "✅" in text and "⛔" in text and "ban needs 50" in text
    assert await membership(p["owner"], room_a, target) == "ban"
    assert await membership(p["owner"], room_b, target) == "join"
    cases = await hub.cases(action="ban", target=target, actor=p["gmod"].user_id)
    assert [(c[3], c[4]) for c in cases[-2:]] == [(room_a, "done"), (room_b, "refused")]
    assert "Lifted the ban" in await ask(p["gmod"], room_a, f"!mod unban {target} in:all")
    assert await membership(p["owner"], room_a, target) == "leave"
    text = await ask(p["modpl"], room_a, "!mod verify")
    part_b = text.split("Leaders B")[1]
    assert "my power level is 0" in part_b and "❌ kick members: needs 50" in part_b
    assert f"give {hub.bot_id} power level 100" in part_b  # m.room.power_levels needs 100 in Synapse


async def test_a_room_of_ones_own_makes_one_nothing(hub):
    p = hub.people
    own = hub.own_rooms["norole"]
    whoami = await p["norole"].send(own, "!whoami")
    kick = await p["norole"].send(own, f"!mod kick {p['leader'].user_id} in:all")
    assert "role in this room: leader" in await ask(p["norole"], hub.room_a, "!whoami")
    await asyncio.sleep(1)
    assert p["norole"].replies_to(whoami) == [] and p["norole"].replies_to(kick) == []
    assert await membership(p["owner"], hub.room_a, p["leader"].user_id) == "join"


async def _mute_end_ms(hub: Hub, user_id: str) -> int:
    found = await rows(hub.bot.db_url, "SELECT ends_at_ms FROM mutes WHERE user_id = :user ORDER BY id DESC LIMIT 1",
                       user=user_id)
    return found[0][0]


async def _wait_level(member: Member, room: str, user_id: str, level: int | None, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await power_entry(member, room, user_id) == level:
            return time.time()
        await asyncio.sleep(0.2)
    raise AssertionError(f"{user_id}'s power level did not become {level} within {timeout} s")


async def test_a_mute_is_lifted_on_time_to_exactly_the_previous_level(hub):
    p, room = hub.people, hub.room_a
    mutee = p["mutee"].user_id
    assert await power_entry(p["owner"], room, mutee) == 10
    assert "power level -1" in await ask(p["gmod"], room, f"!mod mute {mutee} 3s")
    assert await power_entry(p["owner"], room, mutee) == -1
    restored_at = await _wait_level(p["owner"], room, mutee, 10, timeout=15)
    end = await _mute_end_ms(hub, mutee) / 1000
    assert restored_at - end <= 5, restored_at - end
    # The case is committed just after the level is restored: give it a moment.
    deadline = time.monotonic() + 5
    while (await hub.cases(action="unmute", target=mutee))[-1][:1] != (hub.bot_id,) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert (await hub.cases(action="unmute", target=mutee))[-1][:1] == (hub.bot_id,)


async def test_a_mute_that_ends_while_the_bot_is_down_is_lifted_at_start(hub):
    """kill -9 across the end of the mute: the database is the truth, not a timer. (Last: it restarts the bot.)"""
    p, room = hub.people, hub.room_a
    mutee = p["mutee"].user_id
    assert "power level -1" in await ask(p["gmod"], room, f"!mod mute {mutee} 4s")
    hub.bot.kill9()
    end = await _mute_end_ms(hub, mutee) / 1000
    await asyncio.sleep(max(0.0, end - time.time()) + 1)
    assert await power_entry(p["owner"], room, mutee) == -1  # nobody lifted it while the bot was down
    started = time.time()
    hub.bot.start()
    restored_at = await _wait_level(p["owner"], room, mutee, 10, timeout=30)
    assert restored_at - started <= 30
    assert "Up for" in await ask(p["gmod"], room, "!status")
