"""The archive's index in the bot: the lemma dictionaries are opened off the event loop, and only to analyse."""

from __future__ import annotations

import threading

import commands.archive.service as archive_service
from bot.compose import create_hub, parse_config
from storage.search.analyzer import Analyzer


async def test_dictionaries_open_in_a_worker_thread_once_and_not_for_an_empty_archive(tmp_path, db_url,
                                                                                       monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(f'[matrix]\nuser_id = "@hub:localhost"\npassword = "p"\n[database]\nurl = "{db_url}"\n')
    hub = await create_hub(parse_config(path.read_text(), path, env={}))
    opened_on: list[str] = []
    # Record where the dictionaries are opened (the real opening is storage/search's own tests' business).
    monkeypatch.setattr(Analyzer, "warm_up", lambda self: opened_on.append(threading.current_thread().name))
    monkeypatch.setattr(archive_service, "use_lemma_cache", lambda folder: None)
    index = hub.service(archive_service.ArchiveIndex)
    try:
        service = await index.ready(analyse=False)  # the start-up build, archive empty
        assert opened_on == [] and service._index is None  # nothing loaded: no numpy, no dictionaries
        await index.ready()  # a search
        await index.ready()  # and another
        assert len(opened_on) == 1 and opened_on[0] != threading.main_thread().name
    finally:
        await hub.close()


# ----- the saved index ------------------------------------------------------------------------------

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402

from storage.archive import ArchiveRepository, import_records, record_of  # noqa: E402
from storage.search import SearchIndex, load_starter_archive  # noqa: E402

QUERIES = ["bezdomność", "seniorzy", "dlugotrwale bezrobotni", "homeless elderly", "plac zabaw", "volunter",
           "housing first", "opieka wytchnieniowa"]


async def make_hub(folder, db_url="sqlite+aiosqlite:///data/hub.db"):
    """A hub whose cache folder is under ``folder``; two made with one ``db_url`` are two instances of one hub."""
    path = folder / "config.toml"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text('[matrix]\nuser_id = "@hub:localhost"\npassword = "p"\n'
                        f'[database]\nurl = "{db_url}"\n')
    return await create_hub(parse_config(path.read_text(), path, env={}))


async def approved_records(hub) -> list[dict]:
    async with hub.sessions() as session:
        return [record_of(row) for row in await ArchiveRepository(session).approved()]


async def what_a_search_shows(hub) -> list:
    """Each query's total and hits (id, score, matched words), as `!search` ranks them."""
    service = await hub.service(archive_service.ArchiveIndex).ready()
    pages = []
    for query in QUERIES:
        result = service.index.search(query, None, 0, 10)
        pages.append((result.total, result.corrections, [(h.id, h.score, sorted(h.matched)) for h in result.hits]))
    return pages


def totals_and_top_hits(pages: list) -> list:
    """Of each query's page: how many matched and the first hit's id (the scores of an index that removed
    solutions differ a little from a fresh one's: its term statistics still count them)."""
    return [(total, hits and hits[0][0]) for total, _, hits in pages]


def fresh_answers(records: list[dict]) -> list:
    index = SearchIndex()
    index.add_many(records)
    pages = []
    for query in QUERIES:
        result = index.search(query, None, 0, 10)
        pages.append((result.total, result.corrections, [(h.id, h.score, sorted(h.matched)) for h in result.hits]))
    return pages


async def test_the_next_start_opens_the_saved_index_and_catches_up_with_what_changed(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="commands.archive.service")
    hub = await make_hub(tmp_path)
    try:
        async with hub.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()[:30]), publish=True)
            await session.commit()
        service = hub.service(archive_service.ArchiveIndex)
        await service.ready(analyse=False)
        assert "no saved search index" in caplog.text and service.unsaved.is_set()
        await service.save()
        assert service.path.exists() and not service.unsaved.is_set()
        before = await what_a_search_shows(hub)
        # while the bot is stopped: one solution edited, one withdrawn, six more imported
        async with hub.sessions() as session:
            repository = ArchiveRepository(session)
            edited = await repository.get(3)
            record = record_of(edited)
            record["title_en"] = "Playgrounds built by the neighbours themselves"
            await repository.save(edited, record)
            ArchiveRepository.decide(await repository.get(5), "deleted", "@mod:localhost")
            await import_records(session, "more.json", json.dumps(load_starter_archive()[30:]), publish=True)
            await session.commit()
    finally:
        await hub.close()

    caplog.clear()
    hub = await make_hub(tmp_path)
    try:
        service = hub.service(archive_service.ArchiveIndex)
        await service.ready(analyse=False)
        assert "opened from" in caplog.text and "7 changed and 1 withdrawn" in caplog.text
        records = await approved_records(hub)
        assert len(service.index) == len(records) == 35
        shown = await what_a_search_shows(hub)
        assert shown != before
        # the same pages as an index built now from the database (how many match, and the first hit)
        assert totals_and_top_hits(shown) == totals_and_top_hits(fresh_answers(records))
        assert sorted(service.index.versions()) == sorted(r["id"] for r in records)
        assert service.index.search("playgrounds neighbours").hits[0].id == record["id"]
    finally:
        await hub.close()


