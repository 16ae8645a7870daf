"""Polish ↔ English translations of search keys, for cross-language search of any text.

The concept lexicon (analyzer.LEXICON) bridges the two languages for ~65 social-policy
concepts; this bridges them for ordinary words: a record shared in Polish ("Kawiarenka
naprawcza") is found by an English query ("repair"), and the other way round.

The source is `data/pl_en.tsv`: 33 000 Polish headwords with their English translations,
derived from FreeDict's Polish-English WikDict dictionary (Wiktionary; CC BY-SA 3.0, see the
file's header and scripts/build_pl_en_dictionary.py). It ships in the package: nothing is
downloaded. Its words are turned into the analyzer's keys once, into a SQLite file in the
folder that also holds the lemma dictionaries (`analyzer.use_lemma_cache`), so translations
cost next to no memory; without such a folder (tests, benchmarks) the same table is built in
memory. Both directions come from the one dictionary: English → Polish is its inverse, the
Polish words whose first translations the English word is coming first.

A look-up gives target keys with a relative weight: 1 for a direct translation, less for
a word reached through a Polish derivational family ("naprawcza" has no "repair" among its
own translations, "naprawa" has; "kawiarenka" is not a headword, "kawiarnia" is) and for a
word of a multi-word translation ("język migowy" → "sign language" → sign, language).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .analyzer import Analyzer

log = logging.getLogger(__name__)

SOURCE = Path(__file__).parent / "data" / "pl_en.tsv"
FORMAT = 1            # of the keyed file: part of its name, so a change builds a new file
MAX_TARGETS = 8       # translations kept per word, best first
FAMILY_STEM = 6       # letters a Polish word shares with its derivational relatives, at least
FAMILY_SLACK = 2      # ... and all but this many letters of the shorter of the two
FAMILY_LIMIT = 4      # relatives looked at per word
INDIRECT = 0.7        # weight of a relative's translation, or of a word of a phrase


def _family(a: str, b: str) -> bool:
    """Whether two Polish keys look like one word family: "naprawcz" ~ "napraw",
    "kawiarenk" ~ "kawiarn"; not "rodzin" ~ "rodzic" (five letters in common)."""
    if " " in a or " " in b:
        return False
    common = len(os.path.commonprefix([a, b]))
    return common >= FAMILY_STEM and common >= min(len(a), len(b)) - FAMILY_SLACK


class Translations:
    """The keyed dictionary: (language, source key or key phrase) → target keys, best first."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = threading.Lock()  # built in the index's worker thread, read in the event loop's
        self.lookup = lru_cache(maxsize=4096)(self._lookup)

    def _targets(self, lang: str, source: str, limit: int = MAX_TARGETS) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT target FROM pair WHERE lang = ? AND source = ? ORDER BY rank LIMIT ?",
                                    (lang, source, limit)).fetchall()
        return [row[0] for row in rows]

    def _relatives(self, key: str) -> list[str]:
        """Polish headword keys of the same derivational family as `key`, closest first."""
        if len(key) < FAMILY_STEM or " " in key:
            return []
        stem = key[:FAMILY_STEM]
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT source FROM pair WHERE lang = 'pl' AND source >= ? AND source < ?",
                                    (stem, stem + "\uffff")).fetchall()
        found = [row[0] for row in rows if row[0] != key and _family(key, row[0])]
        found.sort(key=lambda other: (-len(os.path.commonprefix([key, other])), abs(len(other) - len(key)), other))
        return found[:FAMILY_LIMIT]

    def _lookup(self, lang: str, source: str) -> tuple[tuple[str, float], ...]:
        """Keys in the other language for `source` (a key, or keys joined by spaces) read in
        `lang`, each with its relative weight (1 direct, INDIRECT through a relative or a phrase)."""
        weights: dict[str, float] = {}

        def add(target: str, weight: float) -> None:
            words = target.split(" ")
            if len(words) > 1:
                weight *= INDIRECT
            for word in words:
                if word != source and weights.get(word, 0.0) < weight:
                    weights[word] = weight

        direct = self._targets(lang, source)
        for target in direct:
            add(target, 1.0)
        if lang == "pl":
            for relative in self._relatives(source):
                for target in self._targets("pl", relative, MAX_TARGETS // 2):
                    add(target, INDIRECT)
        else:  # Polish targets reach their relatives too: "repair" → naprawa → naprawczy
            for target in direct:
                for relative in self._relatives(target):
                    add(relative, INDIRECT)
        return tuple(sorted(weights.items(), key=lambda item: (-item[1], item[0])))

    def close(self) -> None:
        self._db.close()


# -- building the keyed file ---------------------------------------------------------------------

def source_entries(path: Path = SOURCE) -> Iterator[tuple[str, list[str]]]:
    """(Polish headword, English translations) of the shipped dictionary."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#") or "\t" not in line:
                continue
            word, _, translations = line.rstrip("\n").partition("\t")
            yield word, translations.split(" | ")


def _key_phrase(analyzer: "Analyzer", text: str, lang: str) -> str:
    """The keys of a headword or translation, joined by spaces; "" when a word of it is a
    stopword, since the phrase then means more than its keys: "z domu" is "née", not "dom",
    and "on the house" is not "house". The reflexive "się" is only left out ("bać się")."""
    tokens = [token for token in analyzer.tokens(text) if token != "się"]
    keys = analyzer.keys(tokens, lang)
    return " ".join(keys) if len(keys) == len(tokens) else ""


def _pairs(analyzer: "Analyzer", path: Path) -> Iterator[tuple[str, str, int, str]]:
    """(lang, source, rank, target) rows, both directions. The rank orders a word's targets:
    a Polish word's translations in the dictionary's order; for an English word, the Polish
    words that give it as an earlier translation, and with fewer translations, first."""
    for word, translations in source_entries(path):
        source = _key_phrase(analyzer, word, "pl")
        if not source:
            continue
        for position, translation in enumerate(translations):
            target = _key_phrase(analyzer, translation, "en")
            if target and target != source:
                yield "pl", source, position, target
                yield "en", target, position * 100 + min(99, len(translations)), source


def build(analyzer: "Analyzer", db: sqlite3.Connection, path: Path = SOURCE) -> None:
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE pair (lang TEXT NOT NULL, source TEXT NOT NULL, rank INTEGER NOT NULL,"
               " target TEXT NOT NULL, PRIMARY KEY (lang, source, target)) WITHOUT ROWID")
    db.executemany("INSERT INTO pair VALUES (?, ?, ?, ?)"
                   " ON CONFLICT DO UPDATE SET rank = min(rank, excluded.rank)", _pairs(analyzer, path))
    db.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT),))
    db.commit()


def _build_file(analyzer: "Analyzer", target: Path, path: Path) -> None:
    db = sqlite3.connect(target)
    try:
        build(analyzer, db, path)
    finally:
        db.close()


def _build_in_child(analyzer: "Analyzer", target: Path, path: Path) -> None:
    """Builds the keyed file in a new Python process: lemmatising 90 000 words fills caches
    (the analyzer's, `fold`'s) that would stay in the bot's memory (~25 MB) after the build.
    The child reads the lemmas where this process does (the same keys)."""
    from .analyzer import lemma_cache_folder

    lemma_folder = lemma_cache_folder()
    root = Path(__file__).resolve().parents[2]  # the folder holding `storage`: the child runs this code
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "storage.search.translations", str(target), str(path),
                           _settings(analyzer), str(lemma_folder or "")], env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise OSError(done.stderr.strip()[-500:] or f"exit status {done.returncode}")


def _settings(analyzer: "Analyzer") -> str:
    return "".join("1" if on else "0" for on in (analyzer.folding, analyzer.lemmas, analyzer.stopwords))


def file_name(analyzer: "Analyzer", path: Path = SOURCE) -> str:
    """The keyed file's name: it changes with the dictionary, the analyzer's settings and
    simplemma's version (the keys are lemmas), so any of these builds a new file."""
    from simplemma import __version__

    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:10]
    return f"translations-pl-en-{digest}-a{_settings(analyzer)}-simplemma{__version__}-v{FORMAT}.sqlite"


