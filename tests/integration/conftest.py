"""One real Synapse for the whole test session (SQLite, 127.0.0.1), stopped at the end."""

from __future__ import annotations

import itertools

import pytest

from bot.synapse import Homeserver
from tests.harness import Member

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
