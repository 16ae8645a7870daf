"""The index as a leader meets it: what a search finds, in which order, with which filters,
page by page, and what happens when records are added, edited and deleted."""

import pytest

from bot.reply import md_snippet

from storage.search import FilterError, SearchIndex, load_starter_archive


@pytest.fixture(scope="module")
def archive():
    index = SearchIndex()
    index.add_many(load_starter_archive())
    return index


def ids(result):
    return [hit.id for hit in result.hits]


def record(doc_id, title, description, lang="pl", **fields):
    return {"id": doc_id, "title_original": title, "original_language": lang,
            "description": description, "description_lang": lang, **fields}


@pytest.mark.parametrize("query", ["bezdomność", "bezdomnosc", "Bezdomności", "homelessness"])
def test_homelessness_finds_housing_first_in_either_language(archive, query):
    assert "inn-019" in ids(archive.search(query, limit=3))  # described in English only


def test_long_term_unemployed_finds_a_record_described_only_in_polish(archive):
    found = ids(archive.search("long-term unemployed", limit=10))
    assert "inn-006" in found  # Centrum Integracji Społecznej: no English title or text
    assert {"inn-027", "inn-007"} <= set(found)


def test_the_lexicon_bridges_languages_without_any_taxonomy_codes():
    index = SearchIndex()
    index.add(record("pl-1", "Klub pracy", "Wsparcie dla osób długotrwale bezrobotnych w gminie."))
    index.add(record("pl-2", "Klub seniora", "Spotkania i zajęcia dla osób starszych."))
    index.add(record("en-1", "Night shelter", "Beds and meals for people sleeping rough.", "en"))
    assert ids(index.search("long-term unemployed")) == ["pl-1"]
    assert ids(index.search("older people"))[0] == "pl-2"
    assert ids(index.search("bezdomność")) == ["en-1"]


@pytest.mark.parametrize("query, written", [
    ("bezrobotnych", "Aktywizacja: bezrobotni uczą się zawodu."),
    ("seniorami", "Klub, w którym seniorzy spotykają się co tydzień."),
    ("rodzinom", "Asystent pracuje z rodziną w jej domu."),
    ("niepelnosprawnosciami", "Asystencja dla osoby z niepełnosprawnością."),
])
def test_inflected_and_unaccented_queries_find_other_forms_of_the_word(query, written):
    index = SearchIndex()
    index.add(record("a", "Rozwiązanie", written))
    index.add(record("b", "Inne", "Zupełnie inny temat: budżet obywatelski."))
    assert ids(index.search(query)) == ["a"]


@pytest.mark.parametrize("query, expected", [
    ("opeka wytchnieniowa", "inn-003"), ("teleopeka", "inn-008"), ("housing frist", "inn-019"),
    ("demetia", "inn-031"),
])
def test_a_typo_in_a_longer_word_is_forgiven_and_reported(archive, query, expected):
    result = archive.search(query, limit=3)
    assert expected in ids(result)
    assert result.corrections


def test_short_words_are_not_respelled(archive):
    assert archive.search("dmo").total == 0  # "dom" is 3 letters: too short to guess


def test_hits_say_which_terms_matched(archive):
    hit = archive.search("opieka wytchnieniowa", limit=1).hits[0]
    assert hit.id == "inn-003"
    assert {"c:respite_care", "wytchnieniow"} <= hit.matched
    assert hit.score > 0


# -- filters ------------------------------------------------------------------------------------

def test_filter_by_code_or_label_in_either_language(archive):
    by_code = archive.search("opieka", {"group": "seniors"}, limit=50)
    assert by_code.total > 0
    for value in ("seniorzy", "older people", "Seniorów"):
        assert ids(archive.search("opieka", {"group": value}, limit=50)) == ids(by_code)
    docs = {d["id"]: d for d in load_starter_archive()}
    assert all("seniors" in docs[i]["target_groups"] for i in ids(by_code))


def test_stage_area_and_several_filters_together(archive):
    docs = {d["id"]: d for d in load_starter_archive()}
    tested = archive.search("", {"stage": "przetestowana"}, limit=50)
    assert ids(tested) and all(docs[i]["stage"] == "tested" for i in ids(tested))
    assert ids(tested) == ids(archive.search("", {"etap": "tested"}, limit=50))
    both = archive.search("", {"area": "housing", "group": "bezdomni"}, limit=50)
    assert set(ids(both)) == {"inn-012", "inn-019"}
    either = archive.search("", {"group": ["children", "youth"]}, limit=50)
    assert all({"children", "youth"} & set(docs[i]["target_groups"]) for i in ids(either))


def test_region_tag_and_country_filters():
    index = SearchIndex()
    index.add(record("w", "Klub", "Klub dla seniorów.", region="mazowieckie", country="PL", tags=["Seniorzy"]))
    index.add(record("k", "Klub", "Klub dla seniorów.", region="Małopolska", country="PL"))
    index.add(record("f", "Club", "A club for older people.", "en", country="FI"))
    assert ids(index.search("klub", {"region": "mazowieckie"})) == ["w"]
    assert ids(index.search("klub", {"region": "Masovian"})) == ["w"]
    assert ids(index.search("klub", {"region": "małopolskie"})) == ["k"]
    assert ids(index.search("", {"tag": "seniorów"})) == ["w"]
    assert ids(index.search("", {"country": "Finlandia"})) == ["f"]


