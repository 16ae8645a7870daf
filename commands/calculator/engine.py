"""Calculator of Costs of Inaction: the multi-state cohort model (docs/calculator.md).

Pure: no I/O, no chat. A :class:`Scenario` is a flat mapping of parameter
keys (the override key scheme below) to numbers or :class:`Range` s; every
computation is vectorised over "draws" so that one code path serves the
deterministic run (one draw), Monte Carlo (N draws), the tornado (2 draws per
input) and the switching-value search (a grid of draws).

Key scheme (one key per parameter, the same in overrides and internally):

    start.<S>                         people in state S in year 0
    inaction.<S>.<T>                  yearly probability S -> T without the programme
    action.<S>.<T>                    ... while the programme runs
    after.<S>.<T>                     ... after it ends (each cell defaults to inaction)
    cost.<S>.<payer>                  public cost per person-year (negative = revenue)
    programme.cost.<S>.<payer>        programme cost per person-year in S (action scenario)
    programme.years                   years the programme runs (default 1)
    horizon                           T, years (default 7, 1..50)
    discount_rate                     r (default 0.035)
    attribution                       a (default 0)
    optimism_bias_benefits            OB_b (default 0)
    optimism_bias_costs               OB_c (default 0)

numpy (~10 MB of memory) is imported inside the functions that compute, so a bot
nobody asks for a calculation never loads it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import numpy as np

HORIZON_MIN, HORIZON_MAX = 1, 50
DEFAULT_HORIZON = 7
DEFAULT_DISCOUNT_RATE = 0.035
DEFAULT_DRAWS = 10_000
MAX_DRAWS = 1_000_000
DEFAULT_SEED = 20140101  # any fixed seed: the same input gives the same Monte Carlo figures
TORNADO_SHIFT = 0.20
TABLES = ("inaction", "action", "after")
# Payers a user may name in an override even if the model does not use them yet.
STANDARD_PAYERS = ("gmina", "powiat", "voivodeship", "state", "nfz", "zus", "pfron")
SCALAR_KEYS = (
    "horizon",
    "discount_rate",
    "attribution",
    "optimism_bias_benefits",
    "optimism_bias_costs",
    "programme.years",
)
INTEGER_KEYS = frozenset({"horizon", "programme.years"})
# Allowed interval of each scalar (inclusive). Cost-side optimism bias can exceed
# 100 % in the Green Book's tables (up to 200 % for equipment/development).
SCALAR_BOUNDS = {
    "horizon": (HORIZON_MIN, HORIZON_MAX),
    "programme.years": (0, HORIZON_MAX),
    "discount_rate": (0.0, 1.0),
    "attribution": (0.0, 1.0),
    "optimism_bias_benefits": (0.0, 1.0),
    "optimism_bias_costs": (0.0, 3.0),
}
SCALAR_DEFAULTS = {
    "horizon": DEFAULT_HORIZON,
    "discount_rate": DEFAULT_DISCOUNT_RATE,
    "attribution": 0.0,
    "optimism_bias_benefits": 0.0,
    "optimism_bias_costs": 0.0,
    "programme.years": 1,
}
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Break-even compares a cumulative sum with 0; allow for float noise (zł).
_EPS = 1e-6


ECHOED = ("key", "value", "token", "model", "state", "payer", "path", "table", "low", "high", "mode")  # user text


class CalcError(Exception):
    """Bad input. ``message_key`` is a key of messages.CATALOGUE and ``params`` its
    arguments (``params["key"]`` names the offending parameter, where there is one),
    so the chat face can translate it: ``t(lang, e.message_key, **e.params)``.
    ``str()`` gives the English text."""

    def __init__(self, message_key: str, /, **params: Any) -> None:
        self.message_key = message_key
        self.params = params
        super().__init__(message_key)

    def shown_params(self, lang: str = "en") -> dict[str, Any]:
        """The parameters as a reader of ``lang`` sees them: numbers in the locale's format
        (``100,000,000``, not ``1e+08``), what the user typed cut to about 60 characters."""
        from bot.i18n import number
        from bot.reply import clip

        shown: dict[str, Any] = {}
        for name, value in self.params.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                shown[name] = number(value, lang, "#,##0.##########")
            elif isinstance(value, str) and name in ECHOED:
                shown[name] = clip(value)
            else:
                shown[name] = value
        return shown

    def message(self, lang: str = "en") -> str:
        from .messages import CATALOGUE  # local: messages is plain data, no cycle at import

        template = CATALOGUE.get(lang, CATALOGUE["en"]).get(self.message_key, self.message_key)
        try:
            return template.format(**self.shown_params(lang))
        except (KeyError, IndexError, ValueError):
            return template

    def __str__(self) -> str:
        return self.message("en")


@dataclass(frozen=True)
class Range:
    """A triangular distribution low <= mode <= high."""

    low: float
    mode: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "mode": self.mode, "high": self.high}


Number = float | Range


def central(value: Number) -> float:
    """The value used by the deterministic run: the mode of a range."""
    return value.mode if isinstance(value, Range) else float(value)


@dataclass
class Scenario:
    """Everything a computation needs; ``params`` maps keys (see module doc) to values.

    Missing transition cells are 0 (the person stays); missing ``after`` cells
    follow the ``inaction`` cell (the effect stops, moved people stay moved).
    """

    states: tuple[str, ...]
    params: dict[str, Number]
    name: str = ""
    model_id: str | None = None
    main_effect: str | None = None  # transition key for the switching value
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    overrides: dict[str, str] = field(default_factory=dict)  # what the user typed, for the reply

    @property
    def payers(self) -> tuple[str, ...]:
        """Payers named by any cost, in first-seen order."""
        seen: dict[str, None] = {}
        for key in self.params:
            parts = key.split(".")
            if parts[0] == "cost" and len(parts) == 3:
                seen[parts[2]] = None
            elif parts[:2] == ["programme", "cost"] and len(parts) == 4:
                seen[parts[3]] = None
        return tuple(seen)

    def value(self, key: str) -> float:
        """Central value of a key, with the documented defaults."""
        if key in self.params:
            return central(self.params[key])
        parts = key.split(".")
        if parts[0] == "after" and len(parts) == 3:
            return self.value("inaction." + ".".join(parts[1:]))
        return float(SCALAR_DEFAULTS.get(key, 0.0))

    def ranged(self) -> dict[str, Range]:
        return {k: v for k, v in self.params.items() if isinstance(v, Range) and v.low != v.high}

    def with_values(self, values: Mapping[str, Number]) -> "Scenario":
        params = dict(self.params)
        params.update(values)
        return replace(self, params=params)


# --------------------------------------------------------------------------- keys


def is_identifier(name: str) -> bool:
    return bool(_IDENT.match(name))


def key_kind(key: str) -> str:
    """'start', 'transition', 'cost', 'programme_cost' or the scalar key itself."""
    parts = key.split(".")
    if key in SCALAR_KEYS:
        return key
    if parts[0] == "start" and len(parts) == 2:
        return "start"
    if parts[0] in TABLES and len(parts) == 3:
        return "transition"
    if parts[0] == "cost" and len(parts) == 3:
        return "cost"
    if parts[:2] == ["programme", "cost"] and len(parts) == 4:
        return "programme_cost"
    return "unknown"


def key_patterns() -> list[str]:
    return [
        "start.<state>",
        "inaction.<from>.<to>",
        "action.<from>.<to>",
        "after.<from>.<to>",
        "cost.<state>.<payer>",
        "programme.cost.<state>.<payer>",
        *SCALAR_KEYS,
    ]


# --------------------------------------------------------------------------- validation


def _check_range(key: str, value: Number) -> None:
    if isinstance(value, Range):
        if not all(math.isfinite(x) for x in (value.low, value.mode, value.high)):
            raise CalcError("calc.error.not_a_number", key=key, value=value)
        if value.low > value.high:
            raise CalcError("calc.error.range_order", key=key, low=value.low, high=value.high)
        if not value.low <= value.mode <= value.high:
            raise CalcError(
                "calc.error.range_mode", key=key, low=value.low, mode=value.mode, high=value.high
            )
    elif not math.isfinite(value):
        raise CalcError("calc.error.not_a_number", key=key, value=value)


def _bounds(value: Number) -> tuple[float, float]:
    return (value.low, value.high) if isinstance(value, Range) else (float(value), float(value))


def _fmt(x: float) -> float:
    """A number in an error's parameters stays a number: the message formats it for its reader."""
    return x


