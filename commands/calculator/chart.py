"""PNG charts: the yearly and cumulative cost of inaction against the programme cost, and the
tornado of ``!calc sensitivity`` (NPV at each input −/+ 20 %), whose legend names the states.

matplotlib is imported inside the function: it costs about half a second, which
the bot should not pay at start-up. The object-oriented API with the Agg canvas
keeps no global state, so renders from different threads do not collide.
"""

from __future__ import annotations

import io

from .engine import TORNADO_SHIFT, Result, Scenario
from .report import TORNADO_MIN_SWING, TORNADO_TOP, default_translator, percent, state_names


def render_chart(result: Result, lang: str, translator=None) -> bytes:
    from babel.numbers import format_decimal
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    t = translator or default_translator()
    locale = "pl" if lang == "pl" else "en"
    years = [y["year"] for y in result.years]
    yearly = [y["cost_of_inaction"] for y in result.years]
    spend = [y["programme_cost"] for y in result.years]
    cum_yearly, cum_spend, a, b = [], [], 0.0, 0.0
    for s, k in zip(yearly, spend):
        a, b = a + s, b + k
        cum_yearly.append(a)
        cum_spend.append(b)

    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.38
    ax.bar([x - width / 2 for x in years], yearly, width, color="#d1495b", label=t(lang, "calc.chart.yearly"))
    ax.bar([x + width / 2 for x in years], spend, width, color="#00798c", label=t(lang, "calc.chart.programme"))
    ax.plot(years, cum_yearly, color="#8f2d56", marker="o", label=t(lang, "calc.chart.cumulative"))
    ax.plot(years, cum_spend, color="#003d5b", marker="s", linestyle="--",
            label=t(lang, "calc.chart.programme_cumulative"))
    ax.axhline(0, color="#444444", linewidth=0.8)
    ax.set_title(t(lang, "calc.chart.title"))
    ax.set_xlabel(t(lang, "calc.chart.x"))
    ax.set_ylabel(t(lang, "calc.chart.y"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_decimal(round(v), "#,##0", locale=locale)))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return _png(fig)


def _png(fig) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def tornado_figure(sens: dict, npv: float, scn: Scenario, lang: str, translator=None):
    """The tornado as a matplotlib Figure (Agg): one bar per input, from the NPV now to the NPV with
    the input lowered and raised; the legend says which colour is which and what each state is."""
    from babel.numbers import format_decimal
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    t = translator or default_translator()
    locale = "pl" if lang == "pl" else "en"
    shift = percent(sens.get("shift", TORNADO_SHIFT), lang)
    rows = [r for r in sens["tornado"] if r["swing"] >= TORNADO_MIN_SWING][:TORNADO_TOP][::-1]  # biggest on top
    fig = Figure(figsize=(10, max(3.5, 1.2 + 0.45 * len(rows))), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    keys = [r["key"] for r in rows]
    low = [r["npv_low"] - npv for r in rows]
    high = [r["npv_high"] - npv for r in rows]
    ax.barh(keys, low, left=npv, color="#00798c", label=t(lang, "calc.tornado.low", shift=shift))
    ax.barh(keys, high, left=npv, color="#d1495b", label=t(lang, "calc.tornado.high", shift=shift))
    ax.axvline(npv, color="#444444", linewidth=1, label=t(lang, "calc.tornado.base"))
    ax.set_title(t(lang, "calc.tornado.title", shift=shift))
    ax.set_xlabel(t(lang, "calc.tornado.x"))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_decimal(round(v), "#,##0", locale=locale)))
    ax.grid(axis="x", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    blank = Line2D([], [], linestyle="none")
    handles.append(Patch(visible=False))
    labels.append(t(lang, "calc.tornado.states"))
    for state, name in state_names(scn, lang):
        handles.append(blank)
        labels.append(f"{state} — {name}")
    ax.legend(handles, labels, fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def render_tornado(sens: dict, npv: float, scn: Scenario, lang: str, translator=None) -> bytes:
    return _png(tornado_figure(sens, npv, scn, lang, translator))
