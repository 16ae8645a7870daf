"""leaders-hub calc: JSON output, text, and one-line errors with exit code 2."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the repo root, when not installed

import io
import json
import subprocess

import pytest

from commands.calculator.cli import run_cli
from test_calc_scenario import CASE_A_TOML


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = run_cli(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_scenario_json_in_a_subprocess(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(CASE_A_TOML, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "commands.calculator.cli", "calc", "--scenario", str(path), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["gross_savings"] == 602665.06
    assert data["programme_cost"] == 240000.0
    assert data["npv"] == 362665.06
    assert data["bcr"] == 2.5111
    assert data["roi"] == 1.5111
    assert data["break_even_year"] == 3
    assert data["cost_of_inaction_undiscounted"] == 660372.6
    assert data["by_payer"] == {
        "gmina": {"gross_savings": 130712.76, "programme_cost": 240000.0},
        "state": {"gross_savings": 471952.3, "programme_cost": 0.0},
    }
    assert len(data["years"]) == 7
    year2 = data["years"][1]
    assert year2["year"] == 2 and year2["cost_of_inaction"] == 200838.0 and year2["programme_cost"] == 0
    assert year2["people_inaction"] == {"U": 18.0, "E": 2.0}
    assert year2["people_action"] == {"U": 12.0, "E": 8.0}
    assert "monte_carlo" not in data


def test_model_json_with_ranges():
    code, out, err = run("unemployment", "action.U.E=0.3..0.5", "draws=2000", "seed=4", "--json")
    assert code == 0, err
    data = json.loads(out)
    mc = data["monte_carlo"]
    assert mc["draws"] == 2000 and mc["seed"] == 4
    assert mc["p_npv_positive"] == 1.0 and mc["p5"] < mc["p50"] < mc["p95"]
    assert run("unemployment", "action.U.E=0.3..0.5", "draws=2000", "seed=4", "--json")[1] == out


def test_gmina_only_break_even_is_null():
    code, out, _ = run("calc", "unemployment", "cost.E.state=0", "--json")
    data = json.loads(out)
    assert data["npv"] == -109287.24 and data["bcr"] == 0.5446 and data["break_even_year"] is None


def test_text_models_and_show():
    code, out, _ = run("models", "--lang", "pl")
    assert code == 0 and "`family`" in out
    code, out, _ = run("show", "prison")
    assert code == 0 and "PLN 6,466.66" in out and "zł" not in out  # one currency style a reply
    code, out, _ = run("models", "--json")
    assert {m["id"] for m in json.loads(out)} >= {"unemployment", "disability"}


def test_text_result_with_sensitivity_and_chart(tmp_path):
    png = tmp_path / "c.png"
    code, out, err = run("unemployment", "--sensitivity", "--chart", str(png))
    assert code == 0, err
    assert "NPV = G − K" in out and "Switching value" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv, named",
    [
        (["weather"], "weather"),
        (["unemployment", "speed=3"], "speed"),
        (["unemployment", "action.U.E=2"], "action.U.E"),
        (["unemployment", "horizon=0"], "horizon"),
        (["unemployment", "people=-2"], "start.U"),
        (["unemployment", "effect=0.5..0.1"], "action.U.E"),
        (["unemployment", "action.U.Q=0.1"], "Q"),
        (["--scenario", "/nonexistent.toml"], "/nonexistent.toml"),
        (["--frobnicate"], "--frobnicate"),
        ([], "leaders-hub calc"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, named):
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and named in err
    assert "Traceback" not in err
