"""Moderation commands through the hub's one path (parse → check chain → handler → reply), over a real
SQLite file and a fake homeserver that applies the Matrix power rules — a leader's conversation with
the bot, without Synapse. The real homeserver is in tests/integration/test_moderation.py."""

from __future__ import annotations

import copy
import itertools
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from nio import RoomGetStateResponse
from nio.responses import ErrorResponse

from bot.app import Hub
from bot.config import parse_config
from bot.context import Incoming
from bot.i18n import LANGUAGES
from bot.matrix_admin import PowerLevels
from bot.reply import render_markdown
from commands.moderation import mutes as mutes_module
from commands.moderation.mutes import lift_mute
from storage.moderation import MuteRepository

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


class Response:
    def __init__(self, **fields: Any):
        self.__dict__.update(fields)


class FakeRoom:
    def __init__(self, room_id: str, name: str, power: dict[str, Any], members: dict[str, str | tuple[str, str]]):
        self.room_id, self.name = room_id, name
        self.power = power
        self.members = {uid: (m if isinstance(m, tuple) else ("join", m)) for uid, m in members.items()}
        self.events: dict[str, dict[str, Any]] = {}
        self.redacted: list[str] = []

    def state_events(self) -> list[dict[str, Any]]:
        events = [{"type": "m.room.create", "sender": OWNER, "state_key": "", "content": {"room_version": "12"}},
                  {"type": "m.room.power_levels", "state_key": "", "content": copy.deepcopy(self.power)},
                  {"type": "m.room.name", "state_key": "", "content": {"name": self.name}}]
        for uid, (membership, name) in self.members.items():
            content = {"membership": membership}
            if name:
                content["displayname"] = name
            events.append({"type": "m.room.member", "state_key": uid, "content": content})
        return events

    def levels(self) -> PowerLevels:
        return PowerLevels(self.power, frozenset({OWNER}))


class FakeClient:
    """The part of nio's AsyncClient moderation uses; refuses what Synapse would refuse."""

    def __init__(self, rooms: dict[str, FakeRoom]):
        self.rooms_ = rooms
        self.calls: list[tuple] = []

    def _room(self, room_id):
        room = self.rooms_.get(room_id)
        if room is None or room.members.get(BOT, ("leave",))[0] != "join":
            return None
        return room

    @staticmethod
    def _forbidden(message="You don't have permission"):
        return ErrorResponse(message, "M_FORBIDDEN")

    async def room_get_state(self, room_id):
        room = self._room(room_id)
        return RoomGetStateResponse(room.state_events(), room_id) if room else self._forbidden("not in room")

    async def room_get_state_event(self, room_id, event_type, state_key=""):
        room = self._room(room_id)
        return Response(content=copy.deepcopy(room.power)) if room else self._forbidden()

    async def room_put_state(self, room_id, event_type, content, state_key=""):
        room = self._room(room_id)
        levels = room.levels()
        bot = levels.level(BOT)
        if bot < levels.needed("power_levels"):
            return self._forbidden("power_levels")
        old, new = room.power.get("users", {}), content.get("users", {})
        for uid in set(old) | set(new):
            if old.get(uid) != new.get(uid) and uid != BOT:
                if levels.level(uid) >= bot or (new.get(uid) or 0) > bot:
                    return self._forbidden("user level")
        self.calls.append(("power", room_id, copy.deepcopy(new)))
        room.power = copy.deepcopy(content)
        return Response(event_id="$pl")

    async def _membership(self, action, room_id, user_id, new):
        room = self._room(room_id)
        short = room.levels().shortfall(BOT, action, user_id)
        if short:
            return self._forbidden(action)
        self.calls.append((action, room_id, user_id))
        name = room.members.get(user_id, ("leave", None))[1]
        room.members[user_id] = (new, name)
        return Response()

    async def room_kick(self, room_id, user_id, reason=None):
        return await self._membership("kick", room_id, user_id, "leave")

    async def room_ban(self, room_id, user_id, reason=None):
        return await self._membership("ban", room_id, user_id, "ban")

    async def room_unban(self, room_id, user_id):
        return await self._membership("unban", room_id, user_id, "leave")

    async def room_get_event(self, room_id, event_id):
        room = self._room(room_id)
        if room is None or event_id not in room.events:
            return ErrorResponse("Event not found", "M_NOT_FOUND")
        return Response(event=Response(source=room.events[event_id]))

    async def room_redact(self, room_id, event_id, reason=None, tx_id=None):
        room = self._room(room_id)
        if room.levels().level(BOT) < room.levels().needed("redact"):
            return self._forbidden("redact")
        room.redacted.append(event_id)
        return Response(event_id="$redaction")

    async def room_resolve_alias(self, alias):
        return ErrorResponse("no alias", "M_NOT_FOUND")


