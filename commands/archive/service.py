"""The search index of the approved solutions, and the state of each user's last search.

At start (when the bot has connected) the index saved in the hub's cache folder is opened — memory-mapped,
so a search can be answered a moment later — and brought up to date with the solutions approved, changed
or withdrawn since it was saved (each indexed solution keeps its row's `index_version`). Without a usable
file (none yet, damaged, written by another version of the search) the index is built from every approved
solution in a worker thread, as before. While it is opened or built, a search waits for it.

Publishing and withdrawing keep it current; the changed index is saved again in the background, after a
quiet moment (`SAVE_DELAY`) and at shutdown, never on every change. Solutions are not kept in memory: the
ones a page of results shows are read from the database."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.archive import ArchiveRepository, index_version, record_of
from storage.search.analyzer import use_lemma_cache

from . import commands

if TYPE_CHECKING:
    from storage.search import SearchIndex

log = logging.getLogger(__name__)

INDEX_FILE = "search-index.bin"  # in the hub's cache folder: it can always be rebuilt from the database
SAVE_DELAY = 30.0  # seconds without a change before a changed index is saved
BATCH = 1000  # solutions read and indexed at a time
CHECK_EVERY = 30.0  # seconds between two looks at whether the database changed under the index
LIVE_BATCH = 50  # solutions indexed between two turns of the event loop in an index that searches read


@commands.service
class ArchiveIndex:
    """``hub.service(ArchiveIndex)``: ``await ready()`` gives it built (and, for analysing text, with the
    lemma dictionaries open)."""

    def __init__(self, hub: Any):
        self.hub = hub
        self.last: dict[str, tuple[str, dict, int]] = {}  # user → (query, filters, next offset)
        self._index: SearchIndex | None = None
        self.analysing = False  # the lemma dictionaries are open
        self.built = False
        self.check_every = CHECK_EVERY
        self._fingerprint: tuple[Any, ...] | None = None  # the database's, when the index was last brought up to date
        self._checked_at = 0.0
        self.save_delay = SAVE_DELAY
        self.unsaved = asyncio.Event()  # the index has changes its file has not
        self._lock = asyncio.Lock()  # opening or building it, opening the dictionaries
        self._writing = asyncio.Lock()  # a change, or a save (which reads the index in a worker thread)

    @property
    def index(self) -> "SearchIndex":
        if self._index is None:
            from storage.search import SearchIndex  # numpy: not loaded while the archive is empty

            self._index = SearchIndex()
        return self._index

    @property
    def path(self) -> Path:
        return Path(self.hub.cache_dir) / INDEX_FILE

    def published(self, record_id: str) -> bool:
        return self._index is not None and record_id in self._index

    async def ready(self, analyse: bool = True) -> "ArchiveIndex":
        """Built on first use. ``analyse``: the caller will analyse text (search, add a record), so the lemma
        dictionaries are opened first in a worker thread: the first time after an install that writes their
        files (~7 s), which must not stall the event loop. The start-up build of an empty archive does not
        open them (memory)."""
        if not self.built:
            await self._build()
        elif time.monotonic() - self._checked_at >= self.check_every:
            await self._catch_up_if_changed()
        if analyse and not self.analysing:
            async with self._lock:
                if not self.analysing:
                    await asyncio.to_thread(self.index.analyzer.warm_up)
                    self.analysing = True
        return self

    async def _build(self) -> None:
        async with self._lock:
            if self.built:
                return
            use_lemma_cache(self.hub.cache_dir)  # ~2 MB of memory instead of ~47 MB
            versions = await self._versions()
            if not versions:  # nothing to search: no numpy, no dictionaries, no file
                self.path.unlink(missing_ok=True)
                self.built = True
                return
            index = await asyncio.to_thread(self._open)
            known = index.versions() if index is not None else {}
            target = index if index is not None else self.index
            gone, stale = await self._bring_up_to_date(target, known, versions, live=False)
            if index is not None:
                log.info("search index opened from %s: %d solutions, %d changed and %d withdrawn since it was saved",
                         self.path, len(known), len(stale), len(gone))
                self._index = index
            self.analysing = bool(stale)  # indexing the records opened the dictionaries
            self.built = True

    async def _catch_up_if_changed(self) -> None:
        """Solutions imported from the command line, or changed through another instance, while this one runs:
        seen by the next search (at most every ``check_every`` seconds one cheap query asks)."""
        self._checked_at = time.monotonic()
        async with self.hub.sessions() as session:
            fingerprint = await ArchiveRepository(session).fingerprint()
        if fingerprint != self._fingerprint:
            await self.catch_up()

    async def catch_up(self) -> None:
        """Built, or brought up to date with the database: what was approved, edited or withdrawn through
        another instance since this one built its index (a standby's public pages build it; the standby
        becomes the active one later)."""
        if not self.built:
            await self._build()
            return
        async with self._lock:
            versions = await self._versions()
            if not versions and self._index is None:  # still nothing to search
                return
            async with self._writing:
                known = self._index.versions() if self._index is not None else {}
                gone, stale = await self._bring_up_to_date(self.index, known, versions, live=True)
            if gone or stale:
                log.info("search index brought up to date: %d solutions changed and %d withdrawn elsewhere",
                         len(stale), len(gone))
                self.analysing = self.analysing or bool(stale)

    async def _versions(self) -> dict[str, int]:
        """The approved solutions' versions, and the fingerprint they go with (read first: a change made
        in between is caught up with at the next look)."""
        async with self.hub.sessions() as session:
            repository = ArchiveRepository(session)
            self._fingerprint = await repository.fingerprint()
            self._checked_at = time.monotonic()
            return await repository.approved_versions()

    async def _bring_up_to_date(self, target: "SearchIndex", known: dict[str, int], versions: dict[str, int],
                                live: bool) -> tuple[list[str], list[str]]:
        """Index in ``target`` (holding ``known``) the approved solutions of ``versions`` it lacks or holds
        in another version, and drop those no longer approved; returns (dropped, indexed). An index not yet
        searched is changed in a worker thread; a ``live`` one, which searches read meanwhile, on the event
        loop a few solutions at a time (a search sees each one whole, before or after)."""
        gone = [record_id for record_id in known if record_id not in versions]
        stale = [record_id for record_id, version in versions.items() if known.get(record_id) != version]
        if live:
            for start in range(0, len(gone), LIVE_BATCH):
                _update(target, gone[start:start + LIVE_BATCH], [])
                await asyncio.sleep(0)
        else:
            await asyncio.to_thread(_update, target, gone, [])  # many gone: a compaction, seconds
        # A batch of solutions at a time, read then indexed: the first start with a large archive never
        # holds all its records in memory at once.
        for start in range(0, len(stale), BATCH):
            async with self.hub.sessions() as session:
                rows = await ArchiveRepository(session).by_record_ids(stale[start:start + BATCH])
            rows.sort(key=lambda row: row.number)
            records = [(record_of(row), index_version(row)) for row in rows]
            del rows
            if live:
                if not self.analysing:  # opening the dictionaries may take seconds: not on the event loop
                    await asyncio.to_thread(target.analyzer.warm_up)
                    self.analysing = True
                for first in range(0, len(records), LIVE_BATCH):
                    _update(target, [], records[first:first + LIVE_BATCH])
                    await asyncio.sleep(0)
            else:
                await asyncio.to_thread(_update, target, [], records)
        if gone or stale:
            self.unsaved.set()
        return gone, stale

    def _open(self) -> "SearchIndex | None":
        """The saved index, or None (logged) when there is none that can be used."""
        from storage.search import SearchIndex
        from storage.search.indexfile import IndexFileError

        if not self.path.exists():
            log.info("no saved search index (%s): building it from the database", self.path)
            return None
        try:
            index, _ = SearchIndex.load(self.path)
        except IndexFileError as exc:
            log.warning("saved search index not used, building it again from the database: %s", exc)
            return None
        except Exception:  # whatever is in that file, the bot starts and its search works
            log.exception("saved search index %s could not be read, building it again from the database", self.path)
            return None
        return index

    async def publish(self, record: dict[str, Any], version: int = 0) -> None:
        """Index a solution approved or edited; ``version``: its row's `index_version` after the change."""
        await self.ready()
        async with self._writing:
            self.index.add(record, version)  # replaces the record's earlier version
        self.unsaved.set()

    async def unpublish(self, record_id: str) -> None:
        await self.ready()
        async with self._writing:
            removed = self.index.remove(record_id) if self._index is not None else False
        if removed:
            self.unsaved.set()

    async def save(self) -> None:
        """Write the index to its file now (in a worker thread; changes wait meanwhile)."""
        async with self._writing:
            if self._index is None:
                return
            self.unsaved.clear()
            try:
                await asyncio.to_thread(self._index.save, self.path)
            except OSError as exc:
                log.warning("search index not saved to %s: %s", self.path, exc)

    async def keep_saved(self, stopping: asyncio.Event) -> None:
        """Save the index once changes have stopped coming for `save_delay` seconds (an import or a
        moderator going through the queue changes it many times in a row), and at the end if it changed."""
        while not stopping.is_set():
            if not await _first(self.unsaved, stopping):
                break
            try:
                await asyncio.wait_for(stopping.wait(), timeout=self.save_delay)
            except TimeoutError:
                pass
            await self.save()
        if self.unsaved.is_set():
            await self.save()


def _update(index: "SearchIndex", gone: list[str], records: list[tuple[dict[str, Any], int]]) -> None:
    for record_id in gone:
        index.remove(record_id)
    for record, version in records:
        index.add(record, version)


async def _first(event: asyncio.Event, stopping: asyncio.Event) -> bool:
    """Waits for `event` or `stopping`; True if `event` is set."""
    waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stopping.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return event.is_set()


@commands.background
async def build_index_at_start(hub: Any) -> None:
    """Open (or build) the search index once the bot is connected as the active instance, so the first search
    need not wait, or bring up to date the one its pages built while it was a standby; then keep its file
    current."""
    service = hub.service(ArchiveIndex)
    await service.catch_up()
    await service.keep_saved(hub.platform.stopping if hub.platform is not None else asyncio.Event())
