"""Benchmark: a 10 000-draw Monte Carlo of a 3-state model (goal: < 0.5 s).

Baselines measured in the same run: the same 10 000 draws evaluated one at a time
in a Python loop (what the vectorised engine saves), and a 1 000-draw run (how the
cost grows with N). Prints times and ratios; asserts nothing.

    .venv/bin/python bench/calc_monte_carlo.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from commands.calculator.engine import Range, Scenario, _simulate, draw, run_monte_carlo  # noqa: E402

DRAWS = 10_000

# Prison leavers: released (X), employed (E), back in prison (P); ranges on the effects and costs.
SCENARIO = Scenario(
    states=("X", "E", "P"),
    params={
        "start.X": 20,
        "inaction.X.E": Range(0.10, 0.15, 0.20), "inaction.X.P": Range(0.10, 0.15, 0.20),
        "inaction.E.X": 0.15, "inaction.E.P": 0.05, "inaction.P.X": 0.40,
        "action.X.E": Range(0.20, 0.30, 0.40), "action.X.P": Range(0.05, 0.10, 0.15),
        "action.E.X": 0.15, "action.E.P": 0.05, "action.P.X": 0.40,
        "cost.X.gmina": Range(6000, 7260, 8500), "cost.E.state": -26213,
        "cost.P.state": Range(70000, 77599.92, 85000),
        "programme.cost.X.state": Range(8000, 10000, 14000), "programme.years": 1,
    },
)


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def loop_baseline() -> None:
    """The same draws, one deterministic evaluation each, in a Python loop."""
    values = draw(SCENARIO, DRAWS, SCENARIO.seed)
    for i in range(DRAWS):
        one = {k: (v[i] if isinstance(v, np.ndarray) else v) for k, v in values.items()}
        _simulate(SCENARIO, one, 1)


def main() -> None:
    run_monte_carlo(SCENARIO, 100)  # warm-up: imports, numpy caches
    vectorised = best_of(lambda: run_monte_carlo(SCENARIO, DRAWS))
    small = best_of(lambda: run_monte_carlo(SCENARIO, 1_000))
    loop = best_of(loop_baseline, repeat=1)
    print(f"Monte Carlo, 3 states, {DRAWS:,} draws (vectorised): {vectorised * 1000:8.1f} ms  (goal < 500 ms)")
    print(f"Monte Carlo, 3 states, 1,000 draws (vectorised):   {small * 1000:8.1f} ms  -> 10x draws cost {vectorised / small:.1f}x")
    print(f"Baseline: {DRAWS:,} single evaluations in a Python loop: {loop * 1000:8.1f} ms  -> vectorised is {loop / vectorised:.0f}x faster")


if __name__ == "__main__":
    main()
