"""The leader lease: at most one holder, taken over when the holder's process or connection goes, and the
fence that stops an instance sending the moment its lease is no longer sure."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.leader import ACTIVE, STANDBY, LeaseLost, Leadership
from bot.metrics import Metrics
from storage import lease as lease_module
from storage.lease import FileLease, PostgresLease, SoleLease, make_lease
from tests.pg import postgres_server  # noqa: F401  (a fixture)


class Platform:
    """Records what the leadership asks of it; ``run_active`` runs until cancelled."""

    def __init__(self):
        self.prepared = asyncio.Event()
        self.active = asyncio.Event()

    async def prepare_standby(self):
        self.prepared.set()

    async def run_active(self):
        self.active.set()
        await asyncio.Event().wait()


async def test_a_file_lease_has_one_holder_until_it_lets_go(tmp_path):
    first, second = FileLease(tmp_path / "hub.db.lease"), FileLease(tmp_path / "hub.db.lease")
    assert await first.try_acquire() and first.valid()
    assert not await second.try_acquire() and not second.valid()
    await first.release()
    assert not first.valid()
    assert await second.try_acquire()
    await second.release()


def test_each_database_gets_its_lease():
    assert isinstance(make_lease("postgresql+asyncpg://hub@127.0.0.1:5432/hub"), PostgresLease)
    assert isinstance(make_lease("sqlite+aiosqlite:////srv/hub/hub.db"), FileLease)
    assert make_lease("sqlite+aiosqlite:////srv/hub/hub.db").path.name == "hub.db.lease"
    assert isinstance(make_lease("sqlite+aiosqlite:///:memory:"), SoleLease)
    # The same key for every instance of one database, another for another database.
    one, same, other = (PostgresLease(f"postgresql+asyncpg://u@h/{name}").key for name in ("hub", "hub", "hub2"))
    assert one == same != other


async def test_a_standby_takes_over_when_the_active_process_goes(tmp_path, monkeypatch):
    monkeypatch.setattr(lease_module, "POLL", 0.05)
    import bot.leader as leader_module
    monkeypatch.setattr(leader_module, "POLL", 0.05)
    path = tmp_path / "hub.db.lease"
    first, second = Leadership(FileLease(path), Metrics()), Leadership(FileLease(path), Metrics())
    one, two = Platform(), Platform()
    running_one = asyncio.ensure_future(first.run(one))
    await asyncio.wait_for(one.active.wait(), 5)
    running_two = asyncio.ensure_future(second.run(two))
    await asyncio.wait_for(two.prepared.wait(), 5)  # a standby gets its device ready, and waits
    await asyncio.sleep(0.3)
    assert (first.role, second.role) == (ACTIVE, STANDBY)
    assert first.may_send() and not second.may_send()
    assert first.metrics.active._value.get() == 1 and second.metrics.active._value.get() == 0
    running_one.cancel()
    await first.release()  # what the end of its process does
    await asyncio.wait_for(two.active.wait(), 5)
    assert second.role == ACTIVE and second.may_send() and second.metrics.active._value.get() == 1
    running_two.cancel()
    await second.release()


@pytest.fixture
def pg_url(postgres_server):
    return postgres_server.create_database("lease")


def _terminate_lease_sessions(server) -> None:
    server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'leaders-hub lease'")


async def test_postgresql_lease_is_exclusive_and_released_with_its_session(pg_url, postgres_server):
    first, second = PostgresLease(pg_url), PostgresLease(pg_url)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await second.ping()  # a standby's connection works: it reports healthy
    _terminate_lease_sessions(postgres_server)  # the holder's connection is cut (and the standby's)
    assert not await first.heartbeat() and not first.valid()
    assert await second.try_acquire() and second.valid()
    await first.release()
    await second.release()


async def test_an_active_instance_that_loses_its_connection_stops_sending_before_the_new_one_starts(
        pg_url, postgres_server, monkeypatch):
    import bot.leader as leader_module
    monkeypatch.setattr(leader_module, "POLL", 0.05)
    first, second = Leadership(PostgresLease(pg_url), Metrics()), Leadership(PostgresLease(pg_url), Metrics())
    one, two = Platform(), Platform()
    running_one = asyncio.ensure_future(first.run(one))
    await asyncio.wait_for(one.active.wait(), 10)
    running_two = asyncio.ensure_future(second.run(two))
    await asyncio.wait_for(two.prepared.wait(), 10)
    # Record when the old one last may send and when the new one first may.
    last_old = first_new = None

    async def watch():
        nonlocal last_old, first_new
        while first_new is None:
            now = time.monotonic()
            if first.may_send():
                last_old = now
            if second.may_send():
                first_new = now
            await asyncio.sleep(0.01)

    watcher = asyncio.ensure_future(watch())
    postgres_server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         f"WHERE application_name = 'leaders-hub lease' AND pid <> pg_backend_pid() "
                         f"AND backend_start = (SELECT min(backend_start) FROM pg_stat_activity "
                         f"WHERE application_name = 'leaders-hub lease')")
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(running_one, 10)
    assert first.role == STANDBY and not first.may_send() and first.metrics.active._value.get() == 0
    await asyncio.wait_for(two.active.wait(), 15)
    await asyncio.wait_for(watcher, 5)
    assert last_old is not None and first_new is not None
    assert first_new - last_old >= lease_module.TAKEOVER_DELAY - lease_module.VALID_FOR, (last_old, first_new)
    running_two.cancel()
    await first.release()
    await second.release()
