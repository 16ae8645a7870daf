"""The audit log and mutes on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage import db
from storage.audit import AuditRepository
from storage.moderation import MuteRepository


@pytest.fixture
async def engine(db_url):
    engine = db.make_engine(db_url)
    yield engine
    await engine.dispose()


async def test_cases_are_numbered_filtered_and_never_changed(engine):
    sessions = db.make_sessionmaker(engine)
    async with sessions() as session:
        audit = AuditRepository(session)
        first = await audit.record(actor="@mod:x", action="kick", target="@bob:x", room_id="!a", reason="spam")
        await audit.record(actor="@ala:x", action="kick", outcome="refused", room_id="!a",
                           detail={"key": "error.permission", "params": {"needed": "role.moderator"}}, event_id="$1")
        await audit.record(actor="@admin:x", action="role.grant", target="@mod:x")
        await audit.record(actor="@coord:x", action="events.cancel", target="#4")
        await session.commit()
    assert first.id == 1
    async with sessions() as session:
        audit = AuditRepository(session)
        assert [e.id for e in await audit.recent(10)] == [4, 3, 2, 1]
        assert [e.id for e in await audit.recent(2)] == [4, 3]
        assert [e.id for e in await audit.recent(10, user="@mod:x")] == [3, 1]  # as actor or as target
        assert [e.id for e in await audit.recent(10, action="role")] == [3]
        assert [e.id for e in await audit.recent(10, action="cancel")] == [4]
        assert await audit.exists(event_id="$1", action="kick", outcome="refused", room_id="!a", target=None)
        assert not await audit.exists(event_id="$2", action="kick", outcome="refused", room_id="!a", target=None)
        with pytest.raises(ValueError):
            await audit.record(actor="@x:x", action="kick", outcome="maybe")
    for statement in ("UPDATE audit_log SET outcome = 'done'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with sessions() as session:
        assert await AuditRepository(session).count() == 4


async def test_mutes_due_and_active(engine):
    sessions = db.make_sessionmaker(engine)
    async with sessions() as session:
        mutes = MuteRepository(session)
        mutes.add(room_id="!a", user_id="@ala:x", previous_level=None, muted_level=-1, ends_at_ms=1_000,
                  created_by="@mod:x")
        mutes.add(room_id="!a", user_id="@bob:x", previous_level=10, muted_level=-1, ends_at_ms=5_000,
                  created_by="@mod:x")
        await session.commit()
    async with sessions() as session:
        mutes = MuteRepository(session)
        assert await mutes.next_end() == 1_000
        assert await mutes.next_end(after_ms=1_000) == 5_000  # the next end still to come
        assert await mutes.next_end(after_ms=5_000) is None
        due = await mutes.due(2_000)
        assert [m.user_id for m in due] == ["@ala:x"]
        MuteRepository.lift(due[0], "@hub:x")
        await session.commit()
    async with sessions() as session:
        mutes = MuteRepository(session)
        assert await mutes.due(10_000) == [await mutes.active("!a", "@bob:x")]
        assert await mutes.active("!a", "@ala:x") is None
        assert (await mutes.active("!a", "@bob:x")).previous_level == 10


async def test_the_migration_goes_down_and_up_again(engine):
    from alembic import command

    def run(connection, revision, up):
        cfg = db._alembic_config()
        cfg.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run, "0002_calculator", False)
    async with engine.begin() as conn:
        await conn.run_sync(run, "head", True)
    async with db.make_sessionmaker(engine)() as session:
        await AuditRepository(session).record(actor="@a:x", action="kick")
        await session.commit()
