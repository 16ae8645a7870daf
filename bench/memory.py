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

``--live`` measures instead a real ``leaders-hub run`` process (``tests.harness.BotProcess``: SQLite,
encryption on) against a real Synapse on 127.0.0.1 (``bot.synapse.Homeserver``), and in the same run
the bare matrix-nio bot ``bench/bare_bot.py`` (inline) on the same Synapse: the RSS of each process
idle after its first sync and after it answered one ``!ping`` from a leader (a nio client), in MB, and
the ratio Leaders Hub ÷ bare bot. The bot is started twice on the same store and database: ``first
start`` (a new database, a new device, cross-signing set up) and ``restart`` (what a bot that runs
for weeks was started as). ``--tree NAME=DIR`` (repeatable) also runs the bot from another checkout
(``PYTHONPATH=DIR``, the same virtual environment), e.g. the commit before a change: before and after
in one run. Everything it starts is stopped at the end, on error, Ctrl-C or SIGTERM.

    .venv/bin/python bench/memory.py [--json]
    .venv/bin/python bench/memory.py --live [--tree before=/tmp/lh-before] [--settle 5] [--json]
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

from procstat import GOAL_RSS_MB, rss_mb, run_cleanly  # bench/, beside this file: standard library only

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


# ----- --live: a real `leaders-hub run` and the bare nio bot against a real Synapse ------------------

LIVE_STEPS = ("first start, idle after the first sync", "restart, idle after the first sync",
              "restart, after one !ping")
BARE_STEPS = ("idle after the first sync", "after one !ping")


def parse_trees(values: list[str]) -> list[tuple[str, Path]]:
    """``[("this tree", ROOT), (NAME, DIR) …]`` from ``--tree NAME=DIR`` arguments."""
    trees = [("this tree", ROOT)]
    for value in values:
        name, sep, folder = value.partition("=")
        path = Path(folder).expanduser().resolve()
        if not sep or not name or not (path / "bot" / "cli.py").is_file():
            raise SystemExit(f"--tree {value!r}: expected NAME=DIR, DIR a checkout of Leaders Hub")
        trees.append((name, path))
    return trees


async def settled_rss(pid: int, settle: float) -> dict[str, float]:
    """RSS after ``settle`` seconds of nothing happening (what the process does right after a sync or a
    reply, e.g. key uploads, the archive's index, a reply's bookkeeping, is over by then)."""
    await asyncio.sleep(settle)
    rss, peak = rss_mb(pid)
    return {"rss": rss, "peak": peak}


async def live_run(args: argparse.Namespace, workdir: Path, started: list) -> dict:
    """``started`` collects what was started, so that the caller stops it whatever happens."""
    sys.path.insert(0, str(ROOT))
    from ping_roundtrip import BareBot, Leader  # bench/, beside this file (only the parent imports them)

    from bot.synapse import Homeserver
    from tests.harness import PASSWORD, BotProcess

    class TreeBot(BotProcess):
        """``leaders-hub run`` as BotProcess starts it, with the code of one checkout first on the path."""

        def __init__(self, tree: Path, *a, **kw):
            self.tree = tree
            super().__init__(*a, **kw)

        def start(self, wait: bool = True, timeout: float = 90) -> "TreeBot":
            log = open(self.log_path, "ab")
            env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(self.tree)}
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "-c", str(self.config_path)],
                                            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
                                            start_new_session=True)
            log.close()
            if wait:
                self.wait_synced(timeout)
            return self

        def wait_synced(self, timeout: float) -> None:
            """Until ``/healthz`` says the first sync is done."""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the bot exited ({self.process.returncode}):\n{self.log()[-3000:]}")
                status, body = self.health()
                if status == 200 and body.get("synced"):
                    return
                time.sleep(0.2)
            raise RuntimeError(f"the bot did not finish its first sync:\n{self.log()[-3000:]}")

    trees = parse_trees(args.tree)
    homeserver = Homeserver(workdir / "synapse")
    started.append(homeserver)
    log_live(f"starting Synapse in {homeserver.base_dir}")
    await asyncio.to_thread(homeserver.start)

    async def measure_live(leader: Leader) -> dict:
        async def room_for(user_id: str, name: str) -> str:
            return await leader.create_room(name, [user_id])

        # The bare nio bot: idle after its first sync, then after one !ping.
        bare_id = await asyncio.to_thread(homeserver.register, "bare", PASSWORD)
        bare_room = await room_for(bare_id, "memory bare")
        bare = BareBot(workdir / "bare", homeserver, bare_id, bare_room, "inline")
        started.append(bare)
        log_live("bare nio bot: first sync")
        await asyncio.to_thread(bare.start)
        bare_steps = {BARE_STEPS[0]: await settled_rss(bare.process.pid, args.settle)}
        await leader.ping(bare_room)
        bare_steps[BARE_STEPS[1]] = await settled_rss(bare.process.pid, args.settle)
        await asyncio.to_thread(bare.stop)

        bots = []
        for i, (name, tree) in enumerate(trees):
            user_id = await asyncio.to_thread(homeserver.register, f"hub{i}", PASSWORD)
            room = await room_for(user_id, f"memory {name}")
            hub = TreeBot(tree, workdir / f"hub{i}", homeserver, rooms=[room], user_id=user_id)
            started.append(hub)
            steps = {}
            log_live(f"Leaders Hub ({name}): first start")
            await asyncio.to_thread(hub.start)
            steps[LIVE_STEPS[0]] = await settled_rss(hub.process.pid, args.settle)
            await asyncio.to_thread(hub.stop)
            log_live(f"Leaders Hub ({name}): restart")
            await asyncio.to_thread(hub.start)
            steps[LIVE_STEPS[1]] = await settled_rss(hub.process.pid, args.settle)
            await leader.ping(room)
            steps[LIVE_STEPS[2]] = await settled_rss(hub.process.pid, args.settle)
            await asyncio.to_thread(hub.stop)
            bots.append({"tree": name, "path": str(tree), "steps": steps})
        return {"settle_seconds": args.settle, "bare": bare_steps, "bots": bots}

    leader = Leader(homeserver, await asyncio.to_thread(homeserver.register, "leader", PASSWORD))
    try:
        await leader.login()
        await leader.start_sync()
        return await measure_live(leader)
    finally:
        await leader.close()  # its sync loop and HTTP sessions, in this event loop