def validate(scn: Scenario) -> None:
    """Raise CalcError for the first problem found; ranges are checked at both ends,
    so a valid scenario cannot produce an invalid draw."""
    if not scn.states:
        raise CalcError("calc.error.no_states")
    for s in scn.states:
        if not is_identifier(s):
            raise CalcError("calc.error.bad_state_name", state=s)
    if len(set(scn.states)) != len(scn.states):
        raise CalcError("calc.error.duplicate_state", states=", ".join(scn.states))
    states = set(scn.states)
    for key, value in scn.params.items():
        _check_range(key, value)
        lo, hi = _bounds(value)
        kind = key_kind(key)
        parts = key.split(".")
        if kind == "unknown":
            raise CalcError("calc.error.unknown_key", key=key, valid=", ".join(key_patterns()))
        if kind in SCALAR_BOUNDS:
            low, high = SCALAR_BOUNDS[kind]
            if kind == "horizon" and not (low <= lo and hi <= high):
                raise CalcError("calc.error.horizon", key=key, value=_fmt(lo if lo < low else hi),
                                min=low, max=high)
            if not (low <= lo and hi <= high):
                raise CalcError("calc.error.out_of_range", key=key,
                                value=_fmt(lo if lo < low else hi), min=_fmt(low), max=_fmt(high))
            continue
        named = {"start": parts[1:2], "transition": parts[1:3], "cost": parts[1:2],
                 "programme_cost": parts[2:3]}[kind]
        for s in named:
            if s not in states:
                raise CalcError("calc.error.unknown_state", key=key, state=s,
                                states=", ".join(scn.states))
        if kind == "start" and lo < 0:
            raise CalcError("calc.error.negative_people", key=key, value=_fmt(lo))
        if kind == "transition":
            if parts[1] == parts[2]:
                raise CalcError("calc.error.self_transition", key=key)
            if not (0.0 <= lo and hi <= 1.0):
                raise CalcError("calc.error.probability", key=key, value=_fmt(lo if lo < 0 else hi))
        if kind in ("cost", "programme_cost") and not is_identifier(parts[-1]):
            raise CalcError("calc.error.bad_payer_name", key=key, payer=parts[-1])
    # Row sums: the highs of every move in a row must fit in 1, else some draw would not.
    for table in TABLES:
        for s in scn.states:
            total, ranged = 0.0, False
            for t in scn.states:
                if t == s:
                    continue
                key = f"{table}.{s}.{t}"
                value = scn.params.get(key)
                if value is None and table == "after":
                    value = scn.params.get(f"inaction.{s}.{t}")
                if value is None:
                    continue
                total += _bounds(value)[1]
                ranged = ranged or isinstance(value, Range)
            if total > 1.0 + 1e-12:
                raise CalcError("calc.error.row_sum_range" if ranged else "calc.error.row_sum",
                                table=table, state=s, total=_fmt(round(total, 10)))
    for key in INTEGER_KEYS:  # a range of an integer is rounded at each draw; a value must be whole
        value = scn.params.get(key)
        if value is not None and not isinstance(value, Range) and float(value) != int(value):
            raise CalcError("calc.error.integer", key=key, value=_fmt(float(value)))
    if not 1 <= scn.draws <= MAX_DRAWS:
        raise CalcError("calc.error.out_of_range", key="draws", value=scn.draws, min=1, max=MAX_DRAWS)
    if scn.main_effect is not None:
        check_transition_key(scn, scn.main_effect)


