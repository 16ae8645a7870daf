"""The calculator's public page: ``/calculator`` — every built-in model with its states, parameters,
defaults, units and the source and year of every unit cost (read-only: computing stays in the chat and on
the command line). Figures in the reader's locale, with Babel, as the chat shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from bot.web.pages import Page, add_messages

from . import commands
from .models import MODELS, Model
from .report import decimal, in_currency_style, money, payer_name, percent

commands.templates = Path(__file__).parent / "templates"

add_messages(commands, {
    "en": {
        "calculator.web.title": "Calculator of Costs of Inaction",
        "calculator.web.intro": "What doing nothing about a social problem costs the public purse, compared with "
                                "acting. These are the calculator's built-in models, with every default and the "
                                "source of every unit cost. Leaders compute their own scenarios in the network's "
                                "rooms with !calc; the method is in the project's docs/calculator.md.",
        "calculator.web.contents": "Models",
        "calculator.web.unit": "One person in the model",
        "calculator.web.programme": "Programme",
        "calculator.web.programme_years": {"one": "{shown} year", "other": "{shown} years"},
        "calculator.web.states": "States and people at the start",
        "calculator.web.people": {"one": "{shown} person at the start", "other": "{shown} people at the start"},
        "calculator.web.transitions": "Yearly transition rates",
        "calculator.web.transitions_note": "What is not listed stays where it is. After the programme the rates of "
                                           "inaction apply.",
        "calculator.web.grade": "evidence grade {grade}",
        "calculator.web.costs": "Unit costs, per person and year",
        "calculator.web.costs_note": "In zł of the year given; a negative cost is public revenue.",
        "calculator.web.programme_costs": "Cost of the programme, per person and year",
        "calculator.web.paid_by": "{state}, paid by {payer}",
        "calculator.web.year": "Year",
        "calculator.web.source": "Source",
        "calculator.web.assumption": "An assumption (no published figure)",
        "calculator.web.key": "Parameter",
        "calculator.web.other": "Other parameters",
        "calculator.web.horizon": "Horizon",
        "calculator.web.discount_rate": "Discount rate",
        "calculator.web.aliases": "Short names",
        "calculator.web.grades": "Evidence grades",
        "calculator.web.in_chat": "Compute it in the network's rooms: !calc {id}",
    },
    "pl": {
        "calculator.web.title": "Kalkulator kosztów zaniechania",
        "calculator.web.intro": "Ile kosztuje kasę publiczną niezajęcie się problemem społecznym w porównaniu "
                                "z działaniem. To wbudowane modele kalkulatora, z każdą wartością domyślną i źródłem "
                                "każdego kosztu jednostkowego. Liderzy liczą własne scenariusze w pokojach sieci "
                                "poleceniem !kalkulator; metoda jest opisana w docs/calculator.md projektu.",
        "calculator.web.contents": "Modele",
        "calculator.web.unit": "Jedna osoba w modelu",
        "calculator.web.programme": "Program",
        "calculator.web.programme_years": {"one": "{shown} rok", "few": "{shown} lata", "many": "{shown} lat",
                                           "other": "{shown} roku"},
        "calculator.web.states": "Stany i liczba osób na początku",
        "calculator.web.people": {"one": "{shown} osoba na początku", "few": "{shown} osoby na początku",
                                  "many": "{shown} osób na początku", "other": "{shown} osoby na początku"},
        "calculator.web.transitions": "Roczne prawdopodobieństwa przejść",
        "calculator.web.transitions_note": "Czego nie wymieniono, pozostaje bez zmian. Po programie obowiązują "
                                           "prawdopodobieństwa zaniechania.",
        "calculator.web.grade": "siła dowodów {grade}",
        "calculator.web.costs": "Koszty jednostkowe, na osobę i rok",
        "calculator.web.costs_note": "W złotych z podanego roku; koszt ujemny to dochód publiczny.",
        "calculator.web.programme_costs": "Koszt programu, na osobę i rok",
        "calculator.web.paid_by": "{state}, płaci: {payer}",
        "calculator.web.year": "Rok",
        "calculator.web.source": "Źródło",
        "calculator.web.assumption": "Założenie (brak opublikowanej kwoty)",
        "calculator.web.key": "Parametr",
        "calculator.web.other": "Pozostałe parametry",
        "calculator.web.horizon": "Horyzont",
        "calculator.web.discount_rate": "Stopa dyskontowa",
        "calculator.web.aliases": "Krótkie nazwy",
        "calculator.web.grades": "Siła dowodów",
        "calculator.web.in_chat": "Policz w pokojach sieci: !kalkulator {id}",
    },
})


def _costs(page: Page, model: Model, costs: dict) -> list[dict[str, Any]]:
    lang = page.lang
    out = []
    for key, cost in costs.items():
        state, payer = key.split(".")[-2:]
        out.append({"key": key, "value": money(cost.value, lang), "year": cost.year,
                    "what": page.t("calculator.web.paid_by", state=model.state_label(state, lang),
                                   payer=payer_name(payer, lang, page.hub.translator)),
                    "source": in_currency_style(cost.source[lang], lang), "assumption": cost.assumption})
    return out


def model_view(page: Page, model: Model) -> dict[str, Any]:
    lang, t = page.lang, page.t
    transitions = []
    for key, effect in model.transitions.items():
        table, a, b = key.split(".")
        transitions.append({"key": key, "value": percent(effect.value, lang), "grade": effect.grade,
                            "what": f"{t(f'calc.table.{table}')}: {model.state_label(a, lang)} → "
                                    f"{model.state_label(b, lang)}",
                            "note": in_currency_style(effect.note[lang], lang)})
    return {
        "id": model.id, "name": model.name[lang], "description": in_currency_style(model.description[lang], lang),
        "unit": model.unit[lang], "programme": in_currency_style(model.programme[lang], lang),
        "years": t("calculator.web.programme_years", count=model.programme_years,
                   shown=decimal(model.programme_years, lang)),
        "states": [{"id": s.id, "label": s.label[lang], "key": f"start.{s.id}",
                    "people": t("calculator.web.people", count=model.start.get(f"start.{s.id}", 0),
                                shown=decimal(model.start.get(f"start.{s.id}", 0), lang))} for s in model.states],
        "transitions": transitions, "costs": _costs(page, model, model.costs),
        "programme_costs": _costs(page, model, model.programme_costs),
        "horizon": t("calculator.web.programme_years", count=model.horizon, shown=decimal(model.horizon, lang)),
        "discount_rate": percent(model.discount_rate, lang, "#,##0.0#%"),
        "aliases": [(alias, key) for alias, key in model.aliases.items()],
    }


@commands.route("/calculator")
async def calculator_page(hub: Any, request: web.Request) -> web.Response:
    page = Page.of(hub, request)
    page.params = {}
    return page.render("calculator/models.html", title=page.t("calculator.web.title"),
                       models=[model_view(page, model) for model in MODELS.values()],
                       grades=[page.t(f"calc.grade.{g}") for g in "ABCD"])
