"""Markdown replies of the calculator, in Polish or English.

Numbers are formatted with Babel for the reply's language (Polish: ``1 234 567 zł``
with no-break spaces; English: ``PLN 1,234,567``). Names that come from a user's
scenario file are escaped; everything else is our own text.
"""

from __future__ import annotations

import re
from typing import Any


from bot.i18n import Translator
from bot.reply import md_escape

from .engine import TORNADO_SHIFT, Range, Result, Scenario, key_kind
from .messages import CATALOGUE
from .models import MODELS, Model, get_model

_default: Translator | None = None


def default_translator() -> Translator:
    """A translator holding just our catalogue, for callers that have none."""
    global _default
    if _default is None:
        _default = Translator()
        _default.register(CATALOGUE)
    return _default


def _loc(lang: str) -> str:
    return "pl" if lang == "pl" else "en"


def money(x: float, lang: str) -> str:
    from babel.numbers import format_decimal  # Babel's locale data: loaded when first needed, not at start

    n = format_decimal(round(x), format="#,##0", locale=_loc(lang))
    return f"{n} zł" if lang == "pl" else f"PLN {n}"


def decimal(x: float, lang: str, fmt: str = "#,##0.##") -> str:
    from babel.numbers import format_decimal

    return format_decimal(x, format=fmt, locale=_loc(lang))


def percent(x: float, lang: str, fmt: str = "#,##0.#%") -> str:
    from babel.numbers import format_percent

    return format_percent(x, format=fmt, locale=_loc(lang))


_ZL_AMOUNT = r"\d{1,3}(?:[ \u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_ZL = re.compile(rf"(?:({_ZL_AMOUNT})\s*[–-]\s*)?({_ZL_AMOUNT})(\s+thousand)?\s*zł")


def in_currency_style(text: str, lang: str) -> str:
    """A model's own text (sources, notes) in the reply's currency style: in English ``PLN 1,229`` for
    the ``1 229 zł`` the sources were written with, so no reply mixes the two styles."""
    if lang == "pl":
        return text

    def amount(raw: str) -> str:
        whole, _, fraction = raw.replace("\u00a0", " ").replace(" ", "").replace(",", ".").partition(".")
        return decimal(float(f"{whole}.{fraction or 0}"), lang, "#,##0.##")

    def replace_amount(match: re.Match) -> str:
        low, high, thousand = match.group(1), match.group(2), match.group(3) or ""
        shown = f"{amount(low)}–{amount(high)}" if low else amount(high)
        return f"PLN {shown}{thousand}"

    return _ZL.sub(replace_amount, text)


def fmt_param(key: str, value: Any, lang: str) -> str:
    """A parameter's value in the unit its key implies."""
    if isinstance(value, Range):
        lo, mode, hi = (fmt_param(key, v, lang) for v in (value.low, value.mode, value.high))
        return f"{lo}…{hi} (≈{mode})"
    kind = key_kind(key)
    if kind in ("transition", "discount_rate", "attribution", "optimism_bias_benefits",
                "optimism_bias_costs"):
        return percent(value, lang)
    if kind in ("cost", "programme_cost"):
        return money(value, lang)
    return decimal(value, lang)


def payer_name(p: str, lang: str, t: Translator) -> str:
    key = f"calc.payer.{p}"
    return t(lang, key) if t.has(key) else md_escape(p)


def _model(scn: Scenario) -> Model | None:
    return MODELS.get(scn.model_id) if scn.model_id else None


def model_name(scn: Scenario, lang: str) -> str:
    model = _model(scn)
    if model is not None and (not scn.name or scn.name == model.name["en"]):
        return model.name[lang if lang in model.name else "en"]
    return md_escape(scn.name or "—")


def _state(scn: Scenario, s: str, lang: str) -> str:
    model = _model(scn)
    return model.state_label(s, lang) if model else md_escape(s)


