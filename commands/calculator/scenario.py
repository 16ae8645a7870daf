"""Building scenarios: a built-in model plus ``key=value`` overrides, or a TOML file.

Override values: ``0.4``, ``0,4`` (Polish decimal comma), ``40%``, ``7260``, or a
range ``low..high`` (triangular; mode = the model's default if it lies inside,
else the midpoint) or ``low..mode..high``. Besides the keys of the engine's key
scheme a model has friendly aliases (``people``, ``effect``, ...) and two run
settings, ``draws`` and ``seed``, for Monte Carlo.

TOML (docs/scenarios.md): any number may be ``"low..high"`` (mode at the midpoint) or
``{ low = …, mode = …, high = … }``; a ``[transitions.after]`` table, when given,
is complete (what it does not list stays), as every transition table is.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from .engine import (
    MAX_DRAWS,
    SCALAR_KEYS,
    STANDARD_PAYERS,
    TABLES,
    CalcError,
    Number,
    Range,
    Scenario,
    key_kind,
    validate,
)
from .models import Model, get_model

RUN_KEYS = ("draws", "seed")
_NUMBER = r"[-+]?(?:\d[\d_]*(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?%?"
_RANGE = re.compile(rf"^({_NUMBER})\.\.({_NUMBER})(?:\.\.({_NUMBER}))?$")


def _to_float(key: str, text: str) -> float:
    t = text.strip()
    if not re.fullmatch(_NUMBER, t):
        raise CalcError("calc.error.not_a_number", key=key, value=text)
    pct = t.endswith("%")
    x = float(t.rstrip("%").replace(",", ".").replace("_", ""))
    if not math.isfinite(x):
        raise CalcError("calc.error.not_a_number", key=key, value=text)
    return x / 100 if pct else x


def parse_value(key: str, text: str, default: float | None = None) -> Number:
    """A number or a range; a two-point range takes ``default`` as mode when it fits."""
    t = text.strip()
    m = _RANGE.match(t)
    if not m:
        return _to_float(key, t)
    a = _to_float(key, m.group(1))
    b = _to_float(key, m.group(2))
    if m.group(3) is not None:  # low..mode..high
        low, mode, high = a, b, _to_float(key, m.group(3))
    else:
        low, high = a, b
        mode = default if default is not None and low <= default <= high else (low + high) / 2
    if low > high:
        raise CalcError("calc.error.range_order", key=key, low=low, high=high)
    if not low <= mode <= high:
        raise CalcError("calc.error.range_mode", key=key, low=low, mode=mode, high=high)
    return Range(low, mode, high) if low != high else low


# --------------------------------------------------------------------------- overrides


def valid_keys_text(scn: Scenario, aliases: Iterable[str] = ()) -> str:
    states = "|".join(scn.states)
    payers = "|".join(dict.fromkeys([*scn.payers, *STANDARD_PAYERS]))
    parts = [
        f"start.<{states}>",
        f"inaction|action|after.<{states}>.<{states}>",
        f"cost.<{states}>.<{payers}>",
        f"programme.cost.<{states}>.<{payers}>",
        *SCALAR_KEYS,
        *RUN_KEYS,
        *aliases,
    ]
    return ", ".join(parts)


def _match_state(scn: Scenario, key: str, name: str) -> str:
    if name in scn.states:
        return name
    folded = [s for s in scn.states if s.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    raise CalcError("calc.error.unknown_state", key=key, state=name, states=", ".join(scn.states))


def _match_payer(scn: Scenario, key: str, name: str) -> str:
    allowed = list(dict.fromkeys([*scn.payers, *STANDARD_PAYERS]))
    if name.lower() in allowed:
        return name.lower()
    raise CalcError("calc.error.unknown_payer", key=key, payer=name, payers=", ".join(allowed))


def resolve_key(scn: Scenario, key: str, aliases: Mapping[str, str] = {}) -> str:
    """The canonical key for what a user typed, or CalcError naming it."""
    raw = key.strip()
    k = aliases.get(raw, aliases.get(raw.lower(), raw))
    low = k.lower()
    if low in SCALAR_KEYS or low in RUN_KEYS:
        return low
    parts = k.split(".")
    head = parts[0].lower()
    if head == "start" and len(parts) == 2:
        return f"start.{_match_state(scn, raw, parts[1])}"
    if head in TABLES and len(parts) == 3:
        s, t = (_match_state(scn, raw, p) for p in parts[1:])
        if s == t:
            raise CalcError("calc.error.self_transition", key=raw)
        return f"{head}.{s}.{t}"
    if head == "cost" and len(parts) == 3:
        return f"cost.{_match_state(scn, raw, parts[1])}.{_match_payer(scn, raw, parts[2])}"
    if head == "programme" and len(parts) == 4 and parts[1].lower() == "cost":
        return f"programme.cost.{_match_state(scn, raw, parts[2])}.{_match_payer(scn, raw, parts[3])}"
    raise CalcError("calc.error.unknown_key", key=raw, valid=valid_keys_text(scn, aliases))


def split_overrides(items: Iterable[str] | Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(items, Mapping):
        return [(str(k), str(v)) for k, v in items.items()]
    pairs = []
    for token in items:
        key, sep, value = token.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CalcError("calc.error.bad_override", token=token)
        pairs.append((key.strip(), value.strip()))
    return pairs


def apply_overrides(
    scn: Scenario, items: Iterable[str] | Mapping[str, str], aliases: Mapping[str, str] = {}
) -> Scenario:
    """A new scenario with the overrides applied; validated."""
    params = dict(scn.params)
    draws, seed = scn.draws, scn.seed
    typed = dict(scn.overrides)
    for raw_key, text in split_overrides(items):
        key = resolve_key(scn, raw_key, aliases)
        typed[key] = text
        if key == "draws":
            draws = _integer(key, _to_float(key, text), 1, MAX_DRAWS)
            continue
        if key == "seed":
            seed = _integer(key, _to_float(key, text), 0, 2**63 - 1)
            continue
        current = params.get(key)
        default = None if current is None else (current.mode if isinstance(current, Range) else float(current))
        params[key] = parse_value(key, text, default)
    out = replace(scn, params=params, draws=draws, seed=seed, overrides=typed)
    validate(out)
    return out


def _integer(key: str, x: float, low: int, high: int) -> int:
    if x != int(x):
        raise CalcError("calc.error.integer", key=key, value=x)
    if not low <= x <= high:
        raise CalcError("calc.error.out_of_range", key=key, value=x, min=low, max=high)
    return int(x)


def scenario_from_model(model: Model | str, overrides: Iterable[str] | Mapping[str, str] = ()) -> Scenario:
    """A built-in model's scenario with ``key=value`` overrides (strings as typed)."""
    m = get_model(model) if isinstance(model, str) else model
    return apply_overrides(m.scenario(), overrides, m.aliases)


