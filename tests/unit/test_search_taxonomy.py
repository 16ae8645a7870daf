"""Taxonomy codes and labels: filters typed as codes or labels, in either language."""

import pytest

from storage.search import load_starter_archive
from storage.search.taxonomy import (AREAS, STAGES, TARGET_GROUPS, FilterError, check_record, filter_key,
                                     label, parse_query, resolve)


@pytest.mark.parametrize("kind, typed, code", [
    ("group", "seniors", "seniors"), ("group", "seniorzy", "seniors"), ("group", "Seniorów", "seniors"),
    ("group", "older people", "seniors"), ("group", "osoby starsze", "seniors"),
    ("group", "osoby długotrwale bezrobotne", "long_term_unemployed"),
    ("group", "osoby dlugotrwale bezrobotne", "long_term_unemployed"),
    ("group", "long-term unemployed", "long_term_unemployed"), ("group", "long_term_unemployed", "long_term_unemployed"),
    ("area", "housing", "housing"), ("area", "mieszkalnictwo", "housing"), ("area", "bezdomność", "housing"),
    ("area", "usługi opiekuńcze", "care_services"), ("area", "uslugi opiekuncze", "care_services"),
    ("stage", "tested", "tested"), ("stage", "przetestowana", "tested"), ("stage", "Przetestowanych", "tested"),
    ("stage", "po ewaluacji", "evaluated"), ("stage", "w głównym nurcie", "mainstreamed"),
    ("type", "narzędzie", "tool"),
    ("region", "mazowieckie", "mazowieckie"), ("region", "Mazowsze", "mazowieckie"),
    ("region", "województwo mazowieckie", "mazowieckie"), ("region", "Masovian", "mazowieckie"),
    ("region", "łódzkie", "lodzkie"), ("region", "Noord-Holland", "noord holland"),
    ("country", "PL", "PL"), ("country", "Finlandia", "FI"), ("country", "Netherlands", "NL"),
    ("tag", "Housing First", "housing first"),
])
def test_values_resolve_to_one_code(kind, typed, code):
    assert resolve(kind, typed) == code


def test_unknown_value_is_an_error_with_suggestions():
    with pytest.raises(FilterError) as error:
        resolve("group", "senjorzy")
    assert error.value.suggestions[0] == "seniors"
    with pytest.raises(FilterError):
        resolve("stage", "gotowe")


def test_filter_keys_in_polish_and_english():
    assert filter_key("grupa") == filter_key("group") == "group"
    assert filter_key("obszar") == "area"
    assert filter_key("etap") == "stage"
    assert filter_key("województwo") == "region"
    assert filter_key("godzina") is None


def test_labels_in_both_languages_for_every_code():
    for kind, terms in (("group", TARGET_GROUPS), ("area", AREAS), ("stage", STAGES)):
        for code, term in terms.items():
            assert term.pl and term.en
            assert resolve(kind, term.pl) == code
            assert resolve(kind, term.en) == code
    assert label("group", "seniors", "pl") == "seniorzy"
    assert label("stage", "tested", "en") == "tested"


def test_parse_query_splits_words_and_filters():
    parsed = parse_query('bezdomność grupa:seniorzy area:"usługi opiekuńcze" stage=tested http://example.org')
    assert parsed.words == "bezdomność http://example.org"
    assert parsed.filters == {"group": ["seniorzy"], "area": ["usługi opiekuńcze"], "stage": ["tested"]}
    assert parse_query("group:seniors group:families").filters == {"group": ["seniors", "families"]}


def test_every_starter_record_is_valid():
    records = load_starter_archive()
    assert len(records) >= 30
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert check_record(record) == [], record["id"]
        assert record["sources"], record["id"]
        assert 2 <= record["description"].count(". ") + 1 <= 6, record["id"]
    languages = [r["description_lang"] for r in records]
    assert languages.count("pl") >= 15 and languages.count("en") >= 15


def test_check_record_reports_each_problem():
    problems = check_record({"title_original": "", "description": "x", "target_groups": ["aliens"],
                             "stage": "done", "evidence_level": 7, "country": "XX", "tags": "a"})
    assert any(p.startswith("title_original") for p in problems)
    assert any("aliens" in p for p in problems)
    assert any(p.startswith("stage") for p in problems)
    assert any(p.startswith("evidence_level") for p in problems)
    assert any(p.startswith("country") for p in problems)
    assert any(p.startswith("tags") for p in problems)