def open_translations(analyzer: "Analyzer", folder: Path | None, path: Path = SOURCE) -> Translations:
    """The keyed dictionary for `analyzer`'s keys: read from `folder` (built there once), or
    built in memory when there is no folder or it cannot be written."""
    if folder is not None:
        try:
            return _open_file(analyzer, Path(folder), path)
        except (OSError, sqlite3.Error, ValueError) as exc:
            log.warning("translations are built in memory (no keyed file in %s: %s: %s)",
                        folder, type(exc).__name__, exc)
    db = sqlite3.connect(":memory:", check_same_thread=False)
    build(analyzer.fresh(), db, path)
    return Translations(db)


def _open_file(analyzer: "Analyzer", folder: Path, path: Path) -> Translations:
    target = folder / file_name(analyzer, path)
    if target.exists():
        db = sqlite3.connect(f"file:{target}?mode=ro", uri=True, check_same_thread=False)
        try:
            if db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == (str(FORMAT),):
                return Translations(db)
        except sqlite3.Error:
            pass
        db.close()
        log.warning("%s is damaged: building it again", target)
        target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        try:
            _build_in_child(analyzer, partial, path)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("building %s in a child process failed (%s): building it here", target.name, exc)
            partial.unlink(missing_ok=True)
            _build_file(analyzer.fresh(), partial, path)
        os.replace(partial, target)  # a file under the final name is complete
    finally:
        partial.unlink(missing_ok=True)
    for old in folder.glob(f"translations-pl-en-*-a{_settings(analyzer)}-*.sqlite"):
        if old != target:
            old.unlink(missing_ok=True)  # left by an earlier dictionary or simplemma
    return Translations(sqlite3.connect(f"file:{target}?mode=ro", uri=True, check_same_thread=False))


def _child(argv: list[str]) -> None:
    """`python -m storage.search.translations TARGET SOURCE SETTINGS LEMMA_FOLDER`: see _build_in_child."""
    from .analyzer import Analyzer, use_lemma_cache

    target, source, settings, lemmas = argv
    use_lemma_cache(Path(lemmas) if lemmas else None)
    folding, lemmas_on, stopwords = (flag == "1" for flag in settings)
    _build_file(Analyzer(folding=folding, lemmas=lemmas_on, stopwords=stopwords, lexicon=None), Path(target), Path(source))


if __name__ == "__main__":
    _child(sys.argv[1:])
