"""Moderation commands through the hub's one path (parse → check chain → handler → reply), over a real
database and the console's in-memory rooms, which apply the Matrix power rules as the homeserver does —
a leader's conversation with the bot, without Synapse. The real homeserver is in tests/integration/test_moderation.py.
Each test runs on SQLite and on PostgreSQL (tests/backends.py)."""

from __future__ import annotations

import copy
import itertools
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from bot.app import Hub
from bot.compose import create_hub, parse_config
from bot.console import ConsoleTransport
from bot.context import Incoming
from bot.i18n import LANGUAGES
from bot.platform import PlatformError
from bot.reply import render_markdown
from bot.rooms import MemoryRoom, MemoryRooms
from commands.moderation import mutes as mutes_module
from commands.moderation.mutes import lift_mute
from storage.moderation import MuteRepository
from tests.backends import execute, rows

BOT = "@hub:x.org"
ADMIN = "@admin:x.org"
OWNER = "@owner:x.org"  # created the rooms (room version 12)
MOD = "@mod:x.org"  # power level 50 in room A only
GMOD = "@gmod:x.org"  # granted moderator
COORD = "@coord:x.org"  # granted coordinator
ALA = "@ala:x.org"
ALA2 = "@ala2:x.org"
BOB = "@bob:x.org"
ROOM_A, ROOM_B, OTHER = "!a:x.org", "!b:x.org", "!other:x.org"
_ids = itertools.count()


def make_rooms(bot_level_b: int = 0) -> MemoryRooms:
    """Two leader rooms the owner created (room version 12) and a room that is not a leader room, kept by the
    console's in-memory rooms, which refuse what Synapse would refuse."""
    members = {BOT: "Hub", OWNER: "Owner", ADMIN: "Admin", MOD: "Marta Mod", GMOD: "Greg", COORD: "Cora",
               ALA: "Ala Nowak", BOB: "Bob"}
    rooms = MemoryRooms(BOT)
    for room_id, name, power, people in (
            (ROOM_A, "Leaders A", {"users": {BOT: 100, MOD: 50, ALA: 10}}, members),
            (ROOM_B, "Leaders B", {"users": {BOT: bot_level_b}}, members),
            (OTHER, "Bob's room", {"users": {BOT: 100, BOB: 100}}, {BOT: "Hub", BOB: "Bob", ALA: "Ala"})):
        room = rooms.add(MemoryRoom(room_id, name, creator=OWNER, power=power))
        for user_id, display_name in people.items():
            room.join(user_id, display_name)
    return rooms


class Bot:
    """The hub with the fake homeserver; ``say`` is one message in a room, returning the reply's text."""

    def __init__(self, hub: Hub, platform: ConsoleTransport, db_url: str):
        self.hub, self.platform, self.db_url = hub, platform, db_url
        self.broadcasts: list[tuple[str, str, str]] = []  # (room, Markdown, key) of notices sent outside replies
        send = platform.send_outgoing

        async def record_and_send(room_id, message, key):
            self.broadcasts.append((room_id, message.markdown, key))
            return await send(room_id, message, key)

        platform.send_outgoing = record_and_send

    async def say(self, sender: str, text: str, room: str = ROOM_A, event_id: str | None = None) -> str:
        incoming = Incoming(event_id or f"$e{next(_ids)}", room, sender, text, int(time.time() * 1000))
        replies = await self.hub.execute(incoming)
        assert len(replies) == 1, replies
        return render_markdown(replies[0].markdown)[0]

    async def cases(self) -> list[tuple]:
        return await rows(self.db_url, "SELECT actor, action, target, room_id, outcome FROM audit_log ORDER BY id")

    def room(self, room_id: str = ROOM_A) -> MemoryRoom:
        return self.platform.rooms.rooms[room_id]

    def membership(self, user_id: str, room_id: str = ROOM_A) -> str:
        return self.room(room_id).members[user_id].membership


