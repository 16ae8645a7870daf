"""PNG chart of the yearly and cumulative cost of inaction against the programme cost.

matplotlib is imported inside the function: it costs about half a second, which
the bot should not pay at start-up. The object-oriented API with the Agg canvas
keeps no global state, so renders from different threads do not collide.
"""

from __future__ import annotations

import io

from .engine import Result
from .report import default_translator


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
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
