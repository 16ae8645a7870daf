"""Scenarios from TOML files and from models with key=value overrides."""

import pytest

from commands.calculator.engine import CalcError, Range, compute
from commands.calculator.scenario import (
    dump_toml,
    load_scenario,
    load_scenario_text,
    parse_value,
    scenario_from_model,
)

# The scenario file of calculator.md, verbatim.
CASE_A_TOML = """
name = "Long-term unemployed: activation"
horizon = 7
discount_rate = 0.035
states = ["U", "E"]

[start]
U = 20

[transitions.inaction]
U = { E = 0.10 }
E = { U = 0.15 }

[transitions.action]
U = { E = 0.40 }
E = { U = 0.15 }

[costs]
U = { gmina = 7260 }
E = { state = -26213 }

[programme]
years = 1
cost = { U = { gmina = 12000 } }

[adjustments]
attribution = 0.0
optimism_bias_benefits = 0.0
optimism_bias_costs = 0.0
"""


def test_calculator_md_file_reproduces_case_a(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(CASE_A_TOML, encoding="utf-8")
    scn = load_scenario(path)
    assert scn.name == "Long-term unemployed: activation"
    assert scn.main_effect == "action.U.E"  # the action rate that differs from inaction
    r = compute(scn)
    assert round(r.npv, 2) == 362665.06
    assert r.break_even_year == 3


def test_toml_round_trip():
    scn = load_scenario_text(CASE_A_TOML.replace("U = { E = 0.40 }", 'U = { E = "0.3..0.5" }')
                             + "\n[monte_carlo]\ndraws = 500\nseed = 9\n")
    again = load_scenario_text(dump_toml(scn))
    assert again.params == scn.params
    assert (again.states, again.draws, again.seed, again.name) == (scn.states, 500, 9, scn.name)
    assert compute(again).to_dict() == compute(scn).to_dict()


def test_model_round_trip_through_toml():
    scn = scenario_from_model("family", ["people=40", "action.R.C=0.01..0.02"])
    again = load_scenario_text(dump_toml(scn))
    assert again.params == scn.params
    assert round(compute(again).npv, 2) == round(compute(scn).npv, 2)


def test_after_table_in_toml_is_complete():
    text = CASE_A_TOML + "\n[transitions.after]\nU = { E = 0.2 }\n"
    scn = load_scenario_text(text)
    assert scn.params["after.E.U"] == 0.0  # not listed: stays, does not follow inaction
    assert load_scenario_text(dump_toml(scn)).params == scn.params


def test_toml_ranges():
    text = CASE_A_TOML.replace("U = { E = 0.40 }", "U = { E = { low = 0.3, mode = 0.35, high = 0.5 } }")
    text = text.replace("U = 20", 'U = "10..30"')
    scn = load_scenario_text(text)
    assert scn.params["action.U.E"] == Range(0.3, 0.35, 0.5)
    assert scn.params["start.U"] == Range(10, 20, 30)  # "low..high": mode at the midpoint
    assert compute(scn).monte_carlo["draws"] == 10_000


def test_toml_based_on_a_model():
    scn = load_scenario_text('model = "unemployment"\n[start]\nU = 40\n')
    assert scn.model_id == "unemployment"
    assert round(compute(scn).npv, 2) == round(2 * 362665.0603835, 2)


@pytest.mark.parametrize(
    "text, message_key, named",
    [
        ("states = [", "calc.error.toml", ""),
        (CASE_A_TOML + "\ncolour = 1\n", "calc.error.unknown_key", "colour"),
        (CASE_A_TOML.replace("[adjustments]", "[adjustments]\nluck = 1"), "calc.error.unknown_key", "adjustments.luck"),
        (CASE_A_TOML.replace("U = { E = 0.40 }", "U = { E = 1.40 }"), "calc.error.probability", "action.U.E"),
        (CASE_A_TOML.replace("U = { E = 0.40 }", 'U = { E = "0.5..0.3" }'), "calc.error.range_order", "action.U.E"),
        (CASE_A_TOML.replace("U = 20", "U = -1"), "calc.error.negative_people", "start.U"),
        (CASE_A_TOML.replace("horizon = 7", "horizon = 0"), "calc.error.horizon", "horizon"),
        (CASE_A_TOML.replace("E = { state", "X = { state"), "calc.error.unknown_state", "cost.X.state"),
        (CASE_A_TOML.replace('states = ["U", "E"]', ""), "calc.error.missing", "states"),
        (CASE_A_TOML.replace("U = 20", 'U = "many"'), "calc.error.not_a_number", "start.U"),
        (CASE_A_TOML + "\n[monte_carlo]\ndraws = 0\n", "calc.error.out_of_range", "monte_carlo.draws"),
    ],
)
def test_bad_toml(text, message_key, named):
    with pytest.raises(CalcError) as e:
        load_scenario_text(text)
    assert e.value.message_key == message_key
    assert named in str(e.value)


def test_missing_file():
    with pytest.raises(CalcError) as e:
        load_scenario("/nonexistent/scenario.toml")
    assert e.value.message_key == "calc.error.file"
    assert "/nonexistent/scenario.toml" in str(e.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.4", 0.4), ("0,4", 0.4), ("40%", 0.4), ("7260", 7260.0), ("-26213", -26213.0), ("1_000", 1000.0),
        ("0.3..0.5", Range(0.3, 0.4, 0.5)), ("0,3..0,5", Range(0.3, 0.4, 0.5)),
        ("30%..50%", Range(0.3, 0.4, 0.5)), ("1..2..4", Range(1, 2, 4)), ("-30000..-20000", Range(-30000, -25000, -20000)),
    ],
)
def test_parse_value(text, expected):
    got = parse_value("k", text)
    if isinstance(expected, Range):
        assert isinstance(got, Range)
        assert (got.low, got.mode, got.high) == pytest.approx((expected.low, expected.mode, expected.high))
    else:
        assert got == pytest.approx(expected)