@pytest.fixture
async def bot(tmp_path, db_url):
    hubs = []

    async def make(bot_level_b: int = 0, language: str = "en") -> Bot:
        path = tmp_path / "config.toml"
        path.write_text(f"""\
[matrix]
user_id = "{BOT}"
password = "unit-test-password"
rooms = ["{ROOM_A}", "{ROOM_B}"]
[bot]
language = "{language}"
admins = ["{ADMIN}"]
[database]
url = "{db_url}"
""")
        hub = await create_hub(parse_config(path.read_text(), path, env={}))
        hubs.append(hub)
        platform = ConsoleTransport(hub, ADMIN, tmp_path / "files", rooms=make_rooms(bot_level_b))
        platform.leader_rooms = {ROOM_A, ROOM_B}
        made = Bot(hub, platform, db_url)
        for user, role in ((GMOD, "moderator"), (COORD, "coordinator")):
            assert "now" in await made.say(ADMIN, f"!role grant {user} {role}")
        return made

    yield make
    for hub in hubs:
        await hub.close()


# ----- roles, ranks and refusals ---------------------------------------------------------------

async def test_a_leader_is_refused_with_the_role_needed_and_the_refusal_is_audited(bot):
    b = await bot()
    before = copy.deepcopy(b.room().members)
    reply = await b.say(ALA, f"!mod kick {BOB} spam")
    assert "the moderator role (or higher)" in reply and "you are: leader" in reply
    assert b.room().members == before
    assert (await b.cases())[-1] == (ALA, "kick", None, ROOM_A, "refused")


async def test_a_coordinator_may_not_moderate(bot):
    b = await bot()
    assert "you are: coordinator" in await b.say(COORD, f"!mod ban {BOB}")
    assert (await b.cases())[-1][4] == "refused"


async def test_rank_refusal_names_both_ranks(bot):
    b = await bot()
    reply = await b.say(GMOD, f"!mod kick {MOD}")
    assert f"{MOD} is moderator in this room and you are moderator" in reply
    reply = await b.say(ADMIN, f"!mod ban {OWNER}")  # a v12 creator outranks like an admin
    assert "is admin in this room and you are admin" in reply
    assert [c[4] for c in (await b.cases())[-2:]] == ["refused", "refused"]
    assert b.membership(MOD) == "join" and b.membership(OWNER) == "join"


async def test_nobody_acts_on_themselves_or_the_bot(bot):
    b = await bot()
    assert "cannot do this to yourself" in await b.say(MOD, f"!mod mute {MOD} 10m")
    assert "not do this to myself" in await b.say(ADMIN, f"!mod kick {BOT}")
    assert "cannot do this to yourself" in await b.say(ADMIN, f"!role revoke {ADMIN} moderator")


async def test_power_counts_only_in_its_own_room(bot):
    b = await bot(bot_level_b=100)
    assert "Removed" in await b.say(MOD, f"!mod kick {BOB}", room=ROOM_A)
    reply = await b.say(MOD, f"!mod kick {ALA}", room=ROOM_B)
    assert "you are: leader" in reply
    # Bob is creator... of his own room, which is not a leader room: there he counts for nothing.
    assert "is not a leader room" in await b.say(ADMIN, f"!mod kick {ALA}", room=OTHER)


async def test_only_an_admin_grants_or_revokes_moderator(bot):
    b = await bot()
    reply = await b.say(MOD, f"!role grant {ALA} moderator")
    assert "the admin role" in reply
    assert "you are: moderator" in reply
    assert "is now coordinator" in await b.say(MOD, f"!role grant {ALA} coordinator")
    assert "already has" in await b.say(GMOD, f"!role grant {ALA} koordynator")
    assert "is now moderator" in await b.say(OWNER, f"!role grant {BOB} moderator")
    assert "you are: moderator" in await b.say(MOD, f"!role revoke {BOB} moderator")
    assert "no longer a granted moderator" in await b.say(ADMIN, f"!role revoke {BOB} moderator")
    actions = [(c[1], c[2], c[4]) for c in await b.cases()]
    assert ("role.grant", None, "refused") in actions and ("role.grant", ALA, "done") in actions
    assert ("role.revoke", BOB, "done") in actions


async def test_roles_lists_who_holds_what(bot):
    b = await bot()
    reply = await b.say(MOD, "!roles")
    assert ADMIN in reply and OWNER in reply and f"{MOD} (50)" in reply and f"{BOT} (100)" in reply
    assert GMOD in reply and COORD in reply
    assert "you are: leader" in await b.say(ALA, "!role")


# ----- naming users -----------------------------------------------------------------------------

