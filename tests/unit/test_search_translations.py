"""Cross-language search of any shared text, through the Polish-English dictionary
(storage/search/translations.py): a leader's query in one language finds solutions written in
the other, on topics the built-in concept lexicon knows nothing about."""

from __future__ import annotations

import logging
import os

import pytest

from storage.search import SearchIndex
from storage.search.analyzer import Analyzer
from storage.search.translations import SOURCE, file_name, open_translations, source_entries


def record(doc_id, title, description, lang):
    return {"id": doc_id, "title_original": title, "original_language": lang,
            "description": description, "description_lang": lang}


KAWIARENKA = record("pl-repair", "Kawiarenka naprawcza",
                    "Raz w miesiącu sąsiedzi przynoszą zepsute czajniki i lampy, a złote rączki pokazują, "
                    "jak je uratować, zamiast wyrzucać.", "pl")
REPAIR_CAFE = record("en-repair", "Repair café",
                     "Once a month neighbours bring broken kettles and lamps, and handy volunteers show them "
                     "how to save them instead of throwing them away.", "en")
OTHERS = [record("pl-club", "Klub seniora", "Spotkania i zajęcia dla osób starszych w gminie.", "pl"),
          record("en-club", "Lunch club", "Older people meet for a hot meal and company.", "en")]


def ids(result):
    return [hit.id for hit in result.hits]


def index_of(*records):
    index = SearchIndex()
    index.add_many(records)
    return index


def test_a_solution_shared_in_polish_is_found_in_english_and_the_other_way_round():
    assert ids(index_of(KAWIARENKA, *OTHERS).search("repair")) == ["pl-repair"]
    assert ids(index_of(REPAIR_CAFE, *OTHERS).search("kawiarenka naprawcza")) == ["en-repair"]


def test_a_record_in_the_querys_own_language_comes_before_a_translated_match():
    both = index_of(KAWIARENKA, REPAIR_CAFE, *OTHERS)
    assert ids(both.search("repair")) == ["en-repair", "pl-repair"]
    assert ids(both.search("kawiarenka naprawcza")) == ["pl-repair", "en-repair"]


@pytest.mark.parametrize("query, written, lang", [
    ("borrow a drill", "Biblioteka publiczna wypożycza wiertarki, drabiny i namioty na kartę czytelnika.", "pl"),
    ("bees honey", "Na dachu ratusza stoją ule; pszczelarz uczy uczniów, skąd się bierze miód.", "pl"),
    ("swimming lessons", "Basen miejski uczy dorosłych pływać w małych grupach, za darmo.", "pl"),
    ("plac zabaw", "Children draw the swings and slides of the new playground before it is built.", "en"),
    ("język migowy", "Deaf people call an interpreter who translates sign language by video.", "en"),
    ("meble", "A charity collects donated furniture for households moving into an empty flat.", "en"),
])
def test_words_the_concept_lexicon_does_not_know_are_translated(query, written, lang):
    index = index_of(record("it", "…", written, lang), *OTHERS)
    assert ids(index.search(query)) == ["it"]


def test_translations_can_be_switched_off():  # the benchmarks' baseline
    off = SearchIndex(translation_weight=0)
    off.add_many([KAWIARENKA, *OTHERS])
    assert off.search("repair").total == 0


def test_the_dictionary_ships_with_its_source_and_licence():
    header = SOURCE.read_text("utf-8").split("\n", 12)[:11]
    assert any("CC BY-SA 3.0" in line or "Attribution-ShareAlike 3.0" in line for line in header)
    assert any("WikDict" in line for line in header) and any("Wiktionary" in line for line in header)
    entries = dict(source_entries())
    assert len(entries) > 30_000
    assert "repair" in entries["naprawa"] and "café" in entries["kawiarnia"]


# -- the keyed file --------------------------------------------------------------------------------

@pytest.fixture
def small_source(tmp_path):
    path = tmp_path / "pl_en.tsv"
    path.write_text("# a test dictionary\nnaprawa\trepair | mend\nkawiarnia\tcafé\nnaprawczy\tcorrective\n"
                    "plac zabaw\tplayground\nz domu\tnée\n", encoding="utf-8")
    return path


def test_the_keyed_file_is_built_once_in_the_cache_folder_and_reused(tmp_path, small_source):
    folder = tmp_path / "cache"
    analyzer = Analyzer()
    built = open_translations(analyzer, folder, small_source)
    path = folder / file_name(analyzer, small_source)
    assert sorted(os.listdir(folder)) == [path.name]  # no partial file left
    stamp = path.stat().st_mtime_ns
    again = open_translations(analyzer, folder, small_source)
    assert path.stat().st_mtime_ns == stamp
    in_memory = open_translations(analyzer, None, small_source)
    for lang, word in [("en", "repair"), ("pl", "naprawcz"), ("pl", "kawiarenk"), ("pl", "plac zabaw"), ("pl", "dom")]:
        assert built.lookup(lang, word) == again.lookup(lang, word) == in_memory.lookup(lang, word)
    assert dict(built.lookup("en", "repair")) == {"napraw": 1.0, "naprawcz": pytest.approx(0.7)}
    assert dict(built.lookup("pl", "kawiarenk")) == {"cafe": pytest.approx(0.7)}  # a diminutive of kawiarnia
    assert built.lookup("pl", "dom") == ()  # "z domu" is "née": a phrase with a stopword is left out


def test_a_damaged_keyed_file_is_built_again_and_an_unwritable_folder_falls_back_to_memory(
        tmp_path, small_source, caplog):
    analyzer = Analyzer()
    path = tmp_path / file_name(analyzer, small_source)
    path.write_bytes(b"not a database")
    with caplog.at_level(logging.WARNING):
        assert dict(open_translations(analyzer, tmp_path, small_source).lookup("pl", "napraw"))["repair"] == 1.0
    assert "damaged" in caplog.text
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with caplog.at_level(logging.WARNING):
        assert dict(open_translations(analyzer, blocked, small_source).lookup("pl", "napraw"))["repair"] == 1.0
    assert "in memory" in caplog.text


def test_the_file_is_still_built_when_no_child_process_can_be_started(tmp_path, small_source, monkeypatch, caplog):
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-python-here"))
    with caplog.at_level(logging.WARNING):
        built = open_translations(Analyzer(), tmp_path, small_source)
    assert dict(built.lookup("en", "playground")) == {"plac": pytest.approx(0.7), "zabaw": pytest.approx(0.7)}
    assert "child process failed" in caplog.text
    assert (tmp_path / file_name(Analyzer(), small_source)).exists()


def test_a_phrase_the_dictionary_translates_whole_beats_its_words_one_by_one():
    index = index_of(record("ground", "Playground", "Children designed the new playground.", "en"),
                     record("play", "Theatre", "Residents stage a play about their street.", "en"), *OTHERS)
    assert ids(index.search("plac zabaw"))[0] == "ground"  # not a "square" of "play"


def test_a_word_typed_in_capitals_is_a_name_and_is_not_translated():
    index = index_of(record("sila", "Siła spokoju", "Grupa wsparcia daje siłę i spokój.", "pl"),
                     record("power", "POWER", "Projekt z programu POWER.", "pl"), *OTHERS)
    assert ids(index.search("POWER")) == ["power"]
    assert "sila" in ids(index.search("power"))  # typed as a word, it is one