def state_names(scn: Scenario, lang: str) -> list[tuple[str, str]]:
    """Each state's id and what it means (the model's label; a scenario file's own name as it is)."""
    model = _model(scn)
    return [(s, model.state_label(s, lang) if model else s) for s in scn.states]


TORNADO_TOP = 10  # inputs shown in the tornado, text and chart
TORNADO_MIN_SWING = 0.5  # inputs that move NPV by less than 1 zł are left out


def _pad_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def render_result(result: Result, lang: str, translator: Translator | None = None) -> str:
    t = translator or default_translator()
    scn = result.scenario
    model = _model(scn)
    horizon = len(result.years)
    people = sum(scn.value(f"start.{s}") for s in scn.states)
    out = [f"**{t(lang, 'calc.result.title', name=model_name(scn, lang))}**", ""]
    years_text = t(lang, "calc.result.years", count=horizon)
    out.append(t(lang, "calc.result.cohort", count=decimal(people, lang) if people != int(people) else int(people),
                 horizon=years_text, rate=percent(scn.value("discount_rate"), lang)))
    out.append("")
    out.append("- " + t(lang, "calc.result.undiscounted", horizon=years_text,
                        value=money(result.cost_of_inaction_undiscounted, lang)))
    out.append("- " + t(lang, "calc.result.gross_savings", value=money(result.gross_savings, lang)))
    out.append("- " + t(lang, "calc.result.programme_cost", value=money(result.programme_cost, lang)))
    out.append("- " + t(lang, "calc.result.npv", value=money(result.npv, lang)))
    if result.bcr is None:
        out.append("- " + t(lang, "calc.result.ratios_none"))
    else:
        out.append("- " + t(lang, "calc.result.ratios", bcr=decimal(result.bcr, lang, "#,##0.00"),
                            roi=percent(result.roi, lang, "#,##0.0%")))
    if result.break_even_year is not None:
        out.append("- " + t(lang, "calc.result.break_even", year=result.break_even_year))
    else:
        out.append("- " + t(lang, "calc.result.no_break_even", horizon=years_text))

    # Per-year table in a code block: it renders the same in every Matrix client and a terminal.
    out += ["", f"**{t(lang, 'calc.result.years_heading')}**", "```"]
    head = [t(lang, "calc.col.year"), t(lang, "calc.col.cost_of_inaction"), t(lang, "calc.col.programme_cost")]
    rows = [head + list(scn.states)]
    for y in result.years:
        rows.append([
            str(y["year"]),
            money(y["cost_of_inaction"], lang).replace("\xa0", " "),
            money(y["programme_cost"], lang).replace("\xa0", " "),
            *(f"{decimal(y['people_inaction'][s], lang, '0.0')}→{decimal(y['people_action'][s], lang, '0.0')}"
              for s in scn.states),
        ])
    out += [_pad_table(rows), "```"]
    if model is not None:
        out.append(", ".join(f"{s} = {name}" for s, name in state_names(scn, lang)))

    out += ["", f"**{t(lang, 'calc.result.payers_heading')}**"]
    for p, v in result.by_payer.items():
        out.append("- " + t(lang, "calc.result.payer_line", payer=payer_name(p, lang, t),
                            pays=money(v["programme_cost"], lang), saves=money(v["gross_savings"], lang)))
    if result.wrong_pocket:
        wp = result.wrong_pocket
        out.append("")
        out.append(t(lang, "calc.result.wrong_pocket",
                     investors=", ".join(payer_name(p, lang, t) for p in wp["investors"]),
                     beneficiaries=", ".join(payer_name(p, lang, t) for p in wp["beneficiaries"])))

    if result.monte_carlo:
        mc = result.monte_carlo
        out += ["", f"**{t(lang, 'calc.result.mc_heading', draws=decimal(mc['draws'], lang, '#,##0'), seed=mc['seed'])}**"]
        out.append(t(lang, "calc.result.mc_line", p=percent(mc["p_npv_positive"], lang),
                     p5=money(mc["p5"], lang), p50=money(mc["p50"], lang), p95=money(mc["p95"], lang)))
        ranges = ", ".join(f"`{k}` {fmt_param(k, v, lang)}" for k, v in sorted(scn.ranged().items()))
        out.append(t(lang, "calc.result.mc_ranges", ranges=ranges))

    out += ["", f"**{t(lang, 'calc.result.assumptions_heading')}**"]
    out.extend("- " + line for line in _assumptions(result, lang, t))
    return "\n".join(out)