async def test_users_by_display_name_unique_ambiguous_or_unknown(bot):
    b = await bot()
    assert f"Muted {ALA}" in await b.say(MOD, "!mod mute \"Ala Nowak\" 10m")
    assert "may speak again" in await b.say(MOD, "!mod unmute ala")  # the part of the id before ':'
    b.room().join(ALA2, "Ala Nowak")
    reply = await b.say(MOD, "!mod mute \"Ala Nowak\" 10m")
    assert "More than one member" in reply and ALA in reply and ALA2 in reply
    reply = await b.say(MOD, "!mod kick Alla")
    assert "Nobody in this room is called Alla" in reply and "Did you mean" in reply
    assert "Nobody in this room is called Zygfryd" in await b.say(MOD, "!mod kick Zygfryd")
    assert b.membership(ALA) == "join"


async def test_a_pill_link_names_the_user(bot):
    b = await bot()
    assert f"Removed {BOB}" in await b.say(MOD, f"!mod kick https://matrix.to/#/{BOB} off-topic")


# ----- membership, mute, redact -------------------------------------------------------------------

async def test_kick_ban_unban_change_the_room_and_are_audited_with_the_reason(bot):
    b = await bot()
    assert f"Removed {BOB} from Leaders A" in await b.say(MOD, f"!mod kick {BOB} spam links")
    assert b.membership(BOB) == "leave"
    assert "is not a member here" in await b.say(MOD, f"!mod kick {BOB}")
    assert "Banned" in await b.say(GMOD, f"!mod ban {BOB} again")
    assert b.membership(BOB) == "ban"
    assert "Lifted the ban" in await b.say(ADMIN, "!mod unban bob")  # a banned member by the id's local part
    assert b.membership(BOB) == "leave"
    found = await rows(b.db_url, "SELECT action, reason, outcome FROM audit_log WHERE target = :bob ORDER BY id",
                       bob=BOB)
    assert found == [("kick", "spam links", "done"), ("kick", None, "failed"), ("ban", "again", "done"),
                    ("unban", None, "done")]


async def test_the_bot_says_which_power_it_lacks_and_the_room_stays_as_it_was(bot):
    b = await bot(bot_level_b=0)
    before = copy.deepcopy(b.room(ROOM_B).members)
    reply = await b.say(ADMIN, f"!mod kick {BOB}", room=ROOM_B)
    assert "my power level is 0 and kick needs 50" in reply and "Give me power level 50" in reply
    assert b.room(ROOM_B).members == before
    reply = await b.say(ADMIN, f"!mod mute {MOD} 1h", room=ROOM_A)  # the bot (100) is above Marta (50): fine
    assert "Muted" in reply
    b.room().power["users"][ALA] = 100
    reply = await b.say(ADMIN, f"!mod kick {ALA}", room=ROOM_A)
    assert "their power level is 100 and mine is 100" in reply


async def test_mute_keeps_the_previous_level_and_lifting_restores_it_exactly(bot, monkeypatch):
    b = await bot()
    assert "power level -1" in await b.say(MOD, f"!mod mute {ALA} 30s flooding")
    assert b.room().power["users"][ALA] == -1
    await b.say(MOD, f"!mod mute {ALA} 1h")  # extending keeps the original level, not -1
    assert "power level -1" in await b.say(MOD, f"!mod mute {BOB} 10m")
    async with b.hub.sessions() as session:
        active = await MuteRepository(session).all_active()
    assert [(m.user_id, m.previous_level, m.muted_level) for m in active] == [(BOB, None, -1), (ALA, 10, -1)]
    for mute in active:
        await lift_mute(b.hub, b.platform, mute.id)
    assert b.room().power["users"][ALA] == 10 and BOB not in b.room().power["users"]  # no entry before: none after
    assert [c[1:] for c in (await b.cases())[-2:]] == [("unmute", BOB, ROOM_A, "done"), ("unmute", ALA, ROOM_A, "done")]


async def test_mute_below_a_raised_message_level_and_unmute_by_hand(bot):
    b = await bot()
    b.room().power["events"] = {"m.room.message": 10}
    assert "power level 9" in await b.say(MOD, f"!mod mute {BOB} 5m")
    assert "may speak again" in await b.say(MOD, f"!mod unmute {BOB}")
    assert BOB not in b.room().power["users"]
    assert "is not muted here" in await b.say(MOD, f"!mod unmute {BOB}")


