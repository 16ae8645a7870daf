"""The runtime's tables on a real SQLite file and on a real PostgreSQL server: migrations and repositories."""

from __future__ import annotations

import asyncio
import json

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage import db, hotpath
from storage.hotpath import RuntimeStore
from storage.models import RoleGrant
from storage.runtime import InboxRepository, RoleRepository, SettingsRepository

RUNTIME_TABLES = {"bot_state", "inbox", "user_settings", "role_grants"}


def head_revision() -> str:
    return ScriptDirectory.from_config(db._alembic_config()).get_current_head()


@pytest.fixture
async def engine(db_url):
    engine = db.make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine):
    async with db.make_sessionmaker(engine)() as session:
        yield session


async def table_names(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_create_the_runtime_tables_on_an_empty_database(empty_db_url):
    engine = db.make_engine(empty_db_url)
    try:
        assert await db.current_revision(engine) is None
        await db.upgrade(engine)
        assert RUNTIME_TABLES <= await table_names(engine)
        assert await db.current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_migrations_are_idempotent_and_keep_the_data(engine):
    store = RuntimeStore(engine)
    try:
        await store.run(hotpath.record_batch, [], "next_batch", "s72594_4483_1934")
        await db.upgrade(engine)  # again: nothing to do, nothing lost
        await db.upgrade(engine)
        assert await db.current_revision(engine) == head_revision()
        assert await store.run(hotpath.get_state, "next_batch") == "s72594_4483_1934"
    finally:
        store.close()


async def test_state_survives_a_new_engine(db_url):
    """What one process committed, the next one (a restart) reads."""
    first = db.make_engine(db_url)
    await db.upgrade(first)
    store = RuntimeStore(first)
    await store.run(hotpath.record_batch, [], "next_batch", "token-1")
    await store.run(hotpath.record_batch, [], "next_batch", "token-2")
    store.close()
    await first.dispose()
    second = db.make_engine(db_url)
    store = RuntimeStore(second)
    try:
        assert await store.run(hotpath.get_state, "next_batch") == "token-2"
        assert await store.run(hotpath.get_state, "never-set") is None
    finally:
        store.close()
        await second.dispose()


def inbox_row(event_id: str, body: str = "!ping", origin_ts: int = 1_000, **fields) -> dict:
    return {"event_id": event_id, "room_id": "!r:x", "sender": "@anna:x", "kind": "command", "body": body,
            "thread_root": None, "relates_to": None, "origin_ts": origin_ts, **fields}


async def test_the_inbox_walks_a_command_from_pending_to_done(engine):
    """The bot's own path: a sync batch with its token, a reply recorded with the command, then done."""
    store = RuntimeStore(engine)
    sessions = db.make_sessionmaker(engine)
    try:
        batch = [inbox_row("$b", "!help", 2_000), inbox_row("$a", "!ping", 1_000, thread_root="$root"),
                 inbox_row("$c", "", 3_000, kind="undecryptable", sender="@bob:x")]
        assert await store.run(hotpath.record_batch, batch, "next_batch", "s1") == ["$b", "$a", "$c"]
        # The same events again (a replay from an older token) and one twice in a batch: only "$d" is new.
        again = [inbox_row("$a"), inbox_row("$d", origin_ts=4_000), inbox_row("$d", origin_ts=4_000)]
        assert await store.run(hotpath.record_batch, again, "next_batch", "s2") == ["$d"]
        assert await store.run(hotpath.record_batch, [], "next_batch", "s3") == []
        assert await store.run(hotpath.get_state, "next_batch") == "s3"

        async with sessions() as session:
            inbox = InboxRepository(session)
            # Oldest first, so a restart answers in the order people asked.
            assert [row.event_id for row in await inbox.unfinished()] == ["$a", "$b", "$c", "$d"]
            row = await inbox.get("$a")
            assert (row.status, row.thread_root, row.body, row.received_at is not None) == (
                "pending", "$root", "!ping", True)
            reply = [{"markdown": "pong!", "kind": "text", "mentions": [], "extra": {"pong": {"ms": 1}}}]
            await inbox.record_reply("$a", "ping", "ok", reply)
            await session.commit()

        async with sessions() as session:
            inbox = InboxRepository(session)
            row = await inbox.get("$a")
            assert (row.status, row.command, row.outcome) == ("replied", "ping", "ok")
            assert json.loads(row.reply) == reply
            # Replied but not yet delivered is still unfinished: a crash here resends, never re-runs.
            assert [r.event_id for r in await inbox.unfinished()] == ["$a", "$b", "$c", "$d"]

        await store.run(hotpath.finish, "$a", [("$pong", "!r:x")])
        await store.run(hotpath.finish, "$a", [("$pong", "!r:x")])  # a resend after a crash: no harm
        # A reply that wrote nothing, marked done along with the next sync batch.
        assert await store.run(hotpath.record_batch, [inbox_row("$e", origin_ts=5_000)], "next_batch", "s4",
                               [("$c", [], None, "undecryptable")]) == ["$e"]
        async with sessions() as session:
            inbox = InboxRepository(session)
            done = await inbox.get("$a")
            assert (done.status, done.command, done.outcome) == ("done", "ping", "ok")  # kept as recorded
            assert done.finished_at is not None
            assert ((await inbox.get("$c")).status, (await inbox.get("$c")).outcome) == ("done", "undecryptable")
            assert [r.event_id for r in await inbox.unfinished()] == ["$b", "$d", "$e"]
            assert await inbox.get("$nope") is None
            assert await inbox.answered_by("$pong") == "$a"
    finally:
        store.close()


async def test_a_redaction_finds_the_reaction_it_takes_back(engine):
    store = RuntimeStore(engine)
    try:
        await store.run(hotpath.record_batch, [inbox_row("$r", "👍", kind="reaction", relates_to="$post"),
                                               inbox_row("$cmd")], "next_batch", "s1")
        assert await store.run(hotpath.stored_reactions, ["$r", "$cmd", "$unknown"]) == {
            "$r": ("@anna:x", "👍", "$post")}
        assert await store.run(hotpath.stored_reactions, []) == {}
    finally:
        store.close()


async def test_the_same_event_cannot_enter_the_inbox_twice(engine):
    sessions = db.make_sessionmaker(engine)
    async with sessions() as session:
        InboxRepository(session).add(event_id="$a", room_id="!r:x", sender="@a:x", kind="command", body="!ping",
                                     origin_ts=1)
        await session.commit()
    async with sessions() as session:
        InboxRepository(session).add(event_id="$a", room_id="!r:x", sender="@a:x", kind="command", body="!ping",
                                     origin_ts=1)
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_a_rolled_back_command_leaves_nothing(engine):
    sessions = db.make_sessionmaker(engine)
    async with sessions() as session:
        await SettingsRepository(session).set_language("@anna:x", "en")
        await RoleRepository(session).grant("@anna:x", "coordinator", by="@mod:x")
        await session.flush()
        await session.rollback()
    async with sessions() as session:
        assert await SettingsRepository(session).get("@anna:x") is None
        assert await RoleRepository(session).roles_of("@anna:x") == set()


async def test_user_settings(session):
    settings = SettingsRepository(session)
    assert await settings.get("@anna:x") is None
    await settings.set_language("@anna:x", "en")
    await settings.set_timezone("@anna:x", "Europe/London")
    await settings.set_timezone("@bob:x", "Europe/Warsaw")
    await session.commit()
    await settings.set_language("@anna:x", "pl")
    await session.commit()
    anna, bob = await settings.get("@anna:x"), await settings.get("@bob:x")
    assert (anna.language, anna.timezone) == ("pl", "Europe/London")
    assert (bob.language, bob.timezone) == (None, "Europe/Warsaw")


async def test_role_grants(session):
    roles = RoleRepository(session)
    assert await roles.grant("@anna:x", "coordinator", by="@mod:x") is True
    assert await roles.grant("@anna:x", "coordinator", by="@other:x") is False  # already has it
    assert await roles.grant("@anna:x", "moderator", by="@admin:x") is True
    assert await roles.grant("@bob:x", "coordinator", by="@mod:x") is True
    await session.commit()
    assert await roles.roles_of("@anna:x") == {"coordinator", "moderator"}
    grants = await roles.all()
    assert [g.user_id for g in grants] == ["@anna:x", "@anna:x", "@bob:x"]  # by user
    assert sorted((g.user_id, g.role, g.granted_by) for g in grants) == [
        ("@anna:x", "coordinator", "@mod:x"), ("@anna:x", "moderator", "@admin:x"), ("@bob:x", "coordinator", "@mod:x"),
    ]
    assert all(g.granted_at is not None for g in await roles.all())
    assert await roles.revoke("@anna:x", "moderator") is True
    assert await roles.revoke("@anna:x", "moderator") is False
    await session.commit()
    assert await roles.roles_of("@anna:x") == {"coordinator"}
    assert await roles.roles_of("@nobody:x") == set()


async def test_the_database_refuses_a_duplicate_grant(session):
    session.add(RoleGrant(user_id="@anna:x", role="coordinator", granted_by="@a:x"))
    session.add(RoleGrant(user_id="@anna:x", role="coordinator", granted_by="@b:x"))
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_long_and_unicode_values_round_trip(session):
    body = "!share Kawiarnia dla seniorów „Złota Jesień” 🌼\n" + "Opis: " + "ż" * 20_000
    InboxRepository(session).add(event_id="$u", room_id="!r:x", sender="@żaneta:x", kind="command", body=body,
                                 origin_ts=2**41)
    await session.commit()
    row = await InboxRepository(session).get("$u")
    await session.refresh(row)
    assert row.body == body and row.origin_ts == 2**41 and row.sender == "@żaneta:x"


async def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_the_hub_answers_and_remembers_with_its_database_url_in_the_environment(empty_db_url, tmp_path):
    """The whole command path on a new database, its URL given in the environment as an operator would."""
    from bot.compose import create_hub, parse_config
    from bot.console import ConsoleTransport

    url = empty_db_url
    text = '[matrix]\nuser_id = "@hub:localhost"\npassword = "p"\n[bot]\nlanguage = "en"\n'
    config = parse_config(text, tmp_path / "config.toml", env={"LEADERS_HUB_DATABASE_URL": url})
    hub = await create_hub(config)
    try:
        console = ConsoleTransport(hub, "@anna:localhost", tmp_path)
        assert await console.handle("!jezyk pl") == ["Od teraz będę Ci odpowiadać po polsku."]
        assert await console.handle("!lang") == [
            "Brakuje argumentu: język.\n\nUżycie: !lang pl|en — więcej: !help lang"]
    finally:
        await hub.close()
    hub = await create_hub(config)  # a restart
    try:
        console = ConsoleTransport(hub, "@anna:localhost", tmp_path)
        assert await console.handle("!whoami") == [
            "Jesteś @anna:localhost; Twoja rola w tym pokoju: lider; język: pl."]
    finally:
        await hub.close()


async def test_two_steps_that_deadlock_both_complete(engine):
    """Two steps locking the same two rows in opposite orders: on PostgreSQL one of them is ended as a
    deadlock's victim and run again; on SQLite writers take turns. Either way both steps are done."""
    store = RuntimeStore(engine)
    for key in ("a", "b"):
        await store.run(hotpath.put_state, key, "0")
    waits = {"postgresql": "SELECT pg_sleep(0.3)", "sqlite": "SELECT 1"}[engine.dialect.name]
    runs: list[str] = []

    def locking(first: str, second: str):
        def step(conn):
            runs.append(first)
            hotpath.put_state(conn, first, first + second)
            conn.execute(text(waits))
            hotpath.put_state(conn, second, first + second)
            return first + second
        step.__name__ = f"locking_{first}_{second}"
        return step

    try:
        done = await asyncio.gather(store.run(locking("a", "b")), store.run(locking("b", "a")))
        assert sorted(done) == ["ab", "ba"]
        if engine.dialect.name == "postgresql":
            assert len(runs) == 3, runs  # one of the two was run again
        values = {await store.run(hotpath.get_state, "a"), await store.run(hotpath.get_state, "b")}
        assert len(values) == 1 and values <= {"ab", "ba"}  # the last one to commit wrote both rows
    finally:
        store.close()