def test_unknown_filter_value_or_key_is_an_error(archive):
    with pytest.raises(FilterError) as error:
        archive.search("opieka", {"group": "senjorzy"})
    assert "seniors" in error.value.suggestions
    with pytest.raises(FilterError):
        archive.search("opieka", {"colour": "blue"})


def test_filters_without_words_list_the_best_documented_first(archive):
    result = archive.search("", {"area": "employment"}, limit=3)
    assert result.hits[0].id == "inn-023"  # IPS: evidence level 5
    assert archive.search("").total == 0  # no words and no filters: nothing, not everything


# -- paging -------------------------------------------------------------------------------------

def test_pages_follow_each_other_without_gaps_or_repeats(archive):
    everything = archive.search("opieka rodzina", limit=100)
    assert everything.total == len(everything.hits) > 10
    pages = [archive.search("opieka rodzina", offset=offset, limit=5) for offset in range(0, everything.total, 5)]
    assert [hit.id for page in pages for hit in page.hits] == ids(everything)
    assert all(page.total == everything.total for page in pages)
    assert archive.search("opieka rodzina", offset=everything.total, limit=5).hits == []
    scores = [hit.score for hit in everything.hits]
    assert scores == sorted(scores, reverse=True)


# -- similar ------------------------------------------------------------------------------------

def test_similar_finds_related_records_not_itself(archive):
    similar = ids(archive.similar("inn-031", limit=5))  # the Hogeweyk dementia village
    assert "inn-031" not in similar
    assert "inn-033" in similar[:3]  # Dementia Friends
    assert "inn-006" in ids(archive.similar("inn-005", limit=5))  # social cooperatives ~ CIS
    with pytest.raises(KeyError):
        archive.similar("inn-999")


# -- keeping the index current -----------------------------------------------------------------

def test_add_edit_delete():
    index = SearchIndex()
    index.add(record("x", "Bank czasu", "Sąsiedzi wymieniają się usługami liczonymi w godzinach."))
    index.add(record("y", "Jadłodzielnia", "Lodówka społeczna przeciw marnowaniu żywności."))
    assert ids(index.search("bank czasu")) == ["x"]
    index.add(record("x", "Wolontariat", "Wolontariusze odwiedzają samotnych sąsiadów."))  # an edit
    assert index.search("bank czasu").total == 0
    assert ids(index.search("wolontariusz")) == ["x"]
    assert index.remove("x") and not index.remove("x")
    assert index.search("wolontariusz").total == 0
    assert len(index) == 1 and "x" not in index and "y" in index


def test_compaction_after_many_deletions_keeps_results():
    docs = load_starter_archive()
    fresh = SearchIndex()
    fresh.add_many(docs)
    index = SearchIndex()
    for i in range(1500):
        index.add(record(f"tmp-{i}", "Tymczasowy wpis", f"Wpis numer {i} o czymś innym."))
    index.add_many(docs)
    for i in range(1500):
        index.remove(f"tmp-{i}")
    assert index.stats()["slots"] < 1500 + len(docs)  # compacted on the way
    index.compact()
    assert index.stats()["slots"] == len(docs) == len(index)
    for query in ("opieka wytchnieniowa", "homelessness", "seniorzy"):
        assert index.search(query, limit=10).hits == fresh.search(query, limit=10).hits
    assert ids(index.similar("inn-003")) == ids(fresh.similar("inn-003"))
    index.add(record("new", "Opieka wytchnieniowa w gminie", "Nowy wpis o opiece wytchnieniowej."))
    assert "new" in ids(index.search("opieka wytchnieniowa", limit=5))


# -- nothing found ------------------------------------------------------------------------------

def test_suggestion_respells_an_unknown_word(archive):
    assert archive.search("tleopjekka").total == 0  # three edits away: too far to search
    suggestion = archive.suggest("tleopjekka")
    assert suggestion.corrected_query == "teleopieka"
    assert suggestion.corrected_total == 1


def test_suggestion_names_the_filter_to_loosen(archive):
    filters = {"group": "seniors", "stage": "mainstreamed"}  # the telecare record is "scaling"
    assert archive.search("teleopieka", filters).total == 0
    suggestion = archive.suggest("teleopieka", filters)
    assert suggestion.corrected_query is None
    assert suggestion.loosen == [("stage", 1)]  # dropping the group would not help
    assert suggestion.without_filters == 1


# -- numbers ------------------------------------------------------------------------------------

def test_a_number_is_one_token_and_a_lone_digit_does_not_match_inside_it():
    index = SearchIndex()
    index.add(record("power", "Inkubator", "Działanie 4.1 programu POWER w latach 2024–2026, dla osób 50+."))
    index.add(record("krok", "Poradnik", "Krok 1: rozmowa. W 2024 r. przeszkolono 50 osób."))
    assert ids(index.search("1")) == ["krok"]
    assert ids(index.search("4.1")) == ids(index.search("POWER 4.1"))[:1] == ["power"]
    assert ids(index.search("2024-2026")) == ["power"]  # typed with a hyphen, written with a dash
    assert ids(index.search("2024")) == ["krok"]
    assert ids(index.search("50+")) == ["power"] and ids(index.search("50")) == ["krok"]
    assert index.search("4.2").total == 0 and index.search("2025").total == 0  # numbers are not respelled
    assert index.suggest("2025").corrected_query is None
    hit = index.search("4.1").hits[0]
    assert "**4\\.1**" in md_snippet(index.snippet(record("power", "Inkubator", "Działanie 4.1 programu POWER."), hit.matched))