async def test_an_unchanged_archive_is_answered_from_the_file_exactly_as_when_built(tmp_path):
    hub = await make_hub(tmp_path)
    try:
        async with hub.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()), publish=True)
            await session.commit()
        await hub.service(archive_service.ArchiveIndex).ready(analyse=False)
        await hub.service(archive_service.ArchiveIndex).save()
    finally:
        await hub.close()
    hub = await make_hub(tmp_path)
    try:
        service = hub.service(archive_service.ArchiveIndex)
        await service.ready(analyse=False)
        assert not service.unsaved.is_set()  # nothing to catch up with: nothing to save
        assert await what_a_search_shows(hub) == fresh_answers(await approved_records(hub))
    finally:
        await hub.close()


async def test_a_damaged_file_is_logged_and_the_index_built_again(tmp_path, caplog):
    hub = await make_hub(tmp_path)
    try:
        async with hub.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()[:10]), publish=True)
            await session.commit()
        service = hub.service(archive_service.ArchiveIndex)
        service.path.parent.mkdir(parents=True, exist_ok=True)
        service.path.write_bytes(b"LHINDEX\n" + b"\xff" * 100)
        await service.ready()
        assert "saved search index not used" in caplog.text
        assert await what_a_search_shows(hub) == fresh_answers(await approved_records(hub))
        assert service.unsaved.is_set()  # and it will be saved whole again
    finally:
        await hub.close()


async def test_changes_are_saved_in_the_background_after_a_quiet_moment_and_at_the_end(tmp_path):
    hub = await make_hub(tmp_path)
    try:
        async with hub.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()[:10]), publish=True)
            await session.commit()
        service = hub.service(archive_service.ArchiveIndex)
        await service.ready()
        stopping = asyncio.Event()
        service.save_delay = 0.05
        keeper = asyncio.create_task(service.keep_saved(stopping))
        for _ in range(100):  # the start-up build is saved once it is quiet
            await asyncio.sleep(0.05)
            if service.path.exists() and not service.unsaved.is_set():
                break
        assert SearchIndex.load(service.path)[0].versions() == service.index.versions()
        service.save_delay = 3600  # a change now is saved at the end, not before
        record = dict(load_starter_archive()[20])
        await service.publish(record, version=7)
        await asyncio.sleep(0.1)
        assert record["id"] not in SearchIndex.load(service.path)[0]
        stopping.set()
        await asyncio.wait_for(keeper, 10)
        assert SearchIndex.load(service.path)[0].versions()[record["id"]] == 7
    finally:
        await hub.close()


async def test_a_leader_gets_the_same_search_reply_after_a_restart(tmp_path, caplog):
    from bot.console import ConsoleTransport

    caplog.set_level(logging.INFO, logger="commands.archive.service")
    commands_typed = ["!search bezdomność seniorzy", "!more", "!search dlugotrwale bezrobotni group:seniors",
                      "!search volunter", "!similar 3"]
    replies = []
    for start in range(2):
        hub = await make_hub(tmp_path)
        try:
            if start == 0:
                async with hub.sessions() as session:
                    await import_records(session, "starter.json", json.dumps(load_starter_archive()), publish=True)
                    await session.commit()
            console = ConsoleTransport(hub, "@leader:localhost")
            replies.append([await console.handle(text) for text in commands_typed])
            await hub.service(archive_service.ArchiveIndex).save()
        finally:
            await hub.close()
    assert "opened from" in caplog.text  # the second start read the file
    assert replies[0] == replies[1]
    assert replies[1][0][0].startswith("Wyniki: 18 dla bezdomność seniorzy")


