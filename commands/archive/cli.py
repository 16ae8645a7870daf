"""``leaders-hub archive import|export|search``: the operator's side of the archive."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from . import commands


def _arguments(parser: argparse.ArgumentParser) -> None:
    tools = parser.add_subparsers(dest="archive_command", required=True)
    imp = tools.add_parser("import", help="import solutions from a .json or .csv file")
    imp.add_argument("file")
    imp.add_argument("--skip-invalid", action="store_true", help="import the valid records, report the others")
    imp.add_argument("--publish", action="store_true",
                     help="publish the records that carry no moderation state (for a file you reviewed); a state "
                          "the file gives is always kept")
    exp = tools.add_parser("export", help="export every solution (with its moderation state) to .json or .csv")
    exp.add_argument("file")
    srch = tools.add_parser("search", help="the same ranked search as !search")
    srch.add_argument("words")
    srch.add_argument("--json", action="store_true", help="ranked ids and scores as JSON")
    srch.add_argument("--limit", type=int, default=10)
    for sub in (imp, exp, srch):
        sub.add_argument("-c", "--config", help="config file (default: ./config.toml, then $LEADERS_HUB_CONFIG)")


@commands.cli("archive", _arguments, help="the archive of shared solutions: import, export, search")
def run(args: Any, tools: Any) -> int:
    return {"import": _import, "export": _export, "search": _search}[args.archive_command](args, tools)


def _import(args: Any, tools: Any) -> int:
    from storage.archive import ImportError_, import_records

    path = Path(args.file)
    try:
        data = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot be read: {exc}", file=sys.stderr)
        return 2

    async def work(session):
        count, problems = await import_records(session, path.name, data, skip_invalid=args.skip_invalid,
                                               publish=args.publish)
        await session.commit()
        return count, problems

    try:
        count, problems = asyncio.run(tools.with_session(work))
    except ImportError_ as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        print(f"Nothing imported: {len(exc.problems)} problem(s). Fix them, or use --skip-invalid.", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"{path}: skipped {problem}", file=sys.stderr)
    print(f"Imported {count} solution(s) from {path}" + (f"; skipped {len(problems)}." if problems else "."))
    return 0


def _export(args: Any, tools: Any) -> int:
    from storage.archive import ImportError_, export_records

    path = Path(args.file)

    async def work(session):
        return await export_records(session, path.name)

    try:
        text, count = asyncio.run(tools.with_session(work))
    except ImportError_ as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    path.write_text(text, encoding="utf-8")
    print(f"Exported {count} solution(s) to {path}.")
    return 0


def _search(args: Any, tools: Any) -> int:
    from storage.archive import ArchiveRepository, record_of, title_of
    from storage.search import FilterError, SearchIndex, parse_query
    from storage.search.analyzer import use_lemma_cache

    async def work(session):
        return [(row.number, record_of(row)) for row in await ArchiveRepository(session).approved()]

    rows = asyncio.run(tools.with_session(work))
    use_lemma_cache(tools.cache_dir)  # the bot's on-disk dictionaries, not ~47 MB loaded for one search
    index = SearchIndex()
    index.add_many(record for _, record in rows)
    numbers = {record["id"]: (number, record) for number, record in rows}
    parsed = parse_query(args.words)
    try:
        result = index.search(parsed.words, parsed.filters, 0, args.limit)
    except FilterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"total": result.total, "results": [
            {"id": hit.id, "number": numbers[hit.id][0], "score": round(hit.score, 4)} for hit in result.hits]},
            ensure_ascii=False, indent=1))
    else:
        for hit in result.hits:
            number, record = numbers[hit.id]
            print(f"#{number}\t{hit.score:.3f}\t{hit.id}\t{title_of(record)}")
        print(f"{result.total} result(s)")
    return 0