async def test_the_lifting_job_ends_mutes_on_time(bot):
    """The job sleeps until the next end; a mute added meanwhile wakes it (it would sleep a minute)."""
    import asyncio

    b = await bot()
    await b.say(MOD, f"!mod mute {BOB} 1h")
    job = asyncio.ensure_future(mutes_module.lift_ended_mutes(b.hub))
    try:
        await asyncio.sleep(0.2)  # asleep until Bob's mute ends
        started = time.monotonic()
        await b.say(MOD, f"!mod mute {ALA} 1s")
        while b.room().power["users"].get(ALA) != 10 and time.monotonic() < started + 5:
            await asyncio.sleep(0.05)
        lifted_after = time.monotonic() - started
    finally:
        job.cancel()
    assert b.room().power["users"][ALA] == 10
    assert 0.5 < lifted_after < 5
    assert b.room().power["users"][BOB] == -1  # muted still: his hour is not up


async def test_a_mute_row_is_written_before_the_level_changes(bot):
    """So a crash between the two never loses the level to restore."""
    b = await bot()
    seen = []
    real_put = b.platform.put_power_levels

    async def put_and_look(room_id, content):
        seen.extend(await rows(b.db_url, "SELECT user_id, previous_level FROM mutes"))
        return await real_put(room_id, content)

    b.platform.put_power_levels = put_and_look
    await b.say(MOD, f"!mod mute {ALA} 1h")
    assert seen == [(ALA, 10)]


async def test_redact_by_id_or_link(bot):
    b = await bot()
    b.room().record(BOB, "buy now", "$spam")
    b.room().record(ADMIN, "welcome", "$boss")
    assert "Removed the message $spam" in await b.say(MOD, "!mod redact $spam spam")
    assert b.room().redacted == ["$spam"]
    assert "admin in this room and you are moderator" in await b.say(MOD, f"!mod redact https://matrix.to/#/{ROOM_A}/$boss")
    assert "cannot find the message" in await b.say(MOD, "!mod redact $nothing")
    assert "cannot be" in await b.say(MOD, "!mod redact hello")


# ----- in:all, broadcast, audit, verify ---------------------------------------------------------------

async def test_in_all_acts_where_allowed_and_says_why_not_elsewhere(bot):
    b = await bot(bot_level_b=0)
    reply = await b.say(GMOD, f"!mod ban {BOB} in:all spam")
    assert "✅ Leaders A" in reply and "⛔ Leaders B" in reply and "kick" not in reply.split("⛔")[0]
    assert "my power level is 0 and ban needs 50" in reply
    assert b.membership(BOB, ROOM_A) == "ban" and b.membership(BOB, ROOM_B) == "join"
    outcomes = {c[3]: c[4] for c in await b.cases() if c[1] == "ban"}
    assert outcomes == {ROOM_A: "done", ROOM_B: "refused"}
    # Power held in room A makes Marta a moderator there only.
    b.room(ROOM_B).power["users"][BOT] = 100
    reply = await b.say(MOD, f"!mod kick {ALA} in:all")
    assert "✅ Leaders A" in reply and "⛔ Leaders B" in reply and "you are: leader" in reply


async def test_broadcast_reaches_every_leader_room_and_names_failures(bot):
    b = await bot(bot_level_b=100)
    real_send = b.platform.send_outgoing

    async def refused_in_b(room_id, message, key):  # the homeserver says no after the checks said yes
        if room_id == ROOM_B:
            raise PlatformError("M_FORBIDDEN", "You don't have permission to post that to the room")
        return await real_send(room_id, message, key)

    b.platform.send_outgoing = refused_in_b
    reply = await b.say(GMOD, "!mod broadcast Training on **Friday**", event_id="$cast")
    assert "reached 1 of 2" in reply and "M_FORBIDDEN" in reply
    assert [(r, k) for r, _m, k in b.broadcasts] == [(ROOM_A, f"broadcast:$cast:{ROOM_A}")]
    assert "Training on **Friday**" in b.broadcasts[0][1]
    b.room(ROOM_B).power["events"] = {"m.room.message": 60}
    b.room(ROOM_B).power["users"][BOT] = 40
    b.platform.send_outgoing = real_send
    reply = await b.say(ADMIN, "!mod ogloszenie hello")
    assert "reached 1 of 2" in reply and "send messages" in reply and "needs 60" in reply
    assert "you are: leader" in await b.say(ALA, "!mod broadcast hi")


