"""One real Synapse for the whole test session (SQLite, 127.0.0.1), stopped at the end."""

from __future__ import annotations

import itertools

import pytest

from bot.synapse import Homeserver
from tests.harness import PASSWORD, Member

_counter = itertools.count()


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory):
    hs = Homeserver(tmp_path_factory.mktemp("synapse"))
    hs.start()
    yield hs
    hs.stop()


@pytest.fixture
def unique():
    """A fresh name per test, so tests sharing the homeserver never see each other's users."""
    return lambda prefix: f"{prefix}{next(_counter)}"


@pytest.fixture
async def members(homeserver, tmp_path):
    """``await members("leader")`` → a logged-in Member; all are closed after the test."""
    made: list[Member] = []

    async def make(localpart: str, encrypted: bool = False) -> Member:
        store = tmp_path / f"store-{localpart}" if encrypted else None
        member = await Member(homeserver, localpart, store).login()
        made.append(member)
        return member

    yield make
    for member in made:
        await member.close()


@pytest.fixture
def leader_room(homeserver, members, unique):
    """``await leader_room("coordinator", "leader", power={"coordinator": 50})`` → (room id, bot id, members).

    An owner (the room-v12 creator) makes a leader room, invites the bot and one member per name, sets
    the given power levels and has everyone join; ``members["owner"]`` is the owner.
    """

    async def make(*names: str, power: dict[str, int] | None = None, encrypted: bool = False):
        bot_id = homeserver.register(unique("hub"), PASSWORD)
        owner = await members(unique("owner"), encrypted=encrypted)
        people = {name: await members(unique(name), encrypted=encrypted) for name in names}
        levels = {people[name].user_id: level for name, level in (power or {}).items()}
        room = await owner.create_room("Leaders", invite=[bot_id, *(m.user_id for m in people.values())],
                                       encrypted=encrypted, power=levels or None)
        for member in people.values():
            await member.join(room)
        return room, bot_id, {"owner": owner, **people}

    return make