# --------------------------------------------------------------------------- TOML

_TOP_KEYS = ("name", "model", "main_effect", "horizon", "discount_rate", "states", "start",
             "transitions", "costs", "programme", "adjustments", "monte_carlo")
_ADJUSTMENTS = ("attribution", "optimism_bias_benefits", "optimism_bias_costs")


def _toml_number(key: str, value: Any) -> Number:
    if isinstance(value, bool):
        raise CalcError("calc.error.not_a_number", key=key, value=value)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise CalcError("calc.error.not_a_number", key=key, value=value)
        return float(value)
    if isinstance(value, str):
        return parse_value(key, value)  # "low..high": mode at the midpoint
    if isinstance(value, dict):
        extra = set(value) - {"low", "mode", "high"}
        if extra or not {"low", "high"} <= set(value):
            raise CalcError("calc.error.bad_range_table", key=key)
        low, high = (float(_toml_number(key, value[k])) for k in ("low", "high"))
        mode = float(_toml_number(key, value["mode"])) if "mode" in value else (low + high) / 2
        if low > high:
            raise CalcError("calc.error.range_order", key=key, low=low, high=high)
        if not low <= mode <= high:
            raise CalcError("calc.error.range_mode", key=key, low=low, mode=mode, high=high)
        return Range(low, mode, high) if low != high else low
    raise CalcError("calc.error.not_a_number", key=key, value=value)


