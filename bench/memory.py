"""Resident memory (RSS) of the bot: imported, with its Hub, and with the archive search index built.

Every scenario runs in a new Python process (RSS only grows: what one step loaded would hide the
next one's cost), all on one SQLite file and data folder in a temporary directory, with the config
`leaders-hub run` reads. The bot's steps are the ones `leaders-hub run` takes, without a homeserver:

* ``imported``: the modules ``leaders-hub run`` imports (``bot.cli``, ``bot.app`` with every feature,
  ``bot.matrix``, ``bot.web``);
* ``hub``: the database migrated in a child process when it is behind, then ``create_hub``
  and the ``MatrixTransport`` (the nio client, not logged in);
* ``started``: what the bot does after its first sync: the background jobs of the features (the
  archive's search index over the approved records, the events scheduler).

Scenarios, in this order: ``baseline`` (``import nio, aiohttp``, what the bare bots of
ping_roundtrip.py load); ``first start`` (a new database, migrated by Alembic in a child process,
see storage/db.py; the archive is empty, as in ping_roundtrip.py); ``restart`` (the database at the
head revision); then the 36-record starter archive is imported (``leaders-hub archive import``)
and the index is built over it: the first time the lemma dictionaries are written to the data
folder (storage/search/lemmas.py), then they are read from there; then the index the previous
process saved at its end is opened instead (no dictionary opened until a search), and last the
index is built with simplemma's in-memory dictionaries (how the bot kept them before) as the
baseline of that step.

Prints RSS and peak RSS (VmHWM) in MB per step, each step's RSS ÷ the baseline's, and the goal
of ping_roundtrip.py (RSS under 100 MB) for the scenarios with an empty archive.

    .venv/bin/python bench/memory.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procstat import GOAL_RSS_MB, rss_mb  # bench/, beside this file: standard library only

ROOT = Path(__file__).resolve().parents[1]

SCENARIOS = [  # (name, child mode, the saved search index removed first)
    ("baseline: import nio, aiohttp", "baseline", False),
    ("first start (new database; empty archive)", "bot", False),
    ("restart (database at head; empty archive)", "bot", False),
    ("restart, archive of 36 (lemma files built now)", "bot", True),
    ("restart, archive of 36 (lemma files present)", "bot", True),
    ("restart, archive of 36 (saved index opened)", "bot", False),
    ("restart, archive of 36, lemmas in memory (as before)", "bot-lemmas-in-memory", True),
]
INDEX_FILE = Path("cache") / "search-index.bin"  # the archive's saved index, in the data folder
IMPORT_BEFORE = 3  # the starter archive is imported before this scenario


def report(step: str, started: float) -> None:
    rss, peak = rss_mb()
    print(json.dumps({"step": step, "rss": rss, "peak": peak, "seconds": time.perf_counter() - started}),
          flush=True)


def write_config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text("\n".join([
        "[matrix]",
        'homeserver = "http://127.0.0.1:9"',  # never contacted
        'user_id = "@hub:localhost"',
        'password = "not-used"',
        'store_path = "store"',
        "[database]",
        'url = "sqlite+aiosqlite:///hub.db"',
        "[logging]",
        'level = "WARNING"',
    ]) + "\n")
    return path


# ----- the measured processes -------------------------------------------------------------------

def child_baseline() -> None:
    started = time.perf_counter()
    import aiohttp  # noqa: F401
    import nio  # noqa: F401

    report("imported", started)


def child_bot(config_path: Path, lemmas_in_memory: bool) -> None:
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    import bot.cli  # noqa: F401  (what `leaders-hub run` imports, in its order)
    from bot.compose import create_hub, features, load_config
    from bot.matrix import MatrixTransport
    from bot.web import start_web  # noqa: F401

    features()
    report("imported", started)

    if lemmas_in_memory:
        import commands.archive.service
        from storage.search.analyzer import use_lemma_cache

        commands.archive.service.use_lemma_cache = lambda folder: use_lemma_cache(None)

    async def main() -> None:
        config = load_config(config_path)
        bot.cli.setup_logging(config)
        from bot.config import sqlite_url_resolved
        from storage import db

        await db.upgrade_in_child(sqlite_url_resolved(config))  # as `leaders-hub run`: Alembic in a child
        hub = await create_hub(config, migrate=False)
        transport = MatrixTransport(hub)
        report("hub", started)
        jobs = [asyncio.ensure_future(job(hub)) for job in hub.background_jobs]
        from commands.archive import ArchiveIndex

        await hub.service(ArchiveIndex).ready(analyse=False)  # what the archive's start-up job builds (it waits for it)
        await asyncio.sleep(0.5)  # the events scheduler's rebuild
        report("started", started)
        transport.stopping.set()
        await asyncio.wait(jobs, timeout=10)
        await hub.close()

    asyncio.run(main())


# ----- the parent -------------------------------------------------------------------------------

def run_child(mode: str, folder: Path) -> list[dict]:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(folder / "config.toml")],
                          cwd=folder, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def import_starter_archive(folder: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from storage.search import STARTER_ARCHIVE

    done = subprocess.run([sys.executable, "-m", "bot.cli", "archive", "import", str(STARTER_ARCHIVE), "--publish",
                           "-c", str(folder / "config.toml")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    if "Imported 36 solution(s)" not in done.stdout:
        raise SystemExit(f"importing the starter archive failed:\n{done.stdout}{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, config = args.child
        if mode == "baseline":
            child_baseline()
        else:
            child_bot(Path(config), lemmas_in_memory=mode == "bot-lemmas-in-memory")
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="leaders-hub-memory-") as tmp:
        folder = Path(tmp)
        write_config(folder)
        for i, (name, mode, rebuild) in enumerate(SCENARIOS):
            if i == IMPORT_BEFORE:
                import_starter_archive(folder)
            if rebuild:  # the index built from the database, as at every start before it was saved
                (folder / INDEX_FILE).unlink(missing_ok=True)
            results.append({"scenario": name, "steps": run_child(mode, folder)})
        lemma_files = {p.name: p.stat().st_size for p in (folder / "cache").glob("*.sqlite")}
    baseline = results[0]["steps"][-1]["rss"]
    if args.json:
        print(json.dumps({"baseline_rss": baseline, "scenarios": results, "lemma_files": lemma_files}, indent=1))
        return
    print("Leaders Hub resident memory (MB), each scenario a new process; baseline: import nio, aiohttp\n")
    print(f"{'scenario':54} {'step':9} {'RSS':>6} {'peak':>6} {'÷ base':>7} {'s':>6}")
    print("-" * 92)
    for result in results:
        for j, step in enumerate(result["steps"]):
            name = result["scenario"] if j == 0 else ""
            print(f"{name:54} {step['step']:9} {step['rss']:6.1f} {step['peak']:6.1f} "
                  f"{step['rss'] / baseline:7.2f} {step['seconds']:6.2f}")
    worst = max(result["steps"][-1]["rss"] for result in results[1:IMPORT_BEFORE])
    verdict = "OK" if worst < GOAL_RSS_MB else "MISS"
    print(f"\ngoal, RSS with an empty archive under {GOAL_RSS_MB:.0f} MB: {verdict} "
          f"({worst:.1f} MB at most)")
    print("lemma files: " + (", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in sorted(lemma_files.items()))
                              or "none"))
    print("s = seconds since the process started its imports; peak = VmHWM (the highest RSS so far).")


if __name__ == "__main__":
    main()