async def test_a_file_of_another_format_version_is_logged_and_the_index_built_again(tmp_path, caplog, monkeypatch):
    import storage.search.index as index_module

    hub = await make_hub(tmp_path)
    try:
        async with hub.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()[:10]), publish=True)
            await session.commit()
        await hub.service(archive_service.ArchiveIndex).ready(analyse=False)
        await hub.service(archive_service.ArchiveIndex).save()
    finally:
        await hub.close()
    monkeypatch.setattr(index_module, "FILE_FORMAT", index_module.FILE_FORMAT + 1)  # the next version of the bot
    hub = await make_hub(tmp_path)
    try:
        service = hub.service(archive_service.ArchiveIndex)
        await service.ready()
        assert "saved search index not used" in caplog.text and "another version" in caplog.text
        assert await what_a_search_shows(hub) == fresh_answers(await approved_records(hub))
        await service.save()
        assert SearchIndex.load(service.path)[0].versions() == service.index.versions()  # the new format
    finally:
        await hub.close()


async def test_a_standby_that_becomes_active_catches_up_with_what_the_other_instance_changed(tmp_path, db_url,
                                                                                           caplog):
    """Two instances of one database: the standby's public pages built its index; meanwhile solutions are
    edited, withdrawn and imported through the active one. When the standby takes over, its start-up job
    brings that index up to date: `!search` then finds what the other instance published."""
    caplog.set_level(logging.INFO, logger="commands.archive.service")
    hubs = [await make_hub(tmp_path / name, db_url) for name in ("standby", "active")]
    standby, active = hubs
    try:
        async with active.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()[:30]), publish=True)
            await session.commit()
        service = standby.service(archive_service.ArchiveIndex)
        await service.ready()  # a search on the standby's pages
        async with active.sessions() as session:
            repository = ArchiveRepository(session)
            edited = await repository.get(3)
            record = record_of(edited)
            record["title_en"] = "Playgrounds built by the neighbours themselves"
            await repository.save(edited, record)
            ArchiveRepository.decide(await repository.get(5), "deleted", "@mod:localhost")
            await import_records(session, "more.json", json.dumps(load_starter_archive()[30:]), publish=True)
            await session.commit()
        assert len(service.index) == 30  # the standby's index does not know yet
        job = asyncio.ensure_future(archive_service.build_index_at_start(standby))  # it becomes the active one
        try:
            for _ in range(200):
                if "brought up to date" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            assert "7 solutions changed and 1 withdrawn elsewhere" in caplog.text
        finally:
            job.cancel()
        records = await approved_records(standby)
        assert len(service.index) == len(records) == 35
        shown = await what_a_search_shows(standby)
        assert totals_and_top_hits(shown) == totals_and_top_hits(fresh_answers(records))
        assert service.index.search("playgrounds neighbours").hits[0].id == record["id"]
    finally:
        for hub in hubs:
            await hub.close()


async def test_solutions_imported_from_the_command_line_while_the_bot_runs_are_found_by_the_next_search(
        tmp_path, db_url, caplog):
    """`leaders-hub archive import --publish` writes to the database the running bot reads: the next search
    after at most `check_every` seconds (one cheap query) finds what it published."""
    caplog.set_level(logging.INFO, logger="commands.archive.service")
    hubs = [await make_hub(tmp_path / name, db_url) for name in ("bot", "cli")]
    bot, cli = hubs
    try:
        service = bot.service(archive_service.ArchiveIndex)
        await service.ready()  # the start-up build: an empty archive
        async with cli.sessions() as session:
            await import_records(session, "starter.json", json.dumps(load_starter_archive()[:12]), publish=True)
            await session.commit()
        service.check_every = 3600
        assert len((await service.ready()).index) == 0  # not looked yet
        service.check_every = 0
        assert len((await service.ready()).index) == 12
        assert "12 solutions changed and 0 withdrawn" in caplog.text
        # An unchanged database: the look is one query, nothing is indexed again.
        caplog.clear()
        await service.ready()
        assert "brought up to date" not in caplog.text
        async with cli.sessions() as session:
            withdrawn = await ArchiveRepository(session).get(2)
            ArchiveRepository.decide(withdrawn, "deleted", "@mod:localhost")
            await session.commit()
        assert withdrawn.record_id in service.index
        records = await approved_records(bot)
        await service.ready()
        assert len(records) == 11 and withdrawn.record_id not in service.index  # found by no search
        assert [(total, [hit[0] for hit in hits]) for total, _, hits in await what_a_search_shows(bot)] == \
            [(total, [hit[0] for hit in hits]) for total, _, hits in fresh_answers(records)]
    finally:
        for hub in hubs:
            await hub.close()
