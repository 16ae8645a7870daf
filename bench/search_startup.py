"""Start-up at scale: time from the start of the bot's process to its first answered ``!search`` with
100 000 approved solutions, when the search index is built from the database (no saved index: the first
start, or a file it cannot use — what every start did before the index was saved) and when the saved
index is opened (every later start). Ratio of the two in one run, and the bot's memory.

The solutions are synthetic (bench/search_scale.py's seeded corpus, from the starter archive's
vocabulary), written straight into one SQLite database. Each scenario is a new Python process that does
what ``leaders-hub run`` does after its first sync, without a homeserver: the imports of ``bot.cli``,
the hub, the features' background jobs (the archive's start-up job opens or builds the index); then one
leader types ``!search`` at once, through the console platform (the command's whole path: parsing, the
index, the page's solutions read from the database, the reply). Both starts give the same reply.

Scenarios, in this order: ``rebuild`` (no file; after the answer the index is saved, as the start-up job
does once it is quiet, and the save is timed), ``open`` (the file present, the database unchanged),
``open, 100 changed`` (100 solutions edited while the bot was stopped: re-indexed at start).
Figures: seconds from the process's start to the reply, of which the imports and the hub; the process's
CPU seconds by then; RSS at the reply and after 2 s idle; peak RSS. Figures only, no assertion: on a
shared machine they vary.

    .venv/bin/python bench/search_startup.py [--docs 100000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procstat import rss_mb  # bench/, beside this file

ROOT = Path(__file__).resolve().parents[1]
QUERY = "!search bezdomność seniorzy"
SCENARIOS = [("rebuild (no saved index; every start before)", "rebuild"),
             ("open the saved index", "open"),
             ("open the saved index, 100 changed since", "open-changed")]


def write_config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text("\n".join([
        "[matrix]", 'homeserver = "http://127.0.0.1:9"', 'user_id = "@hub:localhost"', 'password = "not-used"',
        'store_path = "store"', "[database]", 'url = "sqlite+aiosqlite:///hub.db"', "[logging]", 'level = "WARNING"',
    ]) + "\n")
    return path


# ----- the measured process ---------------------------------------------------------------------

def child(config_path: Path, mode: str) -> None:
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    import bot.cli  # noqa: F401  (what `leaders-hub run` imports)
    from bot.compose import create_hub, features, load_config

    features()
    imported = time.perf_counter() - started

    async def main() -> dict:
        config = load_config(config_path)
        bot.cli.setup_logging(config)
        hub = await create_hub(config, migrate=False)
        from bot.console import ConsoleTransport
        from commands.archive import ArchiveIndex

        console = ConsoleTransport(hub, "@leader:localhost")
        hub_ready = time.perf_counter() - started
        service = hub.service(ArchiveIndex)
        service.save_delay = 3600  # saved below, timed, not by the job meanwhile
        jobs = [asyncio.ensure_future(job(hub)) for job in hub.background_jobs]  # after the first sync
        reply = await console.handle(QUERY)
        answered = time.perf_counter() - started
        cpu = time.process_time()
        rss_answer, _ = rss_mb()
        figures = {"mode": mode, "imported": imported, "hub": hub_ready, "answered": answered, "cpu": cpu,
                   "rss_answer": rss_answer, "reply": reply, "documents": len(service.index)}
        if mode == "rebuild":
            t0 = time.perf_counter()
            await service.save()
            figures["save_seconds"] = time.perf_counter() - t0
            figures["file_mb"] = service.path.stat().st_size / 2**20
        await asyncio.sleep(2)
        figures["rss_idle"], figures["rss_peak"] = rss_mb()
        console.stopping.set()
        await asyncio.wait(jobs, timeout=30)
        await hub.close()
        return figures

    print(json.dumps(asyncio.run(main())), flush=True)


# ----- the parent -------------------------------------------------------------------------------

def fill_database(folder: Path, n_docs: int) -> float:
    """n_docs approved synthetic solutions in the bot's database (migrated first, as `leaders-hub run`)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from search_scale import Corpus

    from bot.compose import create_hub, load_config
    from storage.models import Solution, utcnow

    started = time.perf_counter()
    corpus = Corpus(seed=16)

    async def main() -> None:
        hub = await create_hub(load_config(folder / "config.toml"))
        try:
            now = utcnow()
            async with hub.sessions() as session:
                for start in range(0, n_docs, 5000):
                    rows = []
                    for n in range(start, min(n_docs, start + 5000)):
                        record = corpus.record(n)
                        rows.append({"record_id": record["id"], "title": record["title_original"],
                                     "record": json.dumps(record, ensure_ascii=False), "status": "approved",
                                     "created_at": now, "updated_at": now})
                    await session.execute(Solution.__table__.insert(), rows)
                await session.commit()
        finally:
            await hub.close()

    asyncio.run(main())
    # The lemma and translation files the bot writes in its cache folder on its very first start (~10 s),
    # written now: the scenarios compare later starts.
    from bot.config import cache_dir
    from storage.search.analyzer import Analyzer, use_lemma_cache

    use_lemma_cache(cache_dir(load_config(folder / "config.toml")))
    Analyzer().warm_up()
    return time.perf_counter() - started


