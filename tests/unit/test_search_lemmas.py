"""The lemma dictionaries on disk (storage/search/lemmas.py) answer exactly what simplemma's
in-memory ones answer, so the search finds and ranks the same; and they fail safe."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from simplemma.strategies import DictionaryLookupStrategy
from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY, frontcode
from simplemma.strategies.dictionaries.dictionary_factory import _read_decompressed

from bot.config import parse_config
from bot.config import cache_dir
from storage.search import SearchIndex, load_starter_archive
from storage.search.analyzer import LANGS, _Lemmatiser, use_lemma_cache
from storage.search.lemmas import DiskDictionary, DiskDictionaryFactory

RELEVANCE = Path(__file__).resolve().parents[2] / "storage" / "search" / "data" / "relevance.json"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """One folder of built dictionaries for the whole module (Polish takes ~7 s to build)."""
    folder = tmp_path_factory.mktemp("lemmas")
    factory = DiskDictionaryFactory(folder)
    for lang in LANGS:
        assert isinstance(factory.get_dictionary(lang), DiskDictionary)
    return folder


@pytest.fixture
def disk_lemmas(folder):
    use_lemma_cache(folder)
    yield folder
    use_lemma_cache(None)


def test_every_english_entry_is_simplemmas(folder):
    shipped = frontcode._decode_stream(_read_decompressed("en"))
    disk = DiskDictionaryFactory(folder).get_dictionary("en")
    assert len(disk) == len(shipped)
    assert dict(disk.entries()) == {key.decode(): value.decode() for key, value in shipped.items()}


def words_that_matter() -> set[str]:
    """Every word of the starter archive and of the judged queries, as typed and in other cases."""
    texts = [json.dumps(load_starter_archive(), ensure_ascii=False)]
    texts += [query["query"] for query in json.loads(RELEVANCE.read_text("utf-8"))["queries"]]
    words = {word for text in texts for word in re.findall(r"[^\W_]+", text)}
    return words | {w.lower() for w in words} | {w.capitalize() for w in words} | {w.upper() for w in words}


def test_lookups_answer_as_simplemma_does(folder):
    disk = DictionaryLookupStrategy(DiskDictionaryFactory(folder))
    memory = DictionaryLookupStrategy(LOW_MEMORY_DICTIONARY_FACTORY)
    words = words_that_matter() | {"", "a", "zzzz", "żółć", "Łódź", "aaaaaaaaaaaa"}
    for lang in LANGS:
        found = {word: memory.get_lemma(word, lang) for word in words}
        assert {word: disk.get_lemma(word, lang) for word in words} == found
        assert sum(lemma is not None for lemma in found.values()) > len(words) / 4  # a real comparison
    first = next(iter(DiskDictionaryFactory(folder).get_dictionary("pl")))
    assert first == next(iter(LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary("pl")))  # the same order


def test_the_search_finds_and_ranks_the_same_with_lemmas_on_disk(disk_lemmas):
    queries = [query["query"] for query in json.loads(RELEVANCE.read_text("utf-8"))["queries"]]
    queries += ["bezdomnosc", "seniorów opieka", "dlugotrwale bezrobotni", "homelesness", "Housing First"]

    def results() -> list:
        index = SearchIndex()
        index.add_many(load_starter_archive())
        return [[(hit.id, hit.score, sorted(hit.matched)) for hit in index.search(q, limit=20).hits] for q in queries]

    on_disk = results()
    use_lemma_cache(None)
    assert results() == on_disk


def test_a_folder_that_cannot_be_written_keeps_the_lemmas_in_memory(tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    lemmatiser = _Lemmatiser()
    lemmatiser.use_cache(blocked)
    with caplog.at_level(logging.WARNING):
        assert lemmatiser("rodzinom", "pl") == _Lemmatiser()("rodzinom", "pl") == "rodzina"
    assert "stay in memory" in caplog.text


def test_a_damaged_or_outdated_file_is_built_again(tmp_path, caplog):
    factory = DiskDictionaryFactory(tmp_path)
    path = factory.path("en")
    path.write_bytes(b"not a database")
    outdated = tmp_path / "lemmas-en-simplemma0.1-v1.sqlite"
    outdated.write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        dictionary = factory.get_dictionary("en")
    assert isinstance(dictionary, DiskDictionary) and dictionary.get("families") == "family"
    assert "damaged" in caplog.text
    assert not outdated.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no partial file left


def test_the_bot_keeps_them_in_its_data_folder(tmp_path):
    config = parse_config('[matrix]\nuser_id = "@hub:x"\npassword = "p"\nstore_path = "data/store"\n',
                          tmp_path / "config.toml", env={})
    assert cache_dir(config) == tmp_path / "data" / "cache"