def _assumptions(result: Result, lang: str, t: Translator) -> list[str]:
    scn = result.scenario
    model = _model(scn)
    lines = []
    prog_costs = [(k, v) for k, v in scn.params.items() if key_kind(k) == "programme_cost"]
    cost_text = ", ".join(f"`{k}` {fmt_param(k, v, lang)}" for k, v in prog_costs) or money(0, lang)
    programme = in_currency_style(model.programme[lang], lang) if model else "—"
    lines.append(t(lang, "calc.result.assumption_programme", programme=programme,
                   years=int(scn.value("programme.years")), cost=cost_text))
    costs = [(k, v) for k, v in scn.params.items() if key_kind(k) == "cost"]
    lines.append(t(lang, "calc.result.assumption_costs",
                   costs=", ".join(f"`{k}` {fmt_param(k, v, lang)}" for k, v in costs) or "—"))
    effects, graded_d = [], []
    for k, v in scn.params.items():
        if key_kind(k) != "transition":
            continue
        grade = ""  # a value the user set has no grade of ours
        if model is not None and k in model.transitions and k not in scn.overrides:
            grade = f" ({model.transitions[k].grade})"
            if model.transitions[k].grade == "D":
                graded_d.append(k)
        effects.append(f"`{k}` {fmt_param(k, v, lang)}{grade}")
    lines.append(t(lang, "calc.result.assumption_effects", effects=", ".join(effects)))
    lines.append(t(lang, "calc.result.assumption_adjustments",
                   attribution=percent(scn.value("attribution"), lang),
                   obb=percent(scn.value("optimism_bias_benefits"), lang),
                   obc=percent(scn.value("optimism_bias_costs"), lang)))
    if scn.overrides:
        settings = {"draws": scn.draws, "seed": scn.seed}

        def shown(k: str, v: Any) -> str:
            if k in scn.params:
                return fmt_param(k, scn.params[k], lang)
            if k in settings:
                return decimal(settings[k], lang, "#,##0")
            return md_escape(str(v))

        changes = ", ".join(f"`{k}` = {shown(k, v)}" for k, v in scn.overrides.items())
        lines.append(t(lang, "calc.result.assumption_changed", changes=changes))
    if graded_d:
        key = scn.main_effect if scn.main_effect in graded_d else graded_d[0]
        v = scn.value(key)
        example = f"`{key}={max(0.0, round(v * 0.5, 3)):g}..{min(1.0, round(v * 1.5, 3)):g}`"
        lines.append(t(lang, "calc.result.assumption_grade_d", example=example))
    if model is not None:
        lines.append(t(lang, "calc.result.assumption_sources", model=model.id))
    return lines


def render_models(lang: str, translator: Translator | None = None) -> str:
    t = translator or default_translator()
    out = [f"**{t(lang, 'calc.models.heading')}**", ""]
    for m in MODELS.values():
        out.append("- " + t(lang, "calc.models.line", id=m.id, name=m.name[lang if lang in m.name else "en"],
                            description=m.description[lang if lang in m.description else "en"]))
    out += ["", t(lang, "calc.models.hint")]
    return "\n".join(out)


