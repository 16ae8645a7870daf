"""The pure parts of moderation: Matrix power rules, naming users and events, durations."""

from __future__ import annotations

import pytest

from bot.checks import Scoped, scoped_reason as reason
from bot.ids import parse_event_ref, user_id_in
from bot.matrix.pills import pills_to_ids
from bot.platform import CREATOR_LEVEL, PowerLevels, Shortfall, parse_room_state, with_user_level
from commands.moderation.mutes import format_duration, parse_duration

BOT, MOD, ALA = "@hub:x.org", "@mod:x.org", "@ala:x.org"


def test_levels_defaults_and_creators():
    power = PowerLevels({"users": {BOT: 100, MOD: 50}, "users_default": 0}, frozenset({"@owner:x.org"}))
    assert power.level(BOT) == 100 and power.level(MOD) == 50 and power.level(ALA) == 0
    assert power.level("@owner:x.org") == CREATOR_LEVEL  # room v12: above every number
    assert power.entry(ALA) is None and power.entry(MOD) == 50
    assert power.needed("kick") == 50 and power.needed("ban") == 50 and power.needed("redact") == 50
    assert power.needed("power_levels") == 50  # state_default
    assert power.needed("send") == 0 and power.mute_level == -1  # negative when sending needs 0


def test_mute_level_is_one_below_what_messages_need():
    power = PowerLevels({"events": {"m.room.message": 10, "m.room.power_levels": 75}, "events_default": 5})
    assert power.message_level == 10 and power.mute_level == 9
    assert power.needed("power_levels") == 75


def test_shortfall_says_what_the_bot_has_and_needs():
    power = PowerLevels({"users": {BOT: 40, MOD: 50}, "kick": 30, "ban": 60})
    assert power.shortfall(BOT, "kick", ALA) is None
    assert power.shortfall(BOT, "ban", ALA) == Shortfall("ban", 40, 60)
    # Allowed to kick, but not someone at or above its own level.
    assert power.shortfall(BOT, "kick", MOD) == Shortfall("kick", 40, 30, target_level=50)
    assert power.shortfall(BOT, "unban", ALA) == Shortfall("unban", 40, 60)  # ban and kick level both count
    creator = PowerLevels({"users": {BOT: 100}}, frozenset({"@owner:x.org"}))
    assert creator.shortfall(BOT, "kick", "@owner:x.org").target_level == CREATOR_LEVEL


def test_with_user_level_sets_and_removes_one_entry_only():
    content = {"users": {BOT: 100, ALA: 10}, "kick": 50}
    muted = with_user_level(content, ALA, -1)
    assert muted == {"users": {BOT: 100, ALA: -1}, "kick": 50}
    assert with_user_level(content, ALA, None) == {"users": {BOT: 100}, "kick": 50}
    assert content == {"users": {BOT: 100, ALA: 10}, "kick": 50}  # the original is untouched


def test_room_state_from_state_events():
    events = [
        {"type": "m.room.create", "sender": "@owner:x.org", "state_key": "",
         "content": {"room_version": "12", "additional_creators": ["@co:x.org"]}},
        {"type": "m.room.power_levels", "state_key": "", "content": {"users": {BOT: 100}}},
        {"type": "m.room.member", "state_key": ALA, "content": {"membership": "join", "displayname": "Ala Nowak"}},
        {"type": "m.room.member", "state_key": "@bad:x.org", "content": {"membership": "ban"}},
        {"type": "m.room.name", "state_key": "", "content": {"name": "Leaders"}},
    ]
    state = parse_room_state("!r", events)
    assert state.power.creators == {"@owner:x.org", "@co:x.org"}
    assert state.is_joined(ALA) and state.membership("@bad:x.org") == "ban" and state.name == "Leaders"
    old = parse_room_state("!r", [{"type": "m.room.create", "sender": "@owner:x.org", "content": {"room_version": "10"}}])
    assert old.power.creators == frozenset()  # before v12 creators are ordinary power-level holders


def test_pills_become_user_ids():
    body = "!mod kick Ala Nowak spamming again"
    html = '!mod kick <a href="https://matrix.to/#/@ala:x.org">Ala Nowak</a> spamming again'
    assert pills_to_ids(body, html) == "!mod kick @ala:x.org spamming again"
    encoded = '<a href="https://matrix.to/#/%40ala%3Ax.org?via=x.org">Ala &amp; co</a>'
    assert pills_to_ids("!mod ban Ala & co", encoded) == "!mod ban @ala:x.org"
    assert pills_to_ids(body, None) == body
    reply = ('<mx-reply><a href="https://matrix.to/#/@bob:x.org">Bob</a></mx-reply>!mod kick '
             '<a href="https://matrix.to/#/@ala:x.org">Ala</a>')
    assert pills_to_ids("!mod kick Ala", reply) == "!mod kick @ala:x.org"


@pytest.mark.parametrize("text, expected", [
    ("@ala:x.org", "@ala:x.org"),
    ("https://matrix.to/#/@ala:x.org", "@ala:x.org"),
    ("https://matrix.to/#/%40ala%3Ax.org?via=x.org", "@ala:x.org"),
    ("matrix:u/ala:x.org", "@ala:x.org"),
    ("<@ala:x.org>", "@ala:x.org"),
    ("@ala:x.org:", "@ala:x.org"),
    ("Ala", None),
    ("@ala", None),
])
def test_user_ids_in_what_was_typed(text, expected):
    assert user_id_in(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("$abc123", (None, "$abc123")),
    ("https://matrix.to/#/!room:x.org/$abc?via=x.org", ("!room:x.org", "$abc")),
    ("https://matrix.to/#/%21room%3Ax.org/%24abc", ("!room:x.org", "$abc")),
    ("https://matrix.to/#/#leaders:x.org/$abc", ("#leaders:x.org", "$abc")),
    ("https://app.element.io/#/room/!room:x.org/$abc", ("!room:x.org", "$abc")),
    ("matrix:roomid/room:x.org/e/abc", ("!room:x.org", "$abc")),
    ("https://matrix.to/#/!room:x.org", None),
    ("hello", None),
])
def test_event_links(text, expected):
    assert parse_event_ref(text) == expected


@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("2godz", 7200), ("3dni", 259200),
    ("10min", 600), ("1w", 604800),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "abc", "0s", "10x", "400d", "-5m", "5 m s"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration():
    assert format_duration(5400) == "1h 30m" and format_duration(30) == "30s" and format_duration(90061) == "1d 1h 1m 1s"


def test_in_all_is_taken_out_of_the_reason():
    assert reason("in:all spam") == Scoped("spam", True)
    assert reason("spam again in:all") == Scoped("spam again", True)
    assert reason("IN:ALL") == Scoped(None, True)
    assert reason("w:wszystkich") == Scoped(None, True)
    assert reason("spam in:all of the rooms") == Scoped("spam in:all of the rooms", False)
