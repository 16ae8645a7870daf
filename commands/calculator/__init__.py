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
from bot.reply import md_code
from bot.router import Arg, CommandSet, integer
from storage.calculator import ScenarioRepository

from .chart import render_chart, render_tornado
from .engine import CalcError, compute, sensitivity
from .messages import CATALOGUE as ENGINE_CATALOGUE
from .report import render_model, render_models, render_result, render_sensitivity
from .scenario import scenario_from_model

CHAT_CATALOGUE = {
    "en": {
        "calculator.calc.help": "computes what doing nothing costs compared with acting: `!calc <model> [key=value …]`",
        "calculator.calc.models.help": "the calculator's built-in models",
        "calculator.calc.show.help": "a model's parameters, defaults, units, sources and evidence grades",
        "calculator.calc.scenario.help": "shows a saved calculation #N again",
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


@commands.command("calc", aliases=("kalkulator", "kkz"), args=[Arg("model")], options=True)
async def calc(ctx: Context, model: str) -> None:
    await _compute_and_reply(ctx, model, ctx.options, save=True)


@calc.sub("models", aliases=("modele", "list", "lista"))
async def calc_models(ctx: Context) -> None:
    ctx.reply(render_models(ctx.lang, ctx.hub.translator))


@calc.sub("show", aliases=("pokaz", "pokaż", "model"), args=[Arg("model")])
async def calc_show(ctx: Context, model: str) -> None:
    try:
        ctx.reply(render_model(model, ctx.lang, ctx.hub.translator))
    except CalcError as error:
        raise _calc_error(ctx, error) from None


@calc.sub("scenario", aliases=("scenariusz",), args=[Arg("number", converter=integer)])
async def calc_scenario(ctx: Context, number: int) -> None:
    row = await ScenarioRepository(ctx.session).get(number)
    if row is None:
        raise NotFound("calculator.no_scenario", id=number)
    heading = ctx.t("calculator.scenario_of", id=row.id, author=md_code(row.author),
                    date=row.created_at.strftime("%Y-%m-%d %H:%M UTC"))
    await _compute_and_reply(ctx, row.model_id, json.loads(row.overrides), save=False, heading=heading)


@calc.sub("sensitivity", aliases=("wrazliwosc", "wrażliwość", "tornado"), args=[Arg("model")], options=True)
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

from . import web  # noqa: E402,F401  (registers the page)
