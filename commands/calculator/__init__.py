"""The chat face of the Calculator of Costs of Inaction: ``!calc`` (``!kalkulator``).

The engine (engine.py) is pure; here we only parse, save the scenario as ``#N``,
and reply with the report and the chart. Heavy work (Monte Carlo, matplotlib)
runs in a worker thread so other commands are not held up.
"""

from __future__ import annotations

import asyncio
import json

from bot.context import Context
from bot.errors import CommandError, NotFound
from bot.reply import md_code, md_escape
from bot.router import CommandSet
from storage.calculator import ScenarioRepository

from .chart import render_chart, render_tornado
from .engine import CalcError, compute, sensitivity
from .messages import CATALOGUE as ENGINE_CATALOGUE
from .report import (decimal, fmt_param, model_name, money, render_model, render_models, render_result,
                     render_sensitivity)
from .scenario import scenario_from_model

CHAT_CATALOGUE = {
    "en": {
        "calculator.calc.help": "computes what doing nothing costs compared with acting: `!calc <model> [key=value …]`",
        "calculator.calc.models.help": "the calculator's built-in models",
        "calculator.calc.show.help": "a model's parameters, defaults, units, sources and evidence grades",
        "calculator.calc.scenario.help": "shows a saved calculation #N again",
        "calculator.calc.compare.help": "two saved calculations side by side: `!calc compare 3 7`",
        "calculator.compare.title": "**#{a} and #{b} side by side**",
        "calculator.compare.row.model": "Model",
        "calculator.compare.row.gross_savings": "Gross savings G",
        "calculator.compare.row.programme_cost": "Programme cost K",
        "calculator.compare.row.npv": "NPV = G − K",
        "calculator.compare.row.bcr": "BCR",
        "calculator.compare.row.break_even": "Break-even (year)",
        "calculator.compare.row.changed": "Changed inputs",
        "calculator.compare.none": "—",
        "calculator.compare.better": "#{id} saves more net: {difference} more.",
        "calculator.compare.equal": "Both save the same net.",
        "calculator.calc.sensitivity.help": "what matters most (±20 % tornado) and the switching value of the main effect",
        "calculator.saved": "Saved as scenario **#{id}** — show it again with {command}.",
        "calculator.scenario_of": "Scenario **#{id}** by {author}, computed again with the inputs saved on {date}.",
        "calculator.no_scenario": "There is no saved scenario #{id}.",
        "calculator.chart_caption": "Chart: yearly and cumulative cost of inaction against the programme cost.",
    },
    "pl": {
        "calculator.calc.help": "liczy, ile kosztuje zaniechanie w porównaniu z działaniem: `!calc <model> [klucz=wartość …]`",
        "calculator.calc.models.help": "wbudowane modele kalkulatora",
        "calculator.calc.show.help": "parametry modelu, wartości domyślne, jednostki, źródła i siła dowodów",
        "calculator.calc.scenario.help": "pokazuje ponownie zapisane wyliczenie #N",
        "calculator.calc.compare.help": "dwa zapisane wyliczenia obok siebie: `!kalkulator porownaj 3 7`",
        "calculator.compare.title": "**#{a} i #{b} obok siebie**",
        "calculator.compare.row.model": "Model",
        "calculator.compare.row.gross_savings": "Oszczędności brutto G",
        "calculator.compare.row.programme_cost": "Koszt programu K",
        "calculator.compare.row.npv": "NPV = G − K",
        "calculator.compare.row.bcr": "BCR",
        "calculator.compare.row.break_even": "Zwrot (rok)",
        "calculator.compare.row.changed": "Zmienione dane",
        "calculator.compare.none": "—",
        "calculator.compare.better": "#{id} daje więcej oszczędności netto: o {difference} więcej.",
        "calculator.compare.equal": "Oba dają te same oszczędności netto.",
        "calculator.calc.sensitivity.help": "co waży najbardziej (wykres tornado ±20 %) i wartość progowa głównego efektu",
        "calculator.saved": "Zapisano jako scenariusz **#{id}** — pokażesz go ponownie poleceniem {command}.",
        "calculator.scenario_of": "Scenariusz **#{id}** autorstwa {author}, przeliczony ponownie z danych zapisanych {date}.",
        "calculator.no_scenario": "Nie ma zapisanego scenariusza #{id}.",
        "calculator.chart_caption": "Wykres: roczny i skumulowany koszt zaniechania wobec kosztu programu.",
    },
}

CATALOGUE = {lang: {**ENGINE_CATALOGUE[lang], **CHAT_CATALOGUE[lang]} for lang in ("en", "pl")}

commands = CommandSet("calculator", CATALOGUE)


@commands.cli("calc", None, help="the Calculator of Costs of Inaction (leaders-hub calc --help)")
def calc_tool(argv: list[str], _tools: object) -> int:
    from .cli import run_cli  # only for the command line

    return run_cli(argv)


def _calc_error(ctx: Context, error: CalcError) -> CommandError:
    """The engine's own error, with its message key, through the router's one error path."""
    return CommandError(error.message_key, **error.shown_params(ctx.lang))