def _table(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CalcError("calc.error.expected_table", key=key)
    return value


def _known(where: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for k in table:
        if k not in allowed:
            full = f"{where}.{k}" if where else k
            raise CalcError("calc.error.unknown_key", key=full, valid=", ".join(allowed))


def scenario_from_dict(data: Mapping[str, Any]) -> Scenario:
    _known("", data, _TOP_KEYS)
    if "model" in data:  # a built-in model as the base, with the file's values on top
        base = get_model(str(data["model"])).scenario()
        states = list(base.states)
        params: dict[str, Number] = dict(base.params)
        if "states" in data:
            raise CalcError("calc.error.model_and_states")
    else:
        if "states" not in data:
            raise CalcError("calc.error.missing", key="states")
        states = data["states"]
        if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
            raise CalcError("calc.error.expected_list", key="states")
        params = {}
    for key in ("horizon", "discount_rate"):
        if key in data:
            params[key] = _toml_number(key, data[key])
    for s, v in _table("start", data.get("start", {})).items():
        params[f"start.{s}"] = _toml_number(f"start.{s}", v)
    transitions = _table("transitions", data.get("transitions", {}))
    _known("transitions", transitions, TABLES)
    for table, rows in transitions.items():
        # A given table is complete: clear what the base (a model) had in it.
        for k in [k for k in params if k.startswith(table + ".")]:
            del params[k]
        for s, moves in _table(f"transitions.{table}", rows).items():
            for t, v in _table(f"transitions.{table}.{s}", moves).items():
                params[f"{table}.{s}.{t}"] = _toml_number(f"{table}.{s}.{t}", v)
        if table == "after":  # unlisted cells stay: make them explicit so they do not follow inaction
            for s in states:
                for t in states:
                    if s != t:
                        params.setdefault(f"after.{s}.{t}", 0.0)
    for s, by_payer in _table("costs", data.get("costs", {})).items():
        for p, v in _table(f"costs.{s}", by_payer).items():
            params[f"cost.{s}.{p}"] = _toml_number(f"cost.{s}.{p}", v)
    programme = _table("programme", data.get("programme", {}))
    _known("programme", programme, ("years", "cost"))
    if "years" in programme:
        params["programme.years"] = _toml_number("programme.years", programme["years"])
    for s, by_payer in _table("programme.cost", programme.get("cost", {})).items():
        for p, v in _table(f"programme.cost.{s}", by_payer).items():
            params[f"programme.cost.{s}.{p}"] = _toml_number(f"programme.cost.{s}.{p}", v)
    adjustments = _table("adjustments", data.get("adjustments", {}))
    _known("adjustments", adjustments, _ADJUSTMENTS)
    for k, v in adjustments.items():
        params[k] = _toml_number(k, v)
    mc = _table("monte_carlo", data.get("monte_carlo", {}))
    _known("monte_carlo", mc, RUN_KEYS)
    scn = Scenario(states=tuple(states), params=params, name=str(data.get("name", "")))
    if "model" in data:
        model = get_model(str(data["model"]))
        scn = replace(scn, model_id=model.id, main_effect=model.main_effect, name=scn.name or model.name["en"])
    if "main_effect" in data:
        scn = replace(scn, main_effect=str(data["main_effect"]))
    elif scn.main_effect is None:
        scn = replace(scn, main_effect=_guess_main_effect(scn))
    for k in RUN_KEYS:
        if k in mc:
            v = mc[k]
            if isinstance(v, bool) or not isinstance(v, int):
                raise CalcError("calc.error.integer", key=f"monte_carlo.{k}", value=v)
            low, high = (1, MAX_DRAWS) if k == "draws" else (0, 2**63 - 1)
            scn = replace(scn, **{k: _integer(f"monte_carlo.{k}", v, low, high)})
    validate(scn)
    return scn


def _guess_main_effect(scn: Scenario) -> str | None:
    """The action transition that differs most from inaction: what the programme is for."""
    best, gap = None, 0.0
    for s in scn.states:
        for t in scn.states:
            if s != t:
                d = abs(scn.value(f"action.{s}.{t}") - scn.value(f"inaction.{s}.{t}"))
                if d > gap:
                    best, gap = f"action.{s}.{t}", d
    return best


def load_scenario_text(text: str) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CalcError("calc.error.toml", error=str(e)) from None
    return scenario_from_dict(data)


def load_scenario(path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CalcError("calc.error.file", path=str(path), error=getattr(e, "strerror", None) or str(e)) from None
    return load_scenario_text(text)


def _toml_value(v: Number) -> str:
    if isinstance(v, Range):
        return f"{{ low = {v.low!r}, mode = {v.mode!r}, high = {v.high!r} }}"
    return repr(float(v))


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dump_toml(scn: Scenario) -> str:
    """The scenario as a TOML file that load_scenario_text reads back to the same params."""
    p = scn.params
    lines = [f"name = {_toml_str(scn.name)}"]
    if scn.main_effect:
        lines.append(f"main_effect = {_toml_str(scn.main_effect)}")
    for k in ("horizon", "discount_rate"):
        if k in p:
            lines.append(f"{k} = {_toml_value(p[k])}")
    lines.append("states = [" + ", ".join(_toml_str(s) for s in scn.states) + "]")
    lines += ["", "[start]"] + [f"{s} = {_toml_value(p[f'start.{s}'])}" for s in scn.states if f"start.{s}" in p]

    def cells(prefix: str, rows: Iterable[str], cols: Iterable[str]) -> list[str]:
        out = []
        cols = list(cols)
        for s in rows:
            items = [f"{c} = {_toml_value(p[f'{prefix}{s}.{c}'])}" for c in cols if f"{prefix}{s}.{c}" in p]
            if items:
                out.append(f"{s} = {{ " + ", ".join(items) + " }")
        return out

    has_after = any(key_kind(k) == "transition" and k.startswith("after.") for k in p)
    for table in TABLES:
        if table == "after" and not has_after:
            continue
        lines += ["", f"[transitions.{table}]"]
        if table == "after":  # a written table is complete: spell out the cells that follow inaction
            for s in scn.states:
                items = []
                for t in scn.states:
                    if s == t:
                        continue
                    v = p.get(f"after.{s}.{t}", p.get(f"inaction.{s}.{t}"))
                    if v is not None:
                        items.append(f"{t} = {_toml_value(v)}")
                if items:
                    lines.append(f"{s} = {{ " + ", ".join(items) + " }")
        else:
            lines += cells(f"{table}.", scn.states, scn.states)
    lines += ["", "[costs]"] + cells("cost.", scn.states, scn.payers)
    lines += ["", "[programme]"]
    if "programme.years" in p:
        lines.append(f"years = {_toml_value(p['programme.years'])}")
    lines += ["", "[programme.cost]"] + cells("programme.cost.", scn.states, scn.payers)
    adj = [f"{k} = {_toml_value(p[k])}" for k in _ADJUSTMENTS if k in p]
    if adj:
        lines += ["", "[adjustments]"] + adj
    lines += ["", "[monte_carlo]", f"draws = {scn.draws}", f"seed = {scn.seed}", ""]
    return "\n".join(lines)
