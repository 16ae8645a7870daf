"""The search index of the approved solutions: built once (in a worker thread, when the bot has connected),
kept current as solutions are published and withdrawn, and the state of each user's last search."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from storage.archive import ArchiveRepository, record_of
from storage.search.analyzer import use_lemma_cache

from . import commands

if TYPE_CHECKING:
    from storage.search import SearchIndex


@commands.service
class ArchiveIndex:
    """``hub.service(ArchiveIndex)``: ``await ready()`` gives it built (and, for analysing text, with the
    lemma dictionaries open)."""

    def __init__(self, hub: Any):
        self.hub = hub
        self.records: dict[str, tuple[int, dict[str, Any]]] = {}  # record id → (#, record)
        self.last: dict[str, tuple[str, dict, int]] = {}  # user → (query, filters, next offset)
        self._index: SearchIndex | None = None
        self.analysing = False  # the lemma dictionaries are open
        self.built = False
        self._lock = asyncio.Lock()

    @property
    def index(self) -> "SearchIndex":
        if self._index is None:
            from storage.search import SearchIndex  # numpy: not loaded while the archive is empty

            self._index = SearchIndex()
        return self._index

    def put(self, number: int, record: dict[str, Any]) -> None:
        if record["id"] in self.records:
            self.index.remove(record["id"])
        self.index.add(record)
        self.records[record["id"]] = (number, record)

    def drop(self, record_id: str) -> None:
        if self.records.pop(record_id, None) is not None:
            self.index.remove(record_id)

    async def ready(self, analyse: bool = True) -> "ArchiveIndex":
        """Built on first use. ``analyse``: the caller will analyse text (search, add a record), so the lemma
        dictionaries are opened first in a worker thread: the first time after an install that writes their
        files (~7 s), which must not stall the event loop. The start-up build of an empty archive does not
        open them (memory)."""
        if not self.built:
            await self._build()
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
            async with self.hub.sessions() as session:
                rows = [(row.number, record_of(row)) for row in await ArchiveRepository(session).approved()]

            def build() -> None:
                for number, record in rows:
                    self.index.add(record)
                    self.records[record["id"]] = (number, record)

            await asyncio.to_thread(build)
            self.analysing = bool(rows)  # indexing the records opened the dictionaries
            self.built = True

    async def publish(self, number: int, record: dict[str, Any]) -> None:
        (await self.ready()).put(number, record)

    async def unpublish(self, record_id: str) -> None:
        (await self.ready()).drop(record_id)


@commands.background
async def build_index_at_start(hub: Any) -> None:
    """Build the search index once the bot is connected, so the first search need not wait."""
    await hub.service(ArchiveIndex).ready(analyse=False)
