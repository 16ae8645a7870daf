"""The analyzer: folding, stopwords, Polish and English lemmas, bilingual concepts."""

import pytest

from storage.search.analyzer import LEXICON, Analyzer, fold, guess_lang


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def keys(analyzer, text, lang):
    return analyzer.keys(analyzer.tokens(text), lang)


def test_folding_drops_diacritics_including_l_with_stroke():
    assert fold("Bezdomność") == "bezdomnosc"
    assert fold("ŁÓDŹ żółć Gęś") == "lodz zolc ges"
    assert fold("Mehrgenerationenhäuser") == "mehrgenerationenhauser"


def test_stopwords_of_both_languages_have_no_key(analyzer):
    for word, lang in [("i", "pl"), ("oraz", "pl"), ("się", "pl"), ("the", "en"), ("and", "en"), ("of", "en")]:
        assert analyzer.key(word, lang) is None
    assert keys(analyzer, "Wsparcie dla rodzin oraz dzieci", "pl") == keys(analyzer, "wsparcie rodzin dzieci", "pl")


@pytest.mark.parametrize("inflected, base", [
    ("bezrobotnych", "bezrobotny"), ("bezrobotne", "bezrobotny"),
    ("seniorami", "senior"), ("seniorów", "seniorzy"),
    ("rodzinom", "rodzina"), ("rodzin", "rodziny"),
    ("niepełnosprawnościami", "niepełnosprawność"),
    ("wytchnieniowej", "wytchnieniowa"),
    ("długotrwale", "długotrwały"),
])
def test_polish_inflected_forms_share_the_key_of_their_base_form(analyzer, inflected, base):
    assert analyzer.key(inflected, "pl") == analyzer.key(base, "pl")


def test_english_forms_share_a_key(analyzer):
    assert analyzer.key("families", "en") == analyzer.key("family", "en")
    assert analyzer.key("carers", "en") == analyzer.key("carer", "en")


def test_key_is_folded_so_missing_diacritics_meet_the_same_word(analyzer):
    assert analyzer.key("Bezdomność", "pl") == "bezdomnosc"
    assert analyzer.key("bezdomność", "pl") == analyzer.key("BEZDOMNOŚĆ", "pl")


@pytest.mark.parametrize("text, lang, concept", [
    ("osoby długotrwale bezrobotne", "pl", "c:long_term_unemployment"),
    ("long-term unemployed people", "en", "c:long_term_unemployment"),
    ("kryzys bezdomności", "pl", "c:homelessness"),
    ("rough sleeping", "en", "c:homelessness"),
    ("opieki wytchnieniowej", "pl", "c:respite_care"),
    ("respite care", "en", "c:respite_care"),
    ("pieczy zastępczej", "pl", "c:foster_care"),
    ("foster families", "en", "c:foster_care"),
    ("ekonomii społecznej", "pl", "c:social_economy"),
    ("social enterprises", "en", "c:social_economy"),
    ("osobom starszym", "pl", "c:seniors"),
    ("older people", "en", "c:seniors"),
])
def test_both_languages_reach_the_same_concept(analyzer, text, lang, concept):
    assert concept in analyzer.concepts(keys(analyzer, text, lang))


def test_every_lexicon_phrase_analyses_to_some_key(analyzer):
    for concept, sides in LEXICON.items():
        for side, lang in zip(sides, ("pl", "en")):
            for phrase in side.split("|"):
                assert keys(analyzer, phrase, lang), (concept, phrase)


def test_query_tokens_carry_polish_and_english_readings(analyzer):
    tokens = analyzer.query("Bezdomność i families")
    assert [t.folded for t in tokens] == ["bezdomnosc", "families"]
    assert analyzer.key("families", "en") in tokens[1].keys


def test_plain_analyzer_only_lowercases():
    plain = Analyzer.plain()
    assert plain.keys(plain.tokens("Bezdomność i Rodzinom"), "pl") == ["bezdomność", "i", "rodzinom"]


def test_language_guess():
    assert guess_lang("Wsparcie dla rodzin w kryzysie") == "pl"
    assert guess_lang("Support for families in crisis") == "en"
    assert guess_lang("Opieka nad dziecmi w gminie oraz dla seniorow") == "pl"
