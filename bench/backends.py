"""The same hub on SQLite and on PostgreSQL, side by side in one run: command round trip and search.

    .venv/bin/python bench/backends.py             # about 2 min
    .venv/bin/python bench/backends.py --quick     # a smoke run

One Synapse on loopback and one PostgreSQL (Debian's binaries, ``tests.pg``) in a temporary folder; two
``leaders-hub run`` processes of the same configuration but for ``[database] url``, each in its own room,
with the starter archive (36 solutions) imported. One leader (a real matrix-nio client) sends the same
commands to both, alternating bot by bot in rounds so that drift in Synapse hits both alike:

- ``!ping``: the round trip of a command that reads nothing (the inbox and its done-mark are written);
- ``!lang en``: a command that writes (one transaction with its reply);
- ``!search <query>``: a search (the index is in memory; the records come from the database).

Printed per command and backend: p50 / p95 / mean latency in ms, and PostgreSQL's p50 and p95 as a ratio
of SQLite's. The figures are printed, not judged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.synapse import Homeserver  # noqa: E402
from tests.harness import PASSWORD, BotProcess, Member  # noqa: E402
from tests.pg import PostgresServer, _server_user, find_bindir, free_port  # noqa: E402

QUERIES = ["bezdomność", "seniorzy samotność", "youth unemployment", "mieszkania wspomagane", "energy poverty"]
STARTER = ROOT / "storage" / "search" / "data" / "starter_archive.json"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def one(member: Member, room: str, body: str) -> float:
    started = time.perf_counter()
    await member.wait_reply(await member.send(room, body), timeout=60)
    return (time.perf_counter() - started) * 1000


def start_postgres(folder: Path) -> PostgresServer:
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries (/usr/lib/postgresql/*/bin): install Debian's postgresql")
    run_as = _server_user()
    if run_as:
        import pwd

        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return PostgresServer(bindir, folder, free_port(), run_as).start()


def import_starter(bot: BotProcess) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "archive", "import", "--publish", "-c",
                           str(bot.config_path), str(STARTER)], cwd=bot.workdir, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"importing the starter archive failed:\n{done.stdout}{done.stderr}")


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="lh-bench-backends-"))
    pg_folder = Path(tempfile.mkdtemp(prefix="lh-bench-pg-"))
    hs = Homeserver(work / "synapse")
    pg: PostgresServer | None = None
    bots: dict[str, BotProcess] = {}
    member: Member | None = None
    try:
        log("starting Synapse and PostgreSQL")
        await asyncio.to_thread(hs.start)
        pg = await asyncio.to_thread(start_postgres, pg_folder)
        urls = {"sqlite": "sqlite+aiosqlite:///hub.db", "postgresql": pg.create_database("bench")}
        member = await Member(hs, "benchleader").login()
        for name, url in urls.items():
            bot_id = await asyncio.to_thread(hs.register, f"hub{name}", PASSWORD)
            room = await member.create_room(f"bench {name}", invite=[bot_id])
            bots[name] = BotProcess(work / name, hs, rooms=[room], user_id=bot_id, database=url,
                                    matrix="encryption = false")
            bots[name].room = room  # type: ignore[attr-defined]
            # The archive first (the CLI migrates the database), then the bot.
            await asyncio.to_thread(import_starter, bots[name])
            await asyncio.to_thread(bots[name].start)
        commands = {"!ping": ["!ping"], "!lang en": ["!lang en"], "!search": [f"!search {q}" for q in QUERIES]}
        log("warm-up")
        for bot in bots.values():
            for body in ("!ping", "!lang en", *commands["!search"]):
                await one(member, bot.room, body)  # type: ignore[attr-defined]
        samples = {(c, b): [] for c in commands for b in bots}
        for round_no in range(args.rounds):
            order = list(bots) if round_no % 2 == 0 else list(reversed(bots))
            for command, bodies in commands.items():
                for name in order:
                    for i in range(args.per_round):
                        body = bodies[i % len(bodies)]
                        samples[(command, name)].append(await one(member, bots[name].room, body))  # type: ignore
            log(f"round {round_no + 1}/{args.rounds} done")
        print(f"\n{'command':<10} {'backend':<11} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
        for command in commands:
            for name in bots:
                values = samples[(command, name)]
                print(f"{command:<10} {name:<11} {len(values):>4} {percentile(values, 50):>8.1f} "
                      f"{percentile(values, 95):>8.1f} {statistics.fmean(values):>8.1f}")
        print("\nPostgreSQL against SQLite (ratio; 1.00 = the same):")
        for command in commands:
            sq, pq = samples[(command, "sqlite")], samples[(command, "postgresql")]
            print(f"  {command:<10} p50 {percentile(pq, 50) / percentile(sq, 50):.2f}   "
                  f"p95 {percentile(pq, 95) / percentile(sq, 95):.2f}")
    finally:
        if member:
            await member.close()
        for bot in bots.values():
            bot.stop()
        hs.stop()
        if pg:
            pg.stop()
        shutil.rmtree(pg_folder, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="a command's round trip and a search on SQLite and PostgreSQL")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--per-round", type=int, default=20, help="commands of each kind per bot and round")
    p.add_argument("--quick", action="store_true", help="2 rounds of 5")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.per_round = 2, 5
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