def log_live(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stop_live(started: list) -> None:
    """Stop everything ``live_run`` started, last first; one failure does not keep the rest running."""
    for thing in reversed(started):
        try:
            thing.stop()
        except Exception as exc:  # keep stopping the rest
            log_live(f"stopping {type(thing).__name__}: {exc!r}")


def live_report(result: dict) -> str:
    bare = result["bare"]
    lines = ["Resident memory (MB) of `leaders-hub run` and of the bare matrix-nio bot (bench/bare_bot.py), one "
             f"Synapse on 127.0.0.1, one run; RSS read {result['settle_seconds']:g} s after each step", "",
             f"{'process':34} {'step':40} {'RSS':>6} {'peak':>6} {'÷ bare':>7}", "-" * 97]
    for step in BARE_STEPS:
        lines.append(f"{'bare nio bot':34} {step:40} {bare[step]['rss']:6.1f} {bare[step]['peak']:6.1f} {1:7.2f}")
    for bot_ in result["bots"]:
        for j, step in enumerate(LIVE_STEPS):
            figures = bot_["steps"][step]
            versus = bare[BARE_STEPS[1] if "ping" in step else BARE_STEPS[0]]["rss"]
            name = f"Leaders Hub ({bot_['tree']})" if j == 0 else ""
            lines.append(f"{name:34} {step:40} {figures['rss']:6.1f} {figures['peak']:6.1f} "
                         f"{figures['rss'] / versus:7.2f}")
    if len(result["bots"]) > 1:
        lines.append("")
        ours = result["bots"][0]["steps"]
        for other in result["bots"][1:]:
            lines.append(f"this tree − {other['tree']}: " + ", ".join(
                f"{step} {ours[step]['rss'] - other['steps'][step]['rss']:+.1f} MB" for step in LIVE_STEPS))
    lines.append("÷ bare: the bot's RSS ÷ the bare bot's at the same step (idle ÷ idle, after a ping ÷ after a ping); "
                 "peak = VmHWM.")
    return "\n".join(lines)


def live_main(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="lh-memory-"))
    started: list = []

    def work() -> None:
        result = asyncio.run(live_run(args, workdir, started))
        print(json.dumps(result, indent=1) if args.json else live_report(result))

    return run_cleanly(work, workdir, lambda: stop_live(started), log_live)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--live", action="store_true",
                        help="a real `leaders-hub run` and the bare nio bot against a real Synapse")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                        help="with --live: also run the bot from the checkout DIR (e.g. the commit before a change)")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="with --live: seconds between a step and reading the RSS (default 5)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.live:
        sys.exit(live_main(args))
    if args.tree:
        parser.error("--tree needs --live")
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
