"""A saved and reopened search index answers exactly as the index it was saved from, also after further
changes; a file it cannot trust is refused, never half-read."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.search import SearchIndex, load_starter_archive
from storage.search.index import FILE_FORMAT
from storage.search.indexfile import MAGIC, IndexFileError

DOCS = load_starter_archive()
QUERIES = [
    "bezdomność", "bezdomnosc", "seniorzy samotni", "dlugotrwale bezrobotni", "homeless elderly", "plac zabaw",
    "mieszkanie najpierw", "housing first", "pomoc sąsiedzka", "volunteer", "kooperatywa socjalna",
    "spółdzielnia", "bezdomnośc", "semiors", "volunter", "youth unemployment", "POWER", "2024", "dzieci ulicy",
    "opieka wytchnieniowa", "respite care", "demencja", "dementia", "",
]
FILTERS = [None, {"group": "seniors"}, {"area": "housing"}, {"evidence": "3"}, {"stage": ["tested", "scaling"]},
           {"group": "homeless", "area": "housing"}, {"country": "PL"}, {"tag": "seniorzy"}]
WORDS = sorted({w for d in DOCS for w in str(d.get("description", "")).split() if w.isalpha() and len(w) > 3})


def built(docs=DOCS) -> SearchIndex:
    index = SearchIndex()
    for n, doc in enumerate(docs):
        index.add(doc, version=1000 + n)
    return index


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """An index built from the starter archive and the same index saved and opened again."""
    path = tmp_path_factory.mktemp("index") / "search-index.bin"
    fresh = built()
    fresh.save(path, {"saved": "yes"})
    loaded, meta = SearchIndex.load(path)
    assert meta == {"saved": "yes"}
    return fresh, loaded


def answers(index: SearchIndex, query: str, filters=None) -> tuple:
    """All a user can see of a search: the page, its order and scores, the corrections, the words each
    hit matched, the snippet shown, and what is suggested when nothing is found."""
    try:
        result = index.search(query, filters, 0, 40)
    except Exception as exc:  # an unknown filter value: the same error from both
        return ("error", type(exc).__name__, str(exc))
    by_id = {doc["id"]: doc for doc in DOCS}
    shown = [(hit.id, hit.score, sorted(hit.matched), [sorted(g) for g in getattr(hit.matched, "groups", ())],
              index.snippet(by_id[hit.id], hit.matched, "en") if hit.id in by_id else None) for hit in result.hits]
    suggestion = index.suggest(query, filters) if result.total == 0 else None
    return result.total, result.corrections, shown, suggestion


def assert_same(a: SearchIndex, b: SearchIndex) -> None:
    for query in QUERIES:
        for filters in FILTERS:
            assert answers(a, query, filters) == answers(b, query, filters), (query, filters)
    for doc in DOCS[:12]:
        if doc["id"] in a:
            assert a.similar(doc["id"], limit=10) == b.similar(doc["id"], limit=10)
    assert len(a) == len(b) and a.versions() == b.versions()


def test_a_reopened_index_answers_every_query_as_the_one_saved(pair):
    fresh, loaded = pair
    assert_same(fresh, loaded)
    assert loaded.stats() == fresh.stats()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), typo=st.integers(0, 30),
       filters=st.sampled_from(FILTERS), offset=st.integers(0, 10))
def test_any_query_with_typos_and_filters_gets_the_same_page(pair, words, typo, filters, offset):
    fresh, loaded = pair
    query = " ".join(words)
    if typo < len(query) and query[typo] != " ":  # a letter dropped: the typo tolerance's path
        query = query[:typo] + query[typo + 1:]
    assert answers(fresh, query, filters) == answers(loaded, query, filters)
    assert fresh.search(query, filters, offset, 5) == loaded.search(query, filters, offset, 5)


def test_changes_after_opening_give_what_the_same_changes_give_in_memory(tmp_path):
    path = tmp_path / "search-index.bin"
    rng = random.Random(16)
    built(DOCS[:30]).save(path)
    fresh, (loaded, _) = built(DOCS[:30]), SearchIndex.load(path)
    edited = dict(DOCS[3], title_en="Playgrounds built by neighbours", tags=["plac zabaw", "sąsiedzi"])
    for index in (fresh, loaded):
        index.add(edited, version=5)  # replaced: the old terms no longer find it
        index.remove(DOCS[7]["id"])
        for n, doc in enumerate(DOCS[30:]):  # new terms, and old ones whose postings leave the file
            index.add(doc, version=n)
    assert loaded.search("playgrounds neighbours").hits[0].id == DOCS[3]["id"]
    assert DOCS[7]["id"] not in {hit.id for hit in loaded.search("bezdomność", None, 0, 50).hits}
    assert_same(fresh, loaded)
    # saved again (postings now partly in the file, partly in memory) and opened again
    loaded.save(path)
    again, _ = SearchIndex.load(path)
    assert_same(fresh, again)
    # many removals: the index compacts itself
    for doc in rng.sample(DOCS, 20):
        for index in (fresh, again):
            index.remove(doc["id"])
    for index in (fresh, again):
        index.compact()
    assert_same(fresh, again)


def test_a_file_is_refused_when_damaged_or_of_another_format(tmp_path):
    path = tmp_path / "search-index.bin"
    built(DOCS[:5]).save(path)
    good = path.read_bytes()

    def refused(data: bytes) -> str:
        path.write_bytes(data)
        with pytest.raises(IndexFileError) as raised:
            SearchIndex.load(path)
        return str(raised.value)

    assert "not an index file" in refused(b"")
    assert "not an index file" in refused(b"PK\x03\x04" + good[4:])
    assert "damaged" in refused(good[:-100])  # cut short (a copy interrupted)
    assert "damaged" in refused(good + b"\0" * 64)
    header_length = int.from_bytes(good[len(MAGIC):len(MAGIC) + 8], "little")
    assert "cannot be read" in refused(good[:len(MAGIC) + 8] + b"{" * header_length + good[len(MAGIC) + 8 + header_length:])
    # a file of another format version or other settings (its terms would be other terms)
    header = json.loads(good[len(MAGIC) + 8: len(MAGIC) + 8 + header_length])
    header["meta"]["signature"] = "0" * 40
    text = json.dumps(header).encode().ljust(header_length)
    assert "another version" in refused(good[:len(MAGIC)] + good[len(MAGIC):len(MAGIC) + 8] + text[:header_length]
                                        + good[len(MAGIC) + 8 + header_length:])
    path.write_bytes(good)
    with pytest.raises(IndexFileError, match="another version"):
        SearchIndex.load(path, field_weights={"title": 2.0, "meta": 1.5, "description": 1.5, "body": 1.0})
    assert FILE_FORMAT >= 1
    with pytest.raises(IndexFileError, match="no such file"):
        SearchIndex.load(tmp_path / "missing.bin")


def test_a_damaged_section_is_refused(tmp_path):
    path = tmp_path / "search-index.bin"
    built(DOCS[:5]).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b'["', len(MAGIC) + 8 + int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little"))
    data[start] = ord("{")  # the first JSON section broken
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError):
        SearchIndex.load(path)


def test_saving_replaces_the_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "search-index.bin"
    built(DOCS[:5]).save(path)
    before = path.read_bytes()
    index = built(DOCS[:10])
    import storage.search.indexfile as indexfile

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(indexfile.os, "fsync", failing)
    with pytest.raises(OSError):
        index.save(path)
    assert path.read_bytes() == before  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left behind