def render_model(model: Model | str, lang: str, translator: Translator | None = None) -> str:
    t = translator or default_translator()
    m = get_model(model) if isinstance(model, str) else model
    L = lang if lang in ("pl", "en") else "en"
    out = [f"**{t(lang, 'calc.model.heading', id=m.id, name=m.name[L])}**", "",
           in_currency_style(m.description[L], lang),
           t(lang, "calc.model.unit", unit=m.unit[L], programme=in_currency_style(m.programme[L], lang))]
    out += ["", f"**{t(lang, 'calc.model.states_heading')}**"]
    for s in m.states:
        out.append("- " + t(lang, "calc.model.state_line", id=s.id, label=s.label[L],
                            people=decimal(m.start.get(f"start.{s.id}", 0), lang)))
    out += ["", f"**{t(lang, 'calc.model.transitions_heading')}**"]
    for key, e in m.transitions.items():
        table, a, b = key.split(".")
        label = f"{t(lang, f'calc.table.{table}')}: {m.state_label(a, L)} → {m.state_label(b, L)}"
        out.append("- " + t(lang, "calc.model.transition_line", key=key, value=percent(e.value, lang),
                            label=label, grade=e.grade, note=in_currency_style(e.note[L], lang)))
    if not any(k.startswith("after.") for k in m.transitions):
        out.append(t(lang, "calc.model.after_note"))

    def cost_lines(costs: dict) -> list[str]:
        lines = []
        for key, c in costs.items():
            parts = key.split(".")
            state, payer = parts[-2], parts[-1]
            lines.append("- " + t(lang, "calc.model.cost_line", key=key, value=money(c.value, lang),
                                  state=m.state_label(state, L), payer=payer_name(payer, lang, t),
                                  year=c.year, source=in_currency_style(c.source[L], lang),
                                  assumption=t(lang, "calc.model.assumption_flag") if c.assumption else ""))
        return lines

    out += ["", f"**{t(lang, 'calc.model.costs_heading')}**"] + cost_lines(m.costs)
    out += ["", f"**{t(lang, 'calc.model.programme_heading', years=m.programme_years)}**"]
    out += cost_lines(m.programme_costs)
    out += ["", f"**{t(lang, 'calc.model.other_heading')}**",
            t(lang, "calc.model.other_line", horizon=m.horizon, rate=decimal(m.discount_rate, lang, "0.0##"))]
    if m.aliases:
        out.append(t(lang, "calc.model.aliases",
                     aliases=", ".join(f"`{a}` = `{k}`" for a, k in m.aliases.items())))
    out.append(t(lang, "calc.model.ranges_hint"))
    out.append(t(lang, "calc.model.grades", grades="; ".join(t(lang, f"calc.grade.{g}") for g in "ABCD")))
    return "\n".join(out)


def render_sensitivity(sens: dict[str, Any], lang: str, translator: Translator | None = None,
                       top: int = TORNADO_TOP) -> str:
    """``sens`` from engine.sensitivity(): the tornado ranked, then the switching value."""
    t = translator or default_translator()
    out = [f"**{t(lang, 'calc.sens.heading', shift=percent(sens.get('shift', TORNADO_SHIFT), lang))}**"]
    rows = [r for r in sens["tornado"] if r["swing"] >= TORNADO_MIN_SWING][:top]
    if not rows:
        out.append(t(lang, "calc.sens.none"))
    for i, r in enumerate(rows, 1):
        out.append(f"{i}. " + t(lang, "calc.sens.line", key=r["key"], low=fmt_param(r["key"], r["low"], lang),
                                high=fmt_param(r["key"], r["high"], lang), npv_low=money(r["npv_low"], lang),
                                npv_high=money(r["npv_high"], lang), swing=money(r["swing"], lang)))
    sw = sens.get("switching")
    if sw:
        out.append("")
        if sw["value"] is None:
            out.append(t(lang, "calc.sens.no_switching", key=sw["key"], top=percent(sw["top"], lang)))
        else:
            out.append(t(lang, "calc.sens.switching", key=sw["key"], value=percent(sw["value"], lang, "#,##0.##%"),
                         current=percent(sw["current"], lang, "#,##0.##%")))
    return "\n".join(out)
