"""``leaders-hub calc``: the calculator on the command line.

    leaders-hub calc models [--json]
    leaders-hub calc show MODEL [--json]
    leaders-hub calc MODEL [key=value ...] [--json] [--sensitivity] [--chart FILE.png]
    leaders-hub calc --scenario FILE.toml [key=value ...] [--json] [--sensitivity] [--chart FILE.png]
    (--lang pl|en, default en)

Bad input prints one line on stderr and exits with 2; never a traceback.
Also runnable as ``python -m commands.calculator.cli ...``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from .engine import CalcError, compute, sensitivity
from .models import MODELS, get_model
from .report import default_translator, render_model, render_models, render_result, render_sensitivity
from .scenario import apply_overrides, load_scenario, scenario_from_model


class _Usage(Exception):
    pass


def _parse(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"json": False, "lang": "en", "scenario": None, "sensitivity": False,
                            "chart": None, "help": False, "args": []}
    it = iter(argv)
    for arg in it:
        name, eq, inline = arg.partition("=")
        if arg in ("-h", "--help"):
            opts["help"] = True
        elif arg == "--json":
            opts["json"] = True
        elif arg == "--sensitivity":
            opts["sensitivity"] = True
        elif name in ("--lang", "--scenario", "--chart"):
            value = inline if eq else next(it, None)
            if not value:
                raise _Usage(f"{name} needs a value")
            opts[name[2:]] = value
        elif arg.startswith("--"):
            raise _Usage(f"unknown option {arg}")
        else:
            opts["args"].append(arg)
    if opts["lang"] not in ("pl", "en"):
        raise _Usage("--lang is pl or en")
    return opts


def _model_json(model_id: str) -> dict[str, Any]:
    m = get_model(model_id)
    return {
        "id": m.id, "name": m.name, "description": m.description, "unit": m.unit, "programme": m.programme,
        "states": [{"id": s.id, "label": s.label} for s in m.states],
        "defaults": m.defaults(),
        "transitions": {k: asdict(e) for k, e in m.transitions.items()},
        "costs": {k: asdict(c) for k, c in m.costs.items()},
        "programme_costs": {k: asdict(c) for k, c in m.programme_costs.items()},
        "programme_years": m.programme_years, "main_effect": m.main_effect, "aliases": m.aliases,
    }


def _run(opts: dict[str, Any], out: TextIO) -> None:
    lang, args = opts["lang"], opts["args"]
    t = default_translator()
    if args[:1] == ["models"] and not opts["scenario"]:
        if opts["json"]:
            payload = [{"id": m.id, "name": m.name, "description": m.description} for m in MODELS.values()]
            out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(render_models(lang, t) + "\n")
        return
    if args[:1] == ["show"] and not opts["scenario"]:
        if len(args) != 2:
            raise _Usage("show takes one model")
        if opts["json"]:
            out.write(json.dumps(_model_json(args[1]), ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(render_model(args[1], lang, t) + "\n")
        return
    if opts["scenario"]:
        scn = apply_overrides(load_scenario(opts["scenario"]), args)
    else:
        if not args:
            raise _Usage("a model or --scenario is needed")
        scn = scenario_from_model(args[0], args[1:])
    result = compute(scn)
    sens = sensitivity(scn) if opts["sensitivity"] else None
    if opts["chart"]:
        from .chart import render_chart  # matplotlib only when a chart is asked for

        try:
            Path(opts["chart"]).write_bytes(render_chart(result, lang, t))
        except OSError as e:
            raise CalcError("calc.error.file", path=opts["chart"], error=e.strerror or str(e)) from None
    if opts["json"]:
        payload = result.to_dict()
        if sens is not None:
            payload["sensitivity"] = sens
        out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        text = render_result(result, lang, t)
        if sens is not None:
            text += "\n\n" + render_sensitivity(sens, lang, t)
        out.write(text + "\n")


def run_cli(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Entry point for ``leaders-hub calc``; ``argv`` is what follows ``calc``
    (a leading ``calc`` is skipped too). Returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    argv = list(argv)
    if argv[:1] == ["calc"]:
        argv = argv[1:]
    lang = "en"
    t = default_translator()
    try:
        opts = _parse(argv)
        lang = opts["lang"]
        if opts["help"]:
            out.write(t(lang, "calc.error.usage", usage=t(lang, "calc.cli.usage")) + "\n")
            return 0
        _run(opts, out)
        return 0
    except _Usage as e:
        err.write(f"error: {e}. " + t(lang, "calc.error.usage", usage=t(lang, "calc.cli.usage")) + "\n")
        return 2
    except CalcError as e:
        err.write("error: " + " ".join(e.message(lang).split()) + "\n")  # one line, always
        return 2
    except Exception as e:  # a bug, not bad input: still one line, no traceback
        err.write(f"internal error: {type(e).__name__}: {e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(run_cli(sys.argv[1:]))