def check_transition_key(scn: Scenario, key: str) -> None:
    parts = key.split(".")
    if key_kind(key) != "transition":
        raise CalcError("calc.error.not_a_transition", key=key)
    for s in parts[1:]:
        if s not in scn.states:
            raise CalcError("calc.error.unknown_state", key=key, state=s, states=", ".join(scn.states))
    if parts[1] == parts[2]:
        raise CalcError("calc.error.self_transition", key=key)


# --------------------------------------------------------------------------- the model


def _column(values: Mapping[str, Any], key: str, n: int, default: float = 0.0) -> np.ndarray:
    import numpy as np  # imported on first use, not at start: see the module docstring
    v = values.get(key, default)
    return np.broadcast_to(np.asarray(v, dtype=float), (n,))


def _simulate(scn: Scenario, values: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    """Run n draws at once. ``values`` maps keys to floats or arrays of shape (n,);
    absent keys take the defaults. Returns arrays indexed [draw, year, ...]."""
    import numpy as np  # imported on first use, not at start: see the module docstring
    states, payers = scn.states, scn.payers
    S, P = len(states), max(len(payers), 1)
    idx = {s: i for i, s in enumerate(states)}
    pidx = {p: i for i, p in enumerate(payers)}

    start = np.zeros((n, S))
    tables = {t: np.zeros((n, S, S)) for t in TABLES}
    cost = np.zeros((n, S, P))
    prog = np.zeros((n, S, P))
    for key in values:
        parts = key.split(".")
        kind = key_kind(key)
        if kind == "start":
            start[:, idx[parts[1]]] = _column(values, key, n)
        elif kind == "transition":
            tables[parts[0]][:, idx[parts[1]], idx[parts[2]]] = _column(values, key, n)
        elif kind == "cost":
            cost[:, idx[parts[1]], pidx[parts[2]]] = _column(values, key, n)
        elif kind == "programme_cost":
            prog[:, idx[parts[2]], pidx[parts[3]]] = _column(values, key, n)
    # "after" cells not given follow the inaction cell of the same draw.
    for i, s in enumerate(states):
        for j, t in enumerate(states):
            if i != j and f"after.{s}.{t}" not in values:
                tables["after"][:, i, j] = tables["inaction"][:, i, j]
    diag = np.arange(S)
    for m in tables.values():
        m[:, diag, diag] = 0.0
        m[:, diag, diag] = 1.0 - m.sum(axis=2)  # the stay probability

    horizon = np.rint(_column(values, "horizon", n, DEFAULT_HORIZON)).astype(int)
    years = np.rint(_column(values, "programme.years", n, 1)).astype(int)
    rate = _column(values, "discount_rate", n, DEFAULT_DISCOUNT_RATE)
    adj_b = (1 - _column(values, "attribution", n)) * (1 - _column(values, "optimism_bias_benefits", n))
    adj_c = 1 + _column(values, "optimism_bias_costs", n)

    T = int(horizon.max())
    d_in = np.empty((n, T, S))
    d_ac = np.empty((n, T, S))
    d_in[:, 0] = d_ac[:, 0] = start
    for t in range(T - 1):
        d_in[:, t + 1] = np.einsum("ns,nsk->nk", d_in[:, t], tables["inaction"])
        running = (t < years)[:, None, None]
        p_ac = np.where(running, tables["action"], tables["after"])
        d_ac[:, t + 1] = np.einsum("ns,nsk->nk", d_ac[:, t], p_ac)

    t_idx = np.arange(T)
    in_horizon = t_idx[None, :] < horizon[:, None]  # (n, T): draws may have shorter horizons
    active = (t_idx[None, :] < years[:, None]) & in_horizon
    saving = np.einsum("nts,nsp->ntp", d_in - d_ac, cost) * in_horizon[:, :, None]
    spend = np.einsum("nts,nsp->ntp", d_ac, prog) * active[:, :, None]
    df = (1 + rate)[:, None] ** -t_idx[None, :] * in_horizon
    g_p = adj_b[:, None] * np.einsum("nt,ntp->np", df, saving)
    k_p = adj_c[:, None] * np.einsum("nt,ntp->np", df, spend)
    s_t = saving.sum(axis=2)
    k_t = spend.sum(axis=2)
    net = df * (adj_b[:, None] * s_t - adj_c[:, None] * k_t)
    cum = np.cumsum(net, axis=1)
    ok = (cum >= -_EPS) & in_horizon
    reached = ok.any(axis=1)
    break_even = np.where(reached, ok.argmax(axis=1) + 1, 0)  # 0 = none within the horizon
    g, k = g_p.sum(axis=1), k_p.sum(axis=1)
    return {
        "gross_savings": g,
        "programme_cost": k,
        "npv": g - k,
        "g_p": g_p,
        "k_p": k_p,
        "s_t": s_t,
        "k_t": k_t,
        "cum_net": cum,
        "break_even": break_even,
        "undiscounted": s_t.sum(axis=1),
        "d_in": d_in,
        "d_ac": d_ac,
        "horizon": horizon,
    }


def _central_values(scn: Scenario) -> dict[str, float]:
    return {k: central(v) for k, v in scn.params.items()}


def _ratio(num: float, den: float) -> float | None:
    return None if abs(den) < _EPS else num / den


@dataclass
class Result:
    """Figures of one scenario. Money in zł (present values unless named otherwise)."""

    scenario: Scenario
    gross_savings: float
    programme_cost: float
    npv: float
    bcr: float | None
    roi: float | None
    break_even_year: int | None
    cost_of_inaction_undiscounted: float
    by_payer: dict[str, dict[str, float]]
    years: list[dict[str, Any]]
    wrong_pocket: dict[str, Any] | None
    monte_carlo: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of docs/calculator.md: money rounded to the grosz, ratios to 4 places."""
        m = lambda x: round(float(x), 2)  # noqa: E731
        r = lambda x: None if x is None else round(float(x), 4)  # noqa: E731
        out: dict[str, Any] = {
            "name": self.scenario.name,
            "model": self.scenario.model_id,
            "gross_savings": m(self.gross_savings),
            "programme_cost": m(self.programme_cost),
            "npv": m(self.npv),
            "bcr": r(self.bcr),
            "roi": r(self.roi),
            "break_even_year": self.break_even_year,
            "cost_of_inaction_undiscounted": m(self.cost_of_inaction_undiscounted),
            "by_payer": {
                p: {"gross_savings": m(v["gross_savings"]), "programme_cost": m(v["programme_cost"])}
                for p, v in self.by_payer.items()
            },
            "wrong_pocket": self.wrong_pocket is not None,
            "years": [
                {
                    "year": y["year"],
                    "cost_of_inaction": m(y["cost_of_inaction"]),
                    "programme_cost": m(y["programme_cost"]),
                    "cumulative_net_discounted": m(y["cumulative_net_discounted"]),
                    "people_inaction": {s: round(v, 4) for s, v in y["people_inaction"].items()},
                    "people_action": {s: round(v, 4) for s, v in y["people_action"].items()},
                }
                for y in self.years
            ],
            "assumptions": {
                k: (v.to_dict() if isinstance(v, Range) else v) for k, v in self.scenario.params.items()
            },
        }
        if self.monte_carlo is not None:
            mc = self.monte_carlo
            out["monte_carlo"] = {
                "draws": mc["draws"],
                "seed": mc["seed"],
                "p_npv_positive": round(mc["p_npv_positive"], 4),
                "p5": m(mc["p5"]),
                "p50": m(mc["p50"]),
                "p95": m(mc["p95"]),
                "mean": m(mc["mean"]),
                "ranges": {k: v.to_dict() for k, v in self.scenario.ranged().items()},
            }
        return out


def _wrong_pocket(by_payer: dict[str, dict[str, float]]) -> dict[str, Any] | None:
    """An investing payer gets back less than it puts in while another payer gains."""
    investors = [p for p, v in by_payer.items() if v["programme_cost"] > _EPS]
    gainers = [p for p, v in by_payer.items() if v["gross_savings"] > _EPS]
    losers = [p for p in investors if by_payer[p]["gross_savings"] < by_payer[p]["programme_cost"] - _EPS]
    beneficiaries = [p for p in gainers if p not in investors]
    if losers and beneficiaries:
        return {"investors": losers, "beneficiaries": beneficiaries}
    return None


def compute(scn: Scenario, *, monte_carlo: bool | None = None) -> Result:
    """The deterministic figures at the central values, plus Monte Carlo when the
    scenario has ranges (or ``monte_carlo=True``)."""
    validate(scn)
    out = _simulate(scn, _central_values(scn), 1)
    g, k = float(out["gross_savings"][0]), float(out["programme_cost"][0])
    by_payer = {
        p: {"gross_savings": float(out["g_p"][0, i]), "programme_cost": float(out["k_p"][0, i])}
        for i, p in enumerate(scn.payers)
    }
    horizon = int(out["horizon"][0])
    years = [
        {
            "year": t + 1,  # 1-based like break_even_year; year 1 is the base year t = 0
            "cost_of_inaction": float(out["s_t"][0, t]),
            "programme_cost": float(out["k_t"][0, t]),
            "cumulative_net_discounted": float(out["cum_net"][0, t]),
            "people_inaction": {s: float(out["d_in"][0, t, i]) for i, s in enumerate(scn.states)},
            "people_action": {s: float(out["d_ac"][0, t, i]) for i, s in enumerate(scn.states)},
        }
        for t in range(horizon)
    ]
    be = int(out["break_even"][0])
    result = Result(
        scenario=scn,
        gross_savings=g,
        programme_cost=k,
        npv=g - k,
        bcr=_ratio(g, k),
        roi=_ratio(g - k, k),
        break_even_year=be or None,
        cost_of_inaction_undiscounted=float(out["undiscounted"][0]),
        by_payer=by_payer,
        years=years,
        wrong_pocket=_wrong_pocket(by_payer),
    )
    if monte_carlo or (monte_carlo is None and scn.ranged()):
        result.monte_carlo = run_monte_carlo(scn, validated=True)
    return result


# --------------------------------------------------------------------------- uncertainty


def _triangular(u: np.ndarray, r: Range) -> np.ndarray:
    """Inverse CDF of the triangular distribution (handles mode at either end)."""
    import numpy as np  # imported on first use, not at start: see the module docstring
    a, c, b = r.low, r.mode, r.high
    if b == a:
        return np.full_like(u, a)
    fc = (c - a) / (b - a)
    left = a + np.sqrt(u * (b - a) * (c - a))
    right = b - np.sqrt((1 - u) * (b - a) * (b - c))
    return np.where(u < fc, left, right)


def draw(scn: Scenario, draws: int, seed: int) -> dict[str, Any]:
    """Independent triangular draws of every ranged key (sorted, so the stream of
    random numbers does not depend on the order keys were given in)."""
    import numpy as np  # imported on first use, not at start: see the module docstring
    rng = np.random.default_rng(seed)
    ranged = scn.ranged()
    keys = sorted(ranged)
    u = rng.random((draws, len(keys)))
    values: dict[str, Any] = _central_values(scn)
    for j, key in enumerate(keys):
        x = _triangular(u[:, j], ranged[key])
        values[key] = np.rint(x) if key in INTEGER_KEYS else x
    return values


def run_monte_carlo(
    scn: Scenario, draws: int | None = None, seed: int | None = None, *, validated: bool = False
) -> dict[str, Any]:
    import numpy as np  # imported on first use, not at start: see the module docstring
    if not validated:
        validate(scn)  # a range that could break a row is reported before any draw
    n = draws or scn.draws
    seed = scn.seed if seed is None else seed
    if not 1 <= n <= MAX_DRAWS:
        raise CalcError("calc.error.out_of_range", key="draws", value=n, min=1, max=MAX_DRAWS)
    npv = _simulate(scn, draw(scn, n, seed), n)["npv"]
    p5, p50, p95 = np.percentile(npv, [5, 50, 95])
    return {
        "draws": n,
        "seed": seed,
        "p_npv_positive": float(np.mean(npv > 0)),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "mean": float(npv.mean()),
    }


def _row_room(scn: Scenario, key: str, values: Mapping[str, float]) -> float:
    """How high a transition may go before its row's moves sum above 1."""
    table, s, t = key.split(".")
    others = 0.0
    for u in scn.states:
        if u in (s, t):
            continue
        k = f"{table}.{s}.{u}"
        if k in values:
            others += values[k]
        elif table == "after":
            others += values.get(f"inaction.{s}.{u}", 0.0)
    return max(0.0, 1.0 - others)


def _clamp(scn: Scenario, key: str, x: float, values: Mapping[str, float]) -> float:
    kind = key_kind(key)
    if kind in INTEGER_KEYS:
        x = float(round(x))
    if kind in SCALAR_BOUNDS:
        lo, hi = SCALAR_BOUNDS[kind]
        return min(max(x, lo), hi)
    if kind == "transition":
        return min(max(x, 0.0), _row_room(scn, key, values))
    return x


def tornado(scn: Scenario, shift: float = TORNADO_SHIFT) -> list[dict[str, Any]]:
    """NPV at each input −/+ shift (others central), ranked by the NPV swing.
    Values are kept valid (probabilities capped by their row, integers rounded)."""
    import numpy as np  # imported on first use, not at start: see the module docstring
    validate(scn)
    base = _central_values(scn)
    # After-cells that follow inaction move with it; the scalars with defaults count too.
    keys = [k for k in scn.params if base[k] != 0]
    keys += [k for k in SCALAR_KEYS if k not in scn.params and SCALAR_DEFAULTS[k] != 0]
    full = {**{k: float(SCALAR_DEFAULTS[k]) for k in SCALAR_KEYS}, **base}
    rows, meta = [], []
    for key in keys:
        v = full[key]
        lo = _clamp(scn, key, v * (1 - shift), full)
        hi = _clamp(scn, key, v * (1 + shift), full)
        if lo == hi:
            continue
        meta.append((key, v, lo, hi))
        rows += [{**full, key: lo}, {**full, key: hi}]
    if not rows:
        return []
    n = len(rows)
    stacked = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    npv = _simulate(scn, stacked, n)["npv"]
    out = [
        {"key": key, "base": v, "low": lo, "high": hi,
         "npv_low": float(npv[2 * i]), "npv_high": float(npv[2 * i + 1]),
         "swing": float(abs(npv[2 * i + 1] - npv[2 * i]))}
        for i, (key, v, lo, hi) in enumerate(meta)
    ]
    out.sort(key=lambda r: -r["swing"])
    return out


def switching_value(scn: Scenario, key: str | None = None, grid: int = 201) -> float | None:
    """The value of transition ``key`` at which NPV = 0, or None if NPV keeps its sign
    over the whole allowed interval [0, 1 − the row's other moves].

    A grid over the interval (one vectorised run) finds the sign change nearest to
    the current value — NPV need not be monotone — and bisection then narrows it."""
    import numpy as np  # imported on first use, not at start: see the module docstring
    validate(scn)
    key = key or scn.main_effect
    if key is None:
        raise CalcError("calc.error.no_main_effect")
    check_transition_key(scn, key)
    base = _central_values(scn)
    top = _row_room(scn, key, base)
    xs = np.linspace(0.0, top, grid)

    def npv_at(x: np.ndarray) -> np.ndarray:
        vals = {**base, key: x}
        return _simulate(scn, vals, len(x))["npv"]

    ys = npv_at(xs)
    zeros = np.flatnonzero(ys == 0)
    crossings = np.flatnonzero(np.sign(ys[:-1]) * np.sign(ys[1:]) < 0)
    candidates = [(float(xs[i]), float(xs[i])) for i in zeros]
    candidates += [(float(xs[i]), float(xs[i + 1])) for i in crossings]
    if not candidates:
        return None
    current = scn.value(key)
    lo, hi = min(candidates, key=lambda c: abs((c[0] + c[1]) / 2 - current))
    f_lo = float(npv_at(np.array([lo]))[0])
    for _ in range(60):
        if hi - lo < 1e-12:
            break
        mid = (lo + hi) / 2
        f_mid = float(npv_at(np.array([mid]))[0])
        if f_mid == 0:
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def sensitivity(scn: Scenario, key: str | None = None, shift: float = TORNADO_SHIFT) -> dict[str, Any]:
    """The tornado and the switching value of ``key`` (default: the main effect), as
    report.render_sensitivity expects them."""
    out: dict[str, Any] = {"shift": shift, "tornado": tornado(scn, shift), "switching": None}
    key = key or scn.main_effect
    if key is not None:
        check_transition_key(scn, key)
        top = _row_room(scn, key, _central_values(scn))
        out["switching"] = {"key": key, "value": switching_value(scn, key), "current": scn.value(key), "top": top}
    return out
