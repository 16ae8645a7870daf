"""simplemma's dictionaries as a compact on-disk lookup, so the lemmas cost next to no memory.

simplemma's low-memory dictionaries keep a language's whole decompressed stream in memory
with a block index of Python objects: ~47 MB of RSS for Polish (3.7 million word forms), and
~4 s to load in every process. `DiskDictionaryFactory` writes the same entries, once, into a
SQLite file in a cache folder (blocks of 64 consecutive entries, zlib-compressed: 16.5 MB for
Polish, 0.9 MB for English; ~7 s to build), then only reads it: a look-up reads one block
through SQLite's page cache (~2 MB at most). Building it takes memory for a moment (simplemma's
decompressed stream, as its own loader does) and gives it back. The file is built from the data
pip installed with simplemma, nothing is downloaded; its name carries simplemma's version, so an
upgrade builds a new one (and removes the old).

The entries, their order and the look-up rule are simplemma's own (its ``StreamMap``), so every
look-up answers what simplemma's would; tests/unit/test_search_lemmas.py compares them. Reading
simplemma's stream uses its ``frontcode`` decoder, which is not public API: if it is missing or
the folder cannot be written, the factory says so in the log and uses simplemma's in-memory
dictionaries, with the same results.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT = 1  # of the file: part of its name, so a change builds a new file
BLOCK = 64  # entries a block: a look-up decompresses ~1.4 kB


class DiskDictionaryFactory:
    """A simplemma ``DictionaryFactory`` whose dictionaries are SQLite files in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._dictionaries: dict[str, Mapping[str, str]] = {}
        self._lock = threading.Lock()

    def get_dictionary(self, lang: str) -> Mapping[str, str]:
        dictionary = self._dictionaries.get(lang)
        if dictionary is None:
            with self._lock:  # the index is built in a worker thread, searched in the event loop's
                dictionary = self._dictionaries.get(lang)
                if dictionary is None:
                    dictionary = self._dictionaries[lang] = self._open(lang)
        return dictionary

    def path(self, lang: str) -> Path:
        from simplemma import __version__

        return self.folder / f"lemmas-{lang}-simplemma{__version__}-v{FORMAT}.sqlite"

    def _open(self, lang: str) -> Mapping[str, str]:
        try:
            path = self.path(lang)
            if path.exists():
                try:
                    return DiskDictionary(path)
                except (ValueError, sqlite3.Error) as exc:
                    log.warning("%s is damaged (%s): building it again", path, exc)
                    path.unlink()
            build(lang, path)
            for old in self.folder.glob(f"lemmas-{lang}-*.sqlite"):
                if old != path:
                    old.unlink(missing_ok=True)  # left by an earlier simplemma
            return DiskDictionary(path)
        except (ImportError, AttributeError, ValueError, OSError, sqlite3.Error) as exc:
            from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

            log.warning("lemmas for %r stay in memory (no on-disk dictionary in %s: %s: %s)",
                        lang, self.folder, type(exc).__name__, exc)
            return LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(lang)


class DiskDictionary(Mapping[str, str]):
    """One language's dictionary file: read-only, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
            if meta.get("format") != str(FORMAT) or meta.get("reverse") not in ("0", "1"):
                raise ValueError(f"{path}: not a dictionary of format {FORMAT}")
            self._reverse = meta["reverse"] == "1"  # keys stored reversed (simplemma's choice per language)
            self._count = int(meta.get("count", ""))
        except BaseException:
            self._db.close()
            raise

    def get(self, key: str, default=None):
        target = key.encode()
        if self._reverse:
            target = target[::-1]
        with self._lock:
            row = self._db.execute("SELECT entries FROM block WHERE first <= ? ORDER BY first DESC LIMIT 1",
                                   (target,)).fetchone()
        if row is not None:
            for entry in zlib.decompress(row[0]).split(b"\n"):
                stored, _, value = entry.partition(b"\t")
                if stored == target:
                    return (value[::-1] if self._reverse else value).decode()
                if stored > target:
                    break
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.entries())

    def __len__(self) -> int:
        return self._count

    def entries(self) -> Iterator[tuple[str, str]]:
        """Every (word form, lemma), in the stored order."""
        where = ""
        after: tuple[str, ...] = ()
        while True:
            with self._lock:  # a page of blocks at a time: look-ups from other threads go on meanwhile
                rows = self._db.execute(f"SELECT first, entries FROM block {where} ORDER BY first LIMIT 256",
                                        after).fetchall()
            if not rows:
                return
            where, after = "WHERE first > ?", (rows[-1][0],)
            for _, blob in rows:
                for entry in zlib.decompress(blob).split(b"\n"):
                    stored, _, value = entry.partition(b"\t")
                    if self._reverse:
                        stored, value = stored[::-1], value[::-1]
                    yield stored.decode(), value.decode()

    def close(self) -> None:
        self._db.close()


def build(lang: str, path: Path) -> None:
    """Write simplemma's dictionary of `lang` to `path` (atomically: a file there is complete)."""
    from simplemma.strategies.dictionaries import frontcode
    from simplemma.strategies.dictionaries.dictionary_factory import _read_decompressed

    data = _read_decompressed(lang)
    reverse, count, start = frontcode._read_header(data)
    written = 0

    def blocks() -> Iterator[tuple[bytes, bytes]]:
        nonlocal written
        entries: list[bytes] = []
        first = b""
        for _, stored, value in frontcode._iter_records(data, start):
            if b"\t" in stored or b"\n" in stored or b"\n" in value:
                raise ValueError(f"a {lang} dictionary entry this format cannot hold: {stored!r}")
            if not entries:
                first = stored
            entries.append(stored + b"\t" + value)
            written += 1
            if len(entries) == BLOCK:
                yield first, zlib.compress(b"\n".join(entries))
                entries = []
        if entries:
            yield first, zlib.compress(b"\n".join(entries))

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        db = sqlite3.connect(partial)
        try:
            db.execute("PRAGMA journal_mode=OFF")  # a new file, renamed into place only when complete
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE block (first BLOB PRIMARY KEY, entries BLOB NOT NULL)")
            db.executemany("INSERT INTO block VALUES (?, ?)", blocks())
            if written != count:
                raise ValueError(f"the {lang} dictionary has {written} entries, its header says {count}")
            db.executemany("INSERT INTO meta VALUES (?, ?)",
                           [("format", str(FORMAT)), ("reverse", "1" if reverse else "0"), ("count", str(count))])
            db.commit()
        finally:
            db.close()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