async def _compute_and_reply(ctx: Context, model: str, overrides: dict[str, str], save: bool,
                             heading: str | None = None) -> None:
    translator = ctx.hub.translator

    def work():
        scenario = scenario_from_model(model, overrides)
        result = compute(scenario)
        return scenario, result, render_result(result, ctx.lang, translator), render_chart(result, ctx.lang, translator)

    try:
        scenario, result, text, chart = await asyncio.to_thread(work)
    except CalcError as error:
        raise _calc_error(ctx, error) from None
    if save:
        row = await ScenarioRepository(ctx.session).save(ctx.sender, ctx.room_id, scenario.model_id or model,
                                                          dict(scenario.overrides), result.npv)
        text += "\n\n" + ctx.t("calculator.saved", id=row.id, command=md_code(f"{ctx.prefix}calc scenario {row.id}"))
    if heading:
        text = heading + "\n\n" + text
    ctx.reply(text)
    ctx.reply_file(chart, f"koszt-zaniechania-{scenario.model_id or 'scenariusz'}.png", "image/png")


@commands.command("calc", aliases=("kalkulator", "kkz"), options=True)
async def calc(ctx: Context, model: str) -> None:
    await _compute_and_reply(ctx, model, ctx.options, save=True)


@calc.sub("models", aliases=("modele", "list", "lista"))
async def calc_models(ctx: Context) -> None:
    ctx.reply(render_models(ctx.lang, ctx.hub.translator))


@calc.sub("show", aliases=("pokaz", "pokaż", "model"))
async def calc_show(ctx: Context, model: str) -> None:
    try:
        ctx.reply(render_model(model, ctx.lang, ctx.hub.translator))
    except CalcError as error:
        raise _calc_error(ctx, error) from None


@calc.sub("scenario", aliases=("scenariusz",))
async def calc_scenario(ctx: Context, number: int) -> None:
    row = await ScenarioRepository(ctx.session).get(number)
    if row is None:
        raise NotFound("calculator.no_scenario", id=number)
    heading = ctx.t("calculator.scenario_of", id=row.id, author=md_code(row.author),
                    date=row.created_at.strftime("%Y-%m-%d %H:%M UTC"))
    await _compute_and_reply(ctx, row.model_id, json.loads(row.overrides), save=False, heading=heading)


@calc.sub("sensitivity", aliases=("wrazliwosc", "wrażliwość", "tornado"), options=True)
async def calc_sensitivity(ctx: Context, model: str) -> None:
    translator = ctx.hub.translator

    def work():
        scenario = scenario_from_model(model, ctx.options)
        sens = sensitivity(scenario)
        chart = render_tornado(sens, compute(scenario).npv, scenario, ctx.lang, translator)
        return scenario, render_sensitivity(sens, ctx.lang, translator), chart

    try:
        scenario, text, chart = await asyncio.to_thread(work)
    except CalcError as error:
        raise _calc_error(ctx, error) from None
    ctx.reply(text)
    ctx.reply_file(chart, f"tornado-{scenario.model_id or 'scenariusz'}.png", "image/png")


@calc.sub("compare", aliases=("porownaj", "porównaj", "vs"))
async def calc_compare(ctx: Context, first: int, second: int) -> None:
    """Two saved scenarios, recomputed, in one table: what a council compares before choosing."""
    repository = ScenarioRepository(ctx.session)
    rows = []
    for number in (first, second):
        row = await repository.get(number)
        if row is None:
            raise NotFound("calculator.no_scenario", id=number)
        rows.append(row)

    def work():
        return [compute(scenario_from_model(row.model_id, json.loads(row.overrides))) for row in rows]

    try:
        results = await asyncio.to_thread(work)
    except CalcError as error:
        raise _calc_error(ctx, error) from None
    ctx.reply(render_comparison(rows, results, ctx.lang, ctx.hub.translator))


def render_comparison(rows, results, lang: str, t) -> str:
    none = t(lang, "calculator.compare.none")
    cells = {
        "model": [model_name(r.scenario, lang) for r in results],
        "gross_savings": [money(r.gross_savings, lang) for r in results],
        "programme_cost": [money(r.programme_cost, lang) for r in results],
        "npv": [money(r.npv, lang) for r in results],
        "bcr": [decimal(r.bcr, lang, "#,##0.00") if r.bcr is not None else none for r in results],
        "break_even": [str(r.break_even_year) if r.break_even_year is not None else none for r in results],
        "changed": [", ".join(f"{k}={fmt_param(k, v, lang)}" for k, v in sorted(json.loads(row.overrides).items()))
                    or none for row in rows],
    }
    a, b = rows[0].id, rows[1].id
    lines = [t(lang, "calculator.compare.title", a=a, b=b), "",
             f"| | #{a} | #{b} |", "|---|---|---|"]
    for key, (left, right) in cells.items():
        lines.append(f"| {t(lang, f'calculator.compare.row.{key}')} | {md_escape(left)} | {md_escape(right)} |")
    difference = results[0].npv - results[1].npv
    lines.append("")
    if abs(difference) < 0.005:
        lines.append(t(lang, "calculator.compare.equal"))
    else:
        lines.append(t(lang, "calculator.compare.better", id=a if difference > 0 else b,
                       difference=money(abs(difference), lang)))
    return "\n".join(lines)


from . import web  # noqa: E402,F401  (registers the page)