class FakeTransport:
    def __init__(self, rooms: dict[str, FakeRoom], leader_rooms: set[str]):
        self.user_id = BOT
        self.rooms = rooms
        self.leader_rooms = leader_rooms
        self.client = FakeClient(rooms)
        self.sent: list[tuple[str, str, str]] = []
        self.failing_rooms: set[str] = set()

    def power_level(self, room_id, user_id):
        room = self.rooms.get(room_id)
        return room.levels().level(user_id) if room and user_id != OWNER else 0

    def is_room_creator(self, room_id, user_id):
        return room_id in self.rooms and user_id == OWNER

    def room_display_name(self, room_id):
        room = self.rooms.get(room_id)
        return room.name if room else room_id

    async def send_notice(self, room_id, markdown, key, mentions=None, extra=None):
        if room_id in self.failing_rooms:
            raise RuntimeError("M_FORBIDDEN: You don't have permission to post that to the room")
        self.sent.append((room_id, markdown, key))
        return "$notice"


def make_rooms(bot_level_b: int = 0) -> dict[str, FakeRoom]:
    members = {BOT: "Hub", OWNER: "Owner", ADMIN: "Admin", MOD: "Marta Mod", GMOD: "Greg", COORD: "Cora",
               ALA: "Ala Nowak", BOB: "Bob"}
    room_a = FakeRoom(ROOM_A, "Leaders A", {"users": {BOT: 100, MOD: 50, ALA: 10}}, dict(members))
    room_b = FakeRoom(ROOM_B, "Leaders B", {"users": {BOT: bot_level_b}}, dict(members))
    other = FakeRoom(OTHER, "Bob's room", {"users": {BOT: 100, BOB: 100}}, {BOT: "Hub", BOB: "Bob", ALA: "Ala"})
    return {ROOM_A: room_a, ROOM_B: room_b, OTHER: other}


class Bot:
    """The hub with the fake homeserver; ``say`` is one message in a room, returning the reply's text."""

    def __init__(self, hub: Hub, transport: FakeTransport, db_path: Path):
        self.hub, self.transport, self.db_path = hub, transport, db_path

    async def say(self, sender: str, text: str, room: str = ROOM_A, event_id: str | None = None) -> str:
        incoming = Incoming(event_id or f"$e{next(_ids)}", room, sender, text, int(time.time() * 1000))
        replies = await self.hub.execute(incoming)
        assert len(replies) == 1, replies
        return render_markdown(replies[0].markdown)[0]

    def cases(self) -> list[tuple]:
        with sqlite3.connect(self.db_path) as db:
            return db.execute("SELECT actor, action, target, room_id, outcome FROM audit_log ORDER BY id").fetchall()

    def room(self, room_id: str = ROOM_A) -> FakeRoom:
        return self.transport.rooms[room_id]


