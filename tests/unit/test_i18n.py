"""Every reply exists in Polish and in English, with the right plural forms."""

from __future__ import annotations

import string

import pytest

from bot import checks, messages
from bot.compose import features as feature_sets
from bot.i18n import LANGUAGES, Translator, select_plural


def catalogues():
    """Every catalogue the hub registers: the runtime's own and each feature's."""
    found = [("bot.messages", messages.CATALOGUE), ("bot.checks", checks.CATALOGUE)]
    found += [(command_set.feature, command_set.catalogue) for command_set in feature_sets()]
    return found


def all_commands(commands):
    for command in commands:
        yield command
        yield from all_commands(command.subcommands.values())


def fields(template) -> set[str]:
    texts = [template] if isinstance(template, str) else list(template.values())
    return {name.split(".")[0].split("[")[0] for text in texts
            for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name, catalogue", catalogues(), ids=[name for name, _ in catalogues()])
def test_polish_and_english_have_the_same_keys_and_placeholders(name, catalogue):
    assert set(catalogue) == set(LANGUAGES)
    only_pl = set(catalogue["pl"]) - set(catalogue["en"])
    only_en = set(catalogue["en"]) - set(catalogue["pl"])
    assert not only_pl and not only_en, f"{name}: only in pl {sorted(only_pl)}, only in en {sorted(only_en)}"
    for key, pl in catalogue["pl"].items():
        en = catalogue["en"][key]
        assert fields(pl) == fields(en), f"{name} {key}: pl uses {fields(pl)}, en uses {fields(en)}"
        assert isinstance(pl, str) == isinstance(en, str), f"{name} {key}: plural in one language only"
        if not isinstance(pl, str):
            assert {"one", "few", "many", "other"} <= set(pl), f"{name} {key}: Polish needs one/few/many/other"
            assert {"one", "other"} <= set(en), f"{name} {key}: English needs one/other"
        for text in ([pl, en] if isinstance(pl, str) else [*pl.values(), *en.values()]):
            assert text.strip(), f"{name} {key}: empty text"


def test_every_command_has_help_in_both_languages():
    translator = Translator()
    translator.register(messages.CATALOGUE)
    checked = 0
    sets = feature_sets()
    # A feature may add a subcommand to another's group (the archive's `!mod queue`): its help is
    # in the catalogue of the feature that declared it.
    catalogues = {command_set.feature: command_set.catalogue for command_set in sets}
    for command_set in sets:
        translator.register(command_set.catalogue)
    for command_set in sets:
        added = [command for _group, command in command_set.extensions]  # e.g. the archive's `!mod queue`
        for command in all_commands([*command_set.commands, *added]):
            for lang in LANGUAGES:
                key = command.key + ".help"
                assert key in catalogues[command.feature][lang], f"{key} missing in {lang}"
                assert translator(lang, key) != key
            checked += 1
    assert checked >= 5  # help, ping, lang, whoami, status at least


def test_all_catalogues_register_together_without_clashes():
    translator = Translator()
    for _name, catalogue in catalogues():
        translator.register(catalogue)
    assert translator("en", "error.internal").startswith("Sorry")
    assert translator("pl", "error.internal").startswith("Przepraszam")


PLURALS = {
    "pl": {"found": {"one": "{count} rozwiązanie", "few": "{count} rozwiązania", "many": "{count} rozwiązań",
                     "other": "{count} rozwiązania"}},
    "en": {"found": {"one": "{count} solution", "other": "{count} solutions"},
           "only.en": "English only, {name}"},
}


@pytest.mark.parametrize("count, polish, english", [
    (0, "0 rozwiązań", "0 solutions"),
    (1, "1 rozwiązanie", "1 solution"),
    (2, "2 rozwiązania", "2 solutions"),
    (4, "4 rozwiązania", "4 solutions"),
    (5, "5 rozwiązań", "5 solutions"),
    (11, "11 rozwiązań", "11 solutions"),
    (12, "12 rozwiązań", "12 solutions"),
    (21, "21 rozwiązań", "21 solutions"),
    (22, "22 rozwiązania", "22 solutions"),
    (25, "25 rozwiązań", "25 solutions"),
    (104, "104 rozwiązania", "104 solutions"),
    (112, "112 rozwiązań", "112 solutions"),
    (1.5, "1.5 rozwiązania", "1.5 solutions"),
])
def test_polish_plural_forms(count, polish, english):
    translator = Translator()
    translator.register(PLURALS)
    assert translator("pl", "found", count=count) == polish
    assert translator("en", "found", count=count) == english


def test_a_missing_key_falls_back_to_the_other_language_then_to_the_key():
    translator = Translator()
    translator.register(PLURALS)
    assert translator("pl", "only.en", name="Anna") == "English only, Anna"
    assert translator("pl", "no.such.key") == "no.such.key"
    assert translator("de", "found", count=5) == "5 rozwiązań"  # an unknown language: the default, Polish


def test_a_template_with_a_missing_parameter_is_shown_rather_than_crashing():
    translator = Translator()
    translator.register({"en": {"greet": "Hello {name}"}, "pl": {"greet": "Cześć {name}"}})
    assert translator("en", "greet") == "Hello {name}"
    assert translator("en", "greet", name="{oops}") == "Hello {oops}"  # parameters are not formatted again


def test_a_key_registered_twice_with_different_texts_is_refused():
    translator = Translator()
    translator.register({"en": {"k": "one"}, "pl": {"k": "jeden"}})
    translator.register({"en": {"k": "one"}})  # the same text again is fine
    with pytest.raises(ValueError, match="registered twice"):
        translator.register({"en": {"k": "two"}})
    with pytest.raises(ValueError, match="unsupported language"):
        translator.register({"de": {"k": "eins"}})


def test_plural_selection_with_odd_counts():
    forms = PLURALS["pl"]["found"]
    assert select_plural("pl", forms, "many") == forms["other"]  # not a number
    assert select_plural("pl", {"other": "x"}, 1) == "x"  # a missing form falls back to other
    assert select_plural("pl", forms, -2) == forms["few"]
