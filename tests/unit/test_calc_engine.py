"""The cohort model against hand-computed figures (calculator.md and small cases)."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.calculator.engine import (
    CalcError,
    Range,
    Scenario,
    compute,
    run_monte_carlo,
    sensitivity,
    switching_value,
    tornado,
)
from commands.calculator.scenario import scenario_from_model

# calculator.md, acceptance case A, written out key by key (not taken from models.py).
CASE_A = {
    "start.U": 20,
    "inaction.U.E": 0.10,
    "inaction.E.U": 0.15,
    "action.U.E": 0.40,
    "action.E.U": 0.15,
    "cost.U.gmina": 7260,
    "cost.E.state": -26213,
    "programme.cost.U.gmina": 12000,
    "programme.years": 1,
    "horizon": 7,
    "discount_rate": 0.035,
}


def case_a(**changes) -> Scenario:
    return Scenario(states=("U", "E"), params={**CASE_A, **changes}, main_effect="action.U.E")


def test_worked_example_a_to_the_grosz():
    r = compute(case_a())
    assert round(r.gross_savings, 2) == 602665.06
    assert round(r.programme_cost, 2) == 240000.00
    assert round(r.npv, 2) == 362665.06
    assert round(r.bcr, 4) == 2.5111
    assert round(r.roi, 4) == 1.5111
    assert r.break_even_year == 3
    assert round(r.cost_of_inaction_undiscounted, 2) == 660372.60
    assert round(r.by_payer["gmina"]["gross_savings"], 2) == 130712.76
    assert round(r.by_payer["state"]["gross_savings"], 2) == 471952.30
    assert round(r.by_payer["gmina"]["programme_cost"], 2) == 240000.00
    assert r.by_payer["state"]["programme_cost"] == 0
    assert r.wrong_pocket == {"investors": ["gmina"], "beneficiaries": ["state"]}
    assert r.monte_carlo is None


def test_worked_example_a_years():
    r = compute(case_a())
    assert [y["year"] for y in r.years] == [1, 2, 3, 4, 5, 6, 7]
    first, second = r.years[0], r.years[1]
    assert first["cost_of_inaction"] == 0  # the programme acts from year 1 (t = 1) on
    assert first["programme_cost"] == 240000
    assert first["people_inaction"] == {"U": 20, "E": 0}
    assert second["people_inaction"] == pytest.approx({"U": 18, "E": 2})
    assert second["people_action"] == pytest.approx({"U": 12, "E": 8})
    # 6 people more in work: 6 × 7 260 + 6 × 26 213
    assert second["cost_of_inaction"] == pytest.approx(200838.0)
    assert second["programme_cost"] == 0
    assert r.years[2]["people_inaction"] == pytest.approx({"U": 16.5, "E": 3.5})


def test_worked_example_a_undiscounted_rate():
    r = compute(case_a(discount_rate=0.0))
    assert round(r.npv, 2) == 420372.60
    assert round(r.bcr, 4) == 2.7516


def test_worked_example_a_gmina_alone():
    r = compute(case_a(**{"cost.E.state": 0}))
    assert round(r.npv, 2) == -109287.24
    assert round(r.bcr, 4) == 0.5446
    assert r.break_even_year is None
    assert r.wrong_pocket is None  # the gmina loses, but nobody else gains


def test_model_with_overrides_reproduces_gmina_alone():
    r = compute(scenario_from_model("unemployment", ["cost.E.state=0"]))
    assert round(r.npv, 2) == -109287.24


def test_adjustments():
    r = compute(case_a(attribution=0.2, optimism_bias_benefits=0.1, optimism_bias_costs=0.1))
    assert r.gross_savings == pytest.approx(602665.0603835 * 0.8 * 0.9)
    assert r.programme_cost == pytest.approx(264000.0)
    assert r.npv == pytest.approx(602665.0603835 * 0.72 - 264000.0)


def test_programme_without_effect_loses_its_cost():
    r = compute(case_a(**{"action.U.E": 0.10}))
    assert r.gross_savings == 0
    assert r.npv == pytest.approx(-240000.0)
    assert r.bcr == 0
    assert r.roi == pytest.approx(-1.0)
    assert r.break_even_year is None
    assert r.cost_of_inaction_undiscounted == 0


def test_free_programme_has_no_ratios():
    r = compute(case_a(**{"programme.cost.U.gmina": 0}))
    assert r.bcr is None and r.roi is None
    assert r.break_even_year == 1


def test_three_states_related_problems_by_hand():
    # inaction A→B 0.5; action A→B 0.5, A→C 0.5; after = inaction.
    # inaction: (10,0,0) (5,5,0) (2.5,7.5,0); action: (10,0,0) (0,5,5) (0,5,5)
    # S_1 = 5·100 = 500; S_2 = 2.5·100 + 2.5·1000 = 2750; K_0 = 10·50 = 500
    scn = Scenario(
        states=("A", "B", "C"),
        params={
            "start.A": 10, "inaction.A.B": 0.5, "action.A.B": 0.5, "action.A.C": 0.5,
            "cost.A.gmina": 100, "cost.B.powiat": 1000, "programme.cost.A.gmina": 50,
            "horizon": 3, "discount_rate": 0.0,
        },
    )
    r = compute(scn)
    assert [y["cost_of_inaction"] for y in r.years] == pytest.approx([0, 500, 2750])
    assert r.years[2]["people_action"] == pytest.approx({"A": 0, "B": 5, "C": 5})
    assert r.gross_savings == pytest.approx(3250)
    assert r.programme_cost == pytest.approx(500)
    assert r.npv == pytest.approx(2750)
    assert r.bcr == pytest.approx(6.5)
    assert r.break_even_year == 2
    assert r.by_payer["gmina"] == pytest.approx({"gross_savings": 750, "programme_cost": 500})
    assert r.by_payer["powiat"] == pytest.approx({"gross_savings": 2500, "programme_cost": 0})
    assert r.wrong_pocket is None  # the gmina gets back more than it spends
    discounted = compute(scn.with_values({"discount_rate": 0.1}))
    assert discounted.gross_savings == pytest.approx(500 / 1.1 + 2750 / 1.21)


def test_multi_year_programme_by_hand():
    # action U→E 0.5 in years t=0,1, nothing after; inaction nobody moves.
    # action: (10,0) (5,5) (2.5,7.5) (2.5,7.5); S = 0, 500, 750, 750; K = 100, 50
    scn = Scenario(
        states=("U", "E"),
        params={"start.U": 10, "action.U.E": 0.5, "cost.U.gmina": 100,
                "programme.cost.U.gmina": 10, "programme.years": 2, "horizon": 4, "discount_rate": 0},
    )
    r = compute(scn)
    assert [y["programme_cost"] for y in r.years] == pytest.approx([100, 50, 0, 0])
    assert [y["cost_of_inaction"] for y in r.years] == pytest.approx([0, 500, 750, 750])
    assert r.npv == pytest.approx(1850)
    assert r.break_even_year == 2


def test_after_table_overrides_inaction():
    # After the programme nobody loses a job: the moved people stay in work for good.
    r = compute(case_a(**{"after.E.U": 0.0}))
    assert r.years[2]["people_action"] == pytest.approx({"U": 12 * 0.9, "E": 8 + 12 * 0.1})


def test_switching_value_of_case_a():
    # NPV is linear in action.U.E here: G(p) = 602 665.06 · (p − 0.1) / 0.3, K = 240 000.
    expected = 0.1 + 0.3 * 240000 / 602665.0603835
    assert switching_value(case_a()) == pytest.approx(expected, abs=1e-9)
    assert switching_value(case_a(), "action.U.E") == pytest.approx(0.219469, abs=1e-6)


def test_switching_value_none_when_npv_keeps_its_sign():
    assert switching_value(case_a(**{"programme.cost.U.gmina": 1_000_000})) is None


def test_tornado_is_ranked_and_led_by_the_effect():
    rows = tornado(case_a())
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    assert rows[0]["key"] == "action.U.E"
    top = rows[0]
    assert (top["low"], top["high"]) == pytest.approx((0.32, 0.48))
    # linear in p: NPV(0.48) − NPV(0.32) = 602 665.06 · 0.16 / 0.3
    assert top["swing"] == pytest.approx(602665.0603835 * 0.16 / 0.3)
    people = next(r for r in rows if r["key"] == "start.U")
    assert people["npv_high"] == pytest.approx(362665.0603835 * 1.2)


def test_tornado_keeps_probabilities_valid():
    rows = tornado(case_a(**{"action.U.E": 0.95}))
    effect = next(r for r in rows if r["key"] == "action.U.E")
    assert effect["high"] == 1.0


def test_sensitivity_bundle():
    sens = sensitivity(case_a())
    assert sens["switching"]["key"] == "action.U.E"
    assert sens["switching"]["current"] == 0.4
    assert sens["switching"]["top"] == 1.0
    assert sens["tornado"][0]["key"] == "action.U.E"


# --------------------------------------------------------------------- Monte Carlo


def test_monte_carlo_reproducible_and_sensible():
    scn = case_a(**{"action.U.E": Range(0.3, 0.4, 0.5)})
    a = run_monte_carlo(scn, 10_000, seed=7)
    b = run_monte_carlo(scn, 10_000, seed=7)
    c = run_monte_carlo(scn, 10_000, seed=8)
    assert a == b
    assert a != c
    assert a["p5"] < a["p50"] < a["p95"]
    assert a["p_npv_positive"] == 1.0
    # NPV is linear in p; the 5th percentile of Triangular(0.3, 0.4, 0.5) is 0.3 + sqrt(0.05·0.2·0.1)
    p5 = 0.3 + math.sqrt(0.05 * 0.2 * 0.1)
    assert a["p5"] == pytest.approx(-240000 + 602665.0603835 * (p5 - 0.1) / 0.3, rel=0.01)
    assert a["p50"] == pytest.approx(362665.06, rel=0.01)


def test_monte_carlo_chance_of_breaking_even():
    # Triangular(0.1, 0.4, 0.4): P(p < s) = (s − 0.1)² / 0.09 with s the switching value.
    s = 0.1 + 0.3 * 240000 / 602665.0603835
    scn = case_a(**{"action.U.E": Range(0.1, 0.4, 0.4)})
    mc = run_monte_carlo(scn, 10_000, seed=1)
    assert mc["p_npv_positive"] == pytest.approx(1 - (s - 0.1) ** 2 / 0.09, abs=0.015)


def test_compute_runs_monte_carlo_when_ranges_are_given():
    r = compute(case_a(**{"cost.E.state": Range(-30000, -26213, -20000)}))
    assert r.monte_carlo is not None and r.monte_carlo["draws"] == 10_000
    assert round(r.npv, 2) == 362665.06  # the deterministic figures use the mode
    assert compute(case_a(**{"cost.E.state": Range(-30000, -26213, -20000)})).monte_carlo == r.monte_carlo


def test_integer_ranges_are_drawn_as_integers():
    mc = run_monte_carlo(case_a(horizon=Range(5, 7, 9), **{"programme.years": Range(1, 1, 3)}), 2000, seed=3)
    assert mc["p5"] < mc["p95"]


def test_ranges_that_break_a_row_fail_before_drawing():
    scn = Scenario(
        states=("A", "B", "C"),
        params={"start.A": 10, "action.A.B": Range(0.3, 0.5, 0.7), "action.A.C": 0.4},
    )
    with pytest.raises(CalcError) as e:
        run_monte_carlo(scn, 10)
    assert e.value.message_key == "calc.error.row_sum_range"
    assert "“A”" in str(e.value) and "action" in str(e.value) and "1.1" in str(e.value)


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "changes, message_key, named",
    [
        ({"action.U.E": 1.4}, "calc.error.probability", "action.U.E"),
        ({"inaction.E.U": -0.1}, "calc.error.probability", "inaction.E.U"),
        ({"start.U": -5}, "calc.error.negative_people", "start.U"),
        ({"horizon": 0}, "calc.error.horizon", "horizon"),
        ({"horizon": 51}, "calc.error.horizon", "horizon"),
        ({"horizon": Range(3, 7, 60)}, "calc.error.horizon", "horizon"),
        ({"action.U.X": 0.1}, "calc.error.unknown_state", "action.U.X"),
        ({"cost.Z.gmina": 5}, "calc.error.unknown_state", "cost.Z.gmina"),
        ({"speed": 5}, "calc.error.unknown_key", "speed"),
        ({"action.U.E": Range(0.5, 0.5, 0.3)}, "calc.error.range_order", "action.U.E"),
        ({"action.U.E": Range(0.3, 0.9, 0.5)}, "calc.error.range_mode", "action.U.E"),
        ({"discount_rate": 2}, "calc.error.out_of_range", "discount_rate"),
        ({"attribution": 1.5}, "calc.error.out_of_range", "attribution"),
        ({"programme.years": 1.5}, "calc.error.integer", "programme.years"),
        ({"action.U.U": 0.1}, "calc.error.self_transition", "action.U.U"),
        ({"cost.U.gmina": float("nan")}, "calc.error.not_a_number", "cost.U.gmina"),
    ],
)
def test_bad_input_names_the_key(changes, message_key, named):
    with pytest.raises(CalcError) as e:
        compute(case_a(**changes))
    assert e.value.message_key == message_key
    assert named in str(e.value)


def test_row_sum_above_one():
    scn = Scenario(states=("A", "B", "C"), params={"start.A": 1, "inaction.A.B": 0.6, "inaction.A.C": 0.5})
    with pytest.raises(CalcError) as e:
        compute(scn)
    assert e.value.message_key == "calc.error.row_sum"
    assert "“A”" in str(e.value) and "inaction" in str(e.value) and "1.1" in str(e.value)


def test_after_follows_inaction_in_row_sums():
    # after.A.C plus the inherited inaction.A.B exceed 1
    scn = Scenario(states=("A", "B", "C"), params={"start.A": 1, "inaction.A.B": 0.6, "after.A.C": 0.5})
    with pytest.raises(CalcError) as e:
        compute(scn)
    assert e.value.params["table"] == "after"


def test_error_carries_params_for_translation():
    with pytest.raises(CalcError) as e:
        compute(case_a(**{"action.U.E": 1.4}))
    assert e.value.params == {"key": "action.U.E", "value": 1.4}  # a number, formatted for each reader
    assert "„action.U.E” = 1,4 nie jest prawdopodobieństwem" in e.value.message("pl")
    assert "“action.U.E” = 1.4 is not a probability" in e.value.message("en")


def test_numbers_in_errors_are_written_as_the_reader_writes_them():
    from commands.calculator.scenario import scenario_from_model

    with pytest.raises(CalcError) as e:
        scenario_from_model("unemployment", ["draws=100000000"])
    assert e.value.message("en") == "“draws” = 100,000,000: allowed from 1 to 1,000,000."
    assert e.value.message("pl") == "„draws” = 100\xa0000\xa0000: dozwolone od 1 do 1\xa0000\xa0000."


# --------------------------------------------------------------------- properties


@st.composite
def scenarios(draw):
    n = draw(st.integers(2, 4))
    states = tuple("ABCD"[:n])
    payers = ("gmina", "powiat", "state")
    unit = st.floats(0, 1, allow_nan=False)
    params = {f"start.{s}": draw(st.floats(0, 1000)) for s in states}
    for table in ("inaction", "action"):
        for s in states:
            weights = [draw(unit) for _ in range(n)]  # n weights: n − 1 moves and the stay
            total = sum(weights) or 1.0
            for t, w in zip([t for t in states if t != s], weights):
                params[f"{table}.{s}.{t}"] = w / total
    for s in states:
        for p in payers:
            if draw(st.booleans()):
                params[f"cost.{s}.{p}"] = draw(st.floats(-30000, 30000))
        if draw(st.booleans()):
            params[f"programme.cost.{s}.{draw(st.sampled_from(payers))}"] = draw(st.floats(0, 20000))
    params["horizon"] = draw(st.integers(1, 12))
    params["programme.years"] = draw(st.integers(0, 4))
    params["discount_rate"] = draw(st.sampled_from([0.0, 0.035, 0.1]))
    params["attribution"] = draw(st.sampled_from([0.0, 0.2]))
    return Scenario(states=states, params=params)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_payer_split_sums_to_totals_and_npv_is_g_minus_k(scn):
    r = compute(scn)
    scale = 1 + abs(r.gross_savings) + abs(r.programme_cost)
    assert sum(v["gross_savings"] for v in r.by_payer.values()) == pytest.approx(r.gross_savings, abs=1e-9 * scale)
    assert sum(v["programme_cost"] for v in r.by_payer.values()) == pytest.approx(r.programme_cost, abs=1e-9 * scale)
    assert r.npv == pytest.approx(r.gross_savings - r.programme_cost, abs=1e-9 * scale)
    people = sum(scn.value(f"start.{s}") for s in scn.states)
    for y in r.years:  # nobody appears or vanishes
        assert sum(y["people_inaction"].values()) == pytest.approx(people, abs=1e-6 * (1 + people))
        assert sum(y["people_action"].values()) == pytest.approx(people, abs=1e-6 * (1 + people))
    assert len(r.years) == scn.value("horizon")


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_same_tables_save_nothing(scn):
    same = {k.replace("inaction.", "action.", 1): v for k, v in scn.params.items() if k.startswith("inaction.")}
    r = compute(scn.with_values(same))
    assert r.gross_savings == pytest.approx(0, abs=1e-6)
