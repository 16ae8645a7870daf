"""The built-in models: each computes, says where its figures come from, grades its effects."""

import re

import pytest

from commands.calculator.report import in_currency_style

from commands.calculator.engine import compute, validate
from commands.calculator.models import MODELS, get_model
from commands.calculator.report import render_model

REQUIRED = {"unemployment", "family", "seniors", "prison", "homelessness", "alcohol", "disability"}


def test_required_models_exist():
    assert REQUIRED <= set(MODELS)
    for mid in MODELS:
        assert re.fullmatch(r"[a-z]+", mid)


def test_unemployment_defaults_are_case_a():
    r = compute(get_model("unemployment").scenario())
    assert round(r.gross_savings, 2) == 602665.06
    assert round(r.npv, 2) == 362665.06
    assert r.break_even_year == 3
    assert round(r.by_payer["gmina"]["gross_savings"], 2) == 130712.76


@pytest.mark.parametrize("mid", sorted(MODELS))
def test_every_model_computes(mid):
    m = MODELS[mid]
    scn = m.scenario()
    validate(scn)
    r = compute(scn)
    assert r.programme_cost > 0
    assert r.gross_savings != 0
    assert len(r.years) == 7
    assert r.monte_carlo is None
    assert m.main_effect in m.transitions and m.main_effect.startswith("action.")
    for alias, key in m.aliases.items():
        assert key in scn.params, (mid, alias)


@pytest.mark.parametrize("mid", sorted(MODELS))
def test_every_figure_has_a_source_and_grade(mid):
    m = MODELS[mid]
    for lang in ("pl", "en"):
        assert m.name[lang] and m.description[lang] and m.unit[lang] and m.programme[lang]
        for s in m.states:
            assert s.label[lang]
    for key, cost in {**m.costs, **m.programme_costs}.items():
        assert 2020 <= cost.year <= 2026, key
        assert cost.source["pl"] and cost.source["en"], key
    for key, effect in m.transitions.items():
        assert effect.grade in "ABCD", key
        assert effect.note["pl"] and effect.note["en"], key


@pytest.mark.parametrize("mid", sorted(MODELS))
@pytest.mark.parametrize("lang", ["pl", "en"])
def test_render_model_shows_sources_and_grades(mid, lang):
    m = MODELS[mid]
    text = render_model(m, lang)
    for key, cost in {**m.costs, **m.programme_costs}.items():
        assert f"`{key}`" in text
        assert in_currency_style(cost.source[lang], lang) in text
        assert str(cost.year) in text
    assert ("zł" in text) == (lang == "pl") and ("PLN" in text) == (lang == "en")  # one currency style
    for key, effect in m.transitions.items():
        assert re.search(rf"`{re.escape(key)}` = .*(grade|ocena) {effect.grade}", text), key
    flag = "ZAŁOŻENIE" if lang == "pl" else "ASSUMPTION"
    assert (flag in text) == any(c.assumption for c in {**m.costs, **m.programme_costs}.values())


def test_documented_figures():
    # Figures named in calculator.md, carried by the models with their sources.
    prison = get_model("prison")
    assert prison.costs["cost.P.state"].value == pytest.approx(6466.66 * 12)
    assert "6 466,66" in prison.costs["cost.P.state"].source["pl"]
    family = get_model("family")
    foster = family.costs["cost.F.powiat"].value + family.costs["cost.F.gmina"].value
    assert foster == pytest.approx(1517 * 12)
    unemployment = get_model("unemployment")
    assert unemployment.costs["cost.E.state"].value == -26213
    assert "4 806" in unemployment.costs["cost.E.state"].source["pl"]