def test_override_range_takes_the_default_as_mode():
    scn = scenario_from_model("unemployment", ["action.U.E=0.3..0.6"])
    assert scn.params["action.U.E"] == Range(0.3, 0.4, 0.6)
    scn = scenario_from_model("unemployment", ["action.U.E=0.5..0.7"])  # default outside: midpoint
    assert scn.params["action.U.E"].mode == pytest.approx(0.6)


def test_every_parameter_can_be_overridden():
    scn = scenario_from_model("unemployment", [
        "start.U=30", "start.E=5", "horizon=10", "discount_rate=0.05", "inaction.U.E=0.05",
        "action.U.E=0.5", "after.U.E=0.2", "cost.U.gmina=8000", "cost.E.zus=-1000",
        "programme.cost.U.gmina=10000", "programme.years=2", "attribution=0.1",
        "optimism_bias_benefits=0.4", "optimism_bias_costs=0.1", "draws=1000", "seed=3",
    ])
    p = scn.params
    assert (p["start.U"], p["start.E"], p["horizon"], p["discount_rate"]) == (30, 5, 10, 0.05)
    assert (p["inaction.U.E"], p["action.U.E"], p["after.U.E"]) == (0.05, 0.5, 0.2)
    assert (p["cost.U.gmina"], p["cost.E.zus"], p["programme.cost.U.gmina"]) == (8000, -1000, 10000)
    assert (p["programme.years"], p["attribution"], p["optimism_bias_benefits"], p["optimism_bias_costs"]) == (2, 0.1, 0.4, 0.1)
    assert (scn.draws, scn.seed) == (1000, 3)
    assert "zus" in compute(scn).by_payer


def test_aliases_and_case():
    scn = scenario_from_model("unemployment", ["people=30", "effect=0.5", "years=2", "ACTION.u.e=0.45"])
    assert scn.params["start.U"] == 30 and scn.params["programme.years"] == 2
    assert scn.params["action.U.E"] == 0.45
    assert scenario_from_model("bezrobocie").model_id == "unemployment"


@pytest.mark.parametrize(
    "overrides, message_key, named",
    [
        (["speed=3"], "calc.error.unknown_key", "speed"),
        (["action.U.X=0.1"], "calc.error.unknown_state", "X"),
        (["cost.U.bank=1"], "calc.error.unknown_payer", "bank"),
        (["action.U.E=1.2"], "calc.error.probability", "action.U.E"),
        (["people=-1"], "calc.error.negative_people", "start.U"),
        (["effect=0.6..0.2"], "calc.error.range_order", "action.U.E"),
        (["horizon=0"], "calc.error.horizon", "horizon"),
        (["horizon=51"], "calc.error.horizon", "horizon"),
        (["people"], "calc.error.bad_override", "people"),
        (["people=lots"], "calc.error.not_a_number", "start.U"),
        (["draws=0"], "calc.error.out_of_range", "draws"),
    ],
)
def test_bad_overrides(overrides, message_key, named):
    with pytest.raises(CalcError) as e:
        scenario_from_model("unemployment", overrides)
    assert e.value.message_key == message_key
    assert named in str(e.value)


def test_unknown_key_lists_valid_keys():
    with pytest.raises(CalcError) as e:
        scenario_from_model("unemployment", ["speed=3"])
    text = str(e.value)
    for key in ("start.<U|E>", "cost.<U|E>", "programme.years", "discount_rate", "people", "effect"):
        assert key in text


def test_row_sum_of_overrides():
    with pytest.raises(CalcError) as e:
        scenario_from_model("family", ["action.R.S=0.9..0.99"])
    assert e.value.message_key == "calc.error.row_sum_range"
    assert "“R”" in str(e.value)


def test_unknown_model():
    with pytest.raises(CalcError) as e:
        scenario_from_model("weather")
    assert "weather" in str(e.value) and "unemployment" in str(e.value)
