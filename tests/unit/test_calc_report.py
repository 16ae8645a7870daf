"""Replies in Polish and English, the catalogues, the chart."""

import string
from pathlib import Path

import pytest

from bot.i18n import Translator
from commands.calculator.chart import render_chart
from commands.calculator.engine import CalcError, compute, sensitivity
from commands.calculator.messages import CATALOGUE
from commands.calculator.report import render_models, render_result, render_sensitivity
from commands.calculator.scenario import scenario_from_model

NBSP = "\xa0"


@pytest.fixture(scope="module")
def t():
    tr = Translator()
    tr.register(CATALOGUE)
    return tr


def _fields(template):
    forms = template.values() if isinstance(template, dict) else [template]
    return {f for form in forms for _, f, _, _ in string.Formatter().parse(form) if f}


def test_catalogues_have_identical_keys_and_placeholders():
    assert set(CATALOGUE["en"]) == set(CATALOGUE["pl"])
    for key in CATALOGUE["en"]:
        assert key.startswith("calc.")
        assert _fields(CATALOGUE["en"][key]) == _fields(CATALOGUE["pl"][key]), key


def test_every_error_key_is_in_the_catalogue():
    import re

    src = "".join(p.read_text() for p in Path(__file__).resolve().parents[2].joinpath("commands/calculator").glob("*.py"))
    for key in set(re.findall(r'"(calc\.error\.[a-z_]+)"', src)):
        assert key in CATALOGUE["en"], key


def test_result_in_polish(t):
    text = render_result(compute(scenario_from_model("unemployment")), "pl", t)
    assert f"602{NBSP}665 zł" in text  # G
    assert f"362{NBSP}665 zł" in text  # NPV
    assert f"660{NBSP}373 zł" in text  # undiscounted cost of inaction
    assert "2,51" in text and "151,1%" in text
    assert "Zwrot w roku **3**" in text
    assert "Niewłaściwa kieszeń" in text and "państwo" in text
    assert f"gmina: płaci 240{NBSP}000 zł, oszczędza 130{NBSP}713 zł" in text
    assert "200 838 zł" in text  # the year-2 row of the table
    assert "(D)" in text and "`!calc show unemployment`" in text


def test_result_in_english(t):
    text = render_result(compute(scenario_from_model("unemployment")), "en", t)
    assert "PLN 602,665" in text and "2.51" in text and "151.1%" in text
    assert "Breaks even in year **3**" in text
    assert "Wrong pocket" in text


def test_result_with_monte_carlo_and_overrides(t):
    scn = scenario_from_model("unemployment", ["effect=0.3..0.5", "people=30"])
    text = render_result(compute(scn), "en", t)
    assert "Monte Carlo, 10,000 draws" in text
    assert "Chance that NPV > 0: **100%**" in text
    assert "You changed:" in text and "`start.U` = 30" in text


def test_no_break_even_is_said(t):
    text = render_result(compute(scenario_from_model("unemployment", ["cost.E.state=0"])), "pl", t)
    assert "Brak zwrotu w horyzoncie analizy (7 lat)" in text
    assert "Niewłaściwa kieszeń" not in text


def test_models_listing(t):
    for lang in ("pl", "en"):
        text = render_models(lang, t)
        for mid in ("unemployment", "family", "seniors", "prison", "homelessness", "alcohol", "disability"):
            assert f"`{mid}`" in text
    assert "Rodzina zagrożona" in render_models("pl", t)


def test_sensitivity(t):
    text = render_sensitivity(sensitivity(scenario_from_model("unemployment")), "pl", t)
    assert text.splitlines()[1].startswith("1. `action.U.E`")
    assert "NPV = 0, gdy `action.U.E` = 21,95%" in text


def test_error_translates(t):
    with pytest.raises(CalcError) as e:
        scenario_from_model("unemployment", ["speed=2"])
    assert t("pl", e.value.message_key, **e.value.params).startswith("Nieznany klucz „speed”")


def test_chart_is_a_png():
    png = render_chart(compute(scenario_from_model("unemployment")), "pl")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5000


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_the_tornado_chart_names_the_states_in_its_legend(lang):
    from commands.calculator.chart import render_tornado, tornado_figure
    from commands.calculator.engine import compute, sensitivity
    from commands.calculator.models import MODELS
    from commands.calculator.scenario import scenario_from_model

    scn = scenario_from_model("family", [])
    sens = sensitivity(scn)
    fig = tornado_figure(sens, compute(scn).npv, scn, lang)
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    for state in MODELS["family"].states:
        assert f"{state.id} — {state.label[lang]}" in legend
    bars = [label.get_text() for label in fig.axes[0].get_yticklabels()]
    assert bars[-1] == sens["tornado"][0]["key"] and len(bars) == 10  # the biggest swing on top
    png = render_tornado(sens, compute(scn).npv, scn, lang)
    assert png.startswith(b"\x89PNG")
