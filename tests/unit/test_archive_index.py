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