@pytest.fixture
async def bot(tmp_path):
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
url = "sqlite+aiosqlite:///hub.db"
""")
        hub = await Hub.create(parse_config(path.read_text(), path, env={}))
        hubs.append(hub)
        transport = FakeTransport(make_rooms(bot_level_b), {ROOM_A, ROOM_B})
        hub.transport = transport
        made = Bot(hub, transport, tmp_path / "hub.db")
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
    assert b.cases()[-1] == (ALA, "kick", None, ROOM_A, "refused")


async def test_a_coordinator_may_not_moderate(bot):
    b = await bot()
    assert "you are: coordinator" in await b.say(COORD, f"!mod ban {BOB}")
    assert b.cases()[-1][4] == "refused"


async def test_rank_refusal_names_both_ranks(bot):
    b = await bot()
    reply = await b.say(GMOD, f"!mod kick {MOD}")
    assert f"{MOD} is moderator in this room and you are moderator" in reply
    reply = await b.say(ADMIN, f"!mod ban {OWNER}")  # a v12 creator outranks like an admin
    assert "is admin in this room and you are admin" in reply
    assert [c[4] for c in b.cases()[-2:]] == ["refused", "refused"]
    assert b.room().members[MOD][0] == "join" and b.room().members[OWNER][0] == "join"


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
    actions = [(c[1], c[2], c[4]) for c in b.cases()]
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
    b.room().members[ALA2] = ("join", "Ala Nowak")
    reply = await b.say(MOD, "!mod mute \"Ala Nowak\" 10m")
    assert "More than one member" in reply and ALA in reply and ALA2 in reply
    reply = await b.say(MOD, "!mod kick Alla")
    assert "Nobody in this room is called Alla" in reply and "Did you mean" in reply
    assert "Nobody in this room is called Zygfryd" in await b.say(MOD, "!mod kick Zygfryd")
    assert b.room().members[ALA][0] == "join"


async def test_a_pill_link_names_the_user(bot):
    b = await bot()
    assert f"Removed {BOB}" in await b.say(MOD, f"!mod kick https://matrix.to/#/{BOB} off-topic")


# ----- membership, mute, redact -------------------------------------------------------------------

async def test_kick_ban_unban_change_the_room_and_are_audited_with_the_reason(bot):
    b = await bot()
    assert f"Removed {BOB} from Leaders A" in await b.say(MOD, f"!mod kick {BOB} spam links")
    assert b.room().members[BOB][0] == "leave"
    assert "is not a member here" in await b.say(MOD, f"!mod kick {BOB}")
    assert "Banned" in await b.say(GMOD, f"!mod ban {BOB} again")
    assert b.room().members[BOB][0] == "ban"
    assert "Lifted the ban" in await b.say(ADMIN, "!mod unban bob")  # a banned member by the id's local part
    assert b.room().members[BOB][0] == "leave"
    with sqlite3.connect(b.db_path) as db:
        rows = db.execute("SELECT action, reason, outcome FROM audit_log WHERE target=? ORDER BY id", (BOB,)).fetchall()
    assert rows == [("kick", "spam links", "done"), ("kick", None, "failed"), ("ban", "again", "done"),
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
        await lift_mute(b.hub, b.transport, mute.id)
    assert b.room().power["users"][ALA] == 10 and BOB not in b.room().power["users"]  # no entry before: none after
    assert [c[1:] for c in b.cases()[-2:]] == [("unmute", BOB, ROOM_A, "done"), ("unmute", ALA, ROOM_A, "done")]


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
    real_put = b.transport.client.room_put_state

    async def put_and_look(room_id, event_type, content, state_key=""):
        with sqlite3.connect(b.db_path) as db:
            seen.extend(db.execute("SELECT user_id, previous_level FROM mutes").fetchall())
        return await real_put(room_id, event_type, content, state_key)

    b.transport.client.room_put_state = put_and_look
    await b.say(MOD, f"!mod mute {ALA} 1h")
    assert seen == [(ALA, 10)]


async def test_redact_by_id_or_link(bot):
    b = await bot()
    b.room().events["$spam"] = {"event_id": "$spam", "sender": BOB, "type": "m.room.message"}
    b.room().events["$boss"] = {"event_id": "$boss", "sender": ADMIN, "type": "m.room.message"}
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
    assert b.room(ROOM_A).members[BOB][0] == "ban" and b.room(ROOM_B).members[BOB][0] == "join"
    outcomes = {c[3]: c[4] for c in b.cases() if c[1] == "ban"}
    assert outcomes == {ROOM_A: "done", ROOM_B: "refused"}
    # Power held in room A makes Marta a moderator there only.
    b.room(ROOM_B).power["users"][BOT] = 100
    reply = await b.say(MOD, f"!mod kick {ALA} in:all")
    assert "✅ Leaders A" in reply and "⛔ Leaders B" in reply and "you are: leader" in reply


async def test_broadcast_reaches_every_leader_room_and_names_failures(bot):
    b = await bot(bot_level_b=100)
    b.transport.failing_rooms.add(ROOM_B)
    reply = await b.say(GMOD, "!mod broadcast Training on **Friday**", event_id="$cast")
    assert "reached 1 of 2" in reply and "M_FORBIDDEN" in reply
    assert [(r, k) for r, _m, k in b.transport.sent] == [(ROOM_A, f"broadcast:$cast:{ROOM_A}")]
    assert "Training on **Friday**" in b.transport.sent[0][1]
    b.room(ROOM_B).power["events"] = {"m.room.message": 60}
    b.room(ROOM_B).power["users"][BOT] = 40
    b.transport.failing_rooms.clear()
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
    assert [c for c in b.cases() if c[0] == ALA] == [(ALA, "kick", None, ROOM_A, "refused")]


async def test_the_audit_log_is_append_only(bot):
    b = await bot()
    await b.say(MOD, f"!mod kick {BOB}")
    with sqlite3.connect(b.db_path) as db:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE audit_log SET outcome='done'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM audit_log")


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

    from commands.moderation import CATALOGUE

    root = Path(__file__).resolve().parents[2]
    sources = [root / "bot" / "checks.py", *sorted((root / "commands" / "moderation").glob("*.py"))]
    used = set()
    for source in sources:
        used |= set(re.findall(r'"((?:moderation|checks)\.[a-z_.]+[a-z_])"', source.read_text()))
    dynamic = {"moderation.kick.done", "moderation.ban.done", "moderation.unban.done",
               "moderation.roles.granted_moderator", "moderation.roles.granted_coordinator"}
    missing = {key for key in used | dynamic if key not in CATALOGUE["en"]}
    assert not missing