def change_solutions(folder: Path, count: int, n_docs: int) -> None:
    """`count` solutions edited (as `!mod edit` does: the record and updated_at) while the bot is stopped."""
    from bot.compose import create_hub, load_config
    from storage.archive import ArchiveRepository, record_of

    async def main() -> None:
        hub = await create_hub(load_config(folder / "config.toml"))
        try:
            async with hub.sessions() as session:
                repository = ArchiveRepository(session)
                step = max(1, n_docs // count)
                for number in range(1, 1 + count * step, step):
                    row = await repository.get(number)
                    record = record_of(row)
                    record["title_en"] = f"Edited: homeless seniors' housing {number}"
                    await repository.save(row, record)
                await session.commit()
        finally:
            await hub.close()

    asyncio.run(main())


def run_child(mode: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(folder / "config.toml")], cwd=folder,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[1]), args.child[0])
        return

    with tempfile.TemporaryDirectory(prefix="leaders-hub-startup-") as tmp:
        folder = Path(tmp)
        write_config(folder)
        os.chdir(folder)  # the config's relative paths, as in the children
        filled = fill_database(folder, args.docs)
        results = []
        for name, mode in SCENARIOS:
            if mode == "open-changed":
                change_solutions(folder, 100, args.docs)
            results.append({"scenario": name, **run_child(mode, folder)})
        os.chdir(ROOT)
    same = results[0]["reply"] == results[1]["reply"]
    for result in results:
        result.pop("reply")
    if args.json:
        print(json.dumps({"docs": args.docs, "fill_seconds": filled, "same_reply": same, "scenarios": results},
                         indent=1))
        return
    print(f"Leaders Hub: first answered {QUERY!r} after start, {args.docs} approved solutions "
          f"(database filled in {filled:.0f} s)\n")
    print(f"{'scenario':46} {'reply s':>8} {'imports':>8} {'hub':>6} {'CPU s':>7} {'RSS@reply':>9} "
          f"{'RSS idle':>8} {'peak':>7}")
    print("-" * 106)
    for r in results:
        print(f"{r['scenario']:46} {r['answered']:8.2f} {r['imported']:8.2f} {r['hub']:6.2f} {r['cpu']:7.2f} "
              f"{r['rss_answer']:9.1f} {r['rss_idle']:8.1f} {r['rss_peak']:7.1f}")
    rebuild, opened = results[0], results[1]
    print(f"\nfirst reply: rebuild / open = {rebuild['answered'] / opened['answered']:.1f}x "
          f"({rebuild['answered']:.2f} s → {opened['answered']:.2f} s; goal ≤ 3 s); same reply: {'yes' if same else 'NO'}")
    print(f"saving the index: {rebuild['save_seconds']:.2f} s, file {rebuild['file_mb']:.0f} MB; "
          f"documents indexed: {opened['documents']}")
    print("s = seconds since the process started its imports (imports and hub: of those); RSS in MB.")


if __name__ == "__main__":
    main()