async def test_audit_lists_numbered_cases_with_filters(bot):
    b = await bot()
    await b.say(MOD, f"!mod kick {BOB} spam")
    await b.say(ALA, f"!mod kick {MOD}")
    await b.say(MOD, f"!mod mute {ALA} 10m")
    reply = await b.say(MOD, "!mod audit 2")
    assert reply.count("#") >= 2 and "mute" in reply and "refused" in reply and "kick" in reply
    assert "the moderator role" in reply  # why it was refused, in the reader's language
    reply = await b.say(MOD, "!mod audit action:kick user:bob")
    assert "spam" in reply and "carried out" in reply and "mute" not in reply
    await b.say(MOD, "!lang pl")
    reply = await b.say(MOD, "!mod dziennik 50 akcja:wyrzucenie")
    assert "wyrzucenie" in reply and "odmówiono" in reply and "wykonano" in reply
    assert "Nie rozumiem" in await b.say(MOD, "!mod audit foo")
    assert "od 1 do 100" in await b.say(MOD, "!mod audit 500")


async def test_verify_says_exactly_what_to_change(bot):
    b = await bot(bot_level_b=20)
    b.room(ROOM_B).power["redact"] = 30
    reply = await b.say(MOD, "!mod verify")
    part_a, part_b = reply.split("Leaders B")
    assert "my power level is 100" in part_a and "❌" not in part_a
    assert "my power level is 20" in part_b and "❌ kick members: needs 50" in part_b
    assert "✅ send messages (broadcast): needs 0" in part_b and f"give {BOT} power level 50" in part_b
    assert "Some actions will be refused" in reply


async def test_a_refusal_is_written_once_even_when_the_command_runs_again(bot):
    b = await bot()
    await b.say(ALA, f"!mod kick {BOB}", event_id="$same")
    await b.say(ALA, f"!mod kick {BOB}", event_id="$same")
    assert [c for c in await b.cases() if c[0] == ALA] == [(ALA, "kick", None, ROOM_A, "refused")]


async def test_the_audit_log_is_append_only(bot):
    b = await bot()
    await b.say(MOD, f"!mod kick {BOB}")
    before = await b.cases()
    for statement in ("UPDATE audit_log SET outcome = 'refused'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            await execute(b.db_url, statement)
    assert await b.cases() == before


async def test_help_shows_moderation_only_to_moderators(bot):
    b = await bot()
    assert "!mod kick" not in await b.say(ALA, "!help")
    reply = await b.say(MOD, "!help")
    assert "!mod kick" in reply and "!roles" in reply and "!mod verify" in reply
    assert "!mod mute <user> <duration> [<reason…>]" in await b.say(MOD, "!help mod mute")


# ----- catalogues ------------------------------------------------------------------------------------

def test_every_moderation_command_has_help_in_both_languages():
    from commands.moderation import CATALOGUE, commands

    for command in commands.commands:
        for cmd in [command, *command.subcommands.values()]:
            if cmd.handler and not cmd.handler.__module__.startswith("commands.moderation"):
                continue  # another feature's subcommand of ``!mod`` (the archive's queue…): its own catalogue
            for lang in LANGUAGES:
                assert f"{cmd.key}.help" in CATALOGUE[lang], (lang, cmd.key)


def test_both_catalogues_have_the_same_keys_and_placeholders():
    import string

    from commands.moderation import CATALOGUE

    assert set(CATALOGUE["en"]) == set(CATALOGUE["pl"])

    def fields(template):
        texts = template.values() if isinstance(template, dict) else [template]
        return {f for text in texts for _, f, _, _ in string.Formatter().parse(text) if f}

    for key in CATALOGUE["en"]:
        assert fields(CATALOGUE["en"][key]) == fields(CATALOGUE["pl"][key]), key


def test_every_message_key_used_in_the_code_is_in_the_catalogue():
    import re

    from bot.checks import CATALOGUE as CHECKS
    from commands.moderation import CATALOGUE as MODERATION

    CATALOGUE = {lang: {**CHECKS[lang], **MODERATION[lang]} for lang in MODERATION}  # as the hub has them
    root = Path(__file__).resolve().parents[2]
    sources = [root / "bot" / "checks.py", *sorted((root / "commands" / "moderation").glob("*.py"))]
    used = set()
    for source in sources:
        used |= set(re.findall(r'"((?:moderation|checks)\.[a-z_.]+[a-z_])"', source.read_text()))
    dynamic = {"moderation.kick.done", "moderation.ban.done", "moderation.unban.done",
               "moderation.roles.granted_moderator", "moderation.roles.granted_coordinator"}
    missing = {key for key in used | dynamic if key not in CATALOGUE["en"]}
    assert not missing
