"""Encryption's cost: the encrypted ``!ping`` round trip against an unencrypted one, and the start-up time that
setting up cross-signing adds, each against its baseline in the same run.

    .venv/bin/python bench/e2ee.py                 # about 1 min
    .venv/bin/python bench/e2ee.py --pings 100 --starts 5

One Synapse on 127.0.0.1 in a temporary folder. Round trips: one leader (a matrix-nio client with
encryption) in two leader rooms of the same bot, one encrypted and one not; pings alternate between the
rooms, so both see the same machine. With ``--element`` (default on when node_modules is there), a leader
on Element's crypto (matrix-js-sdk + Rust/wasm, "signed devices only") pings the encrypted room too.
Start-up: the bot is started on a fresh account (first start: create the identity, secret storage, sign
the device) and again with its store (later start), with ``cross_signing = true`` and, as the baseline,
``cross_signing = false``; the figure is the time from the process start to ``/healthz`` answering 200,
and the bot's own log line for the cross-signing step.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.synapse import Homeserver  # noqa: E402
from tests.element import ElementClient, node_ready  # noqa: E402
from tests.harness import PASSWORD, BotProcess, Member  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def show(name: str, values: list[float]) -> None:
    print(f"  {name:<34} n={len(values):<4} p50 {pct(values, .5):7.1f} ms   p95 {pct(values, .95):7.1f} ms   "
          f"mean {statistics.mean(values):7.1f} ms")


async def round_trips(hs: Homeserver, work: Path, pings: int, element: bool) -> None:
    bot_id = hs.register("hubrt", PASSWORD)
    owner = await Member(hs, "ownerrt", work / "owner-store").login()
    leader = await Member(hs, "leaderrt", work / "leader-store").login()
    encrypted = await owner.create_room("E2EE", invite=[bot_id, leader.user_id], encrypted=True)
    plain = await owner.create_room("Plain", invite=[bot_id, leader.user_id])
    await leader.join(encrypted)
    await leader.join(plain)
    bot = BotProcess(work / "bot-rt", hs, rooms=[encrypted, plain], user_id=bot_id).start()
    try:
        for room in (encrypted, plain, encrypted, plain):  # warm-up: keys shared, caches filled
            await leader.ask(room, "!ping", timeout=60)
        times: dict[str, list[float]] = {"encrypted": [], "plain": []}
        for i in range(pings * 2):
            name, room = ("encrypted", encrypted) if i % 2 == 0 else ("plain", plain)
            started = time.perf_counter()
            await leader.ask(room, "!ping", timeout=60)
            times[name].append((time.perf_counter() - started) * 1000)
        print("Round trips, one nio leader, pings alternating between the bot's two rooms:")
        show("encrypted room (nio leader)", times["encrypted"])
        show("unencrypted room (nio leader)", times["plain"])
        print(f"  ratio encrypted / unencrypted: p50 {pct(times['encrypted'], .5) / pct(times['plain'], .5):.2f}   "
              f"p95 {pct(times['encrypted'], .95) / pct(times['plain'], .95):.2f}")
        if element:
            hs.register("elementrt", PASSWORD)
            ela = await ElementClient(hs.url, "elementrt", PASSWORD).start()
            try:
                await ela.cross_sign()
                await ela.isolation("signed")
                await owner.client.room_invite(encrypted, ela.user_id)
                await ela.join(encrypted)
                await ela.ask(encrypted, "!ping", timeout=60)
                element_times = []
                for _ in range(pings):
                    started = time.perf_counter()
                    reply = await ela.ask(encrypted, "!ping", timeout=60)
                    element_times.append((time.perf_counter() - started) * 1000)
                    assert reply["decryptionFailure"] is None
                show("encrypted room (Element leader)", element_times)
                print(f"  ratio Element encrypted / nio unencrypted: p50 "
                      f"{pct(element_times, .5) / pct(times['plain'], .5):.2f}")
            finally:
                await ela.close()
    finally:
        bot.stop()
        await owner.close()
        await leader.close()


def start_ms(bot: BotProcess) -> tuple[float, float | None]:
    started = time.perf_counter()
    before = len(bot.log())
    bot.start()
    elapsed = (time.perf_counter() - started) * 1000
    found = re.findall(r"cross-signing: \w+, .*\((\d+) ms\)", bot.log()[before:])
    bot.stop()
    return elapsed, float(found[-1]) if found else None


def start_ups(hs: Homeserver, work: Path, starts: int) -> None:
    rows: dict[tuple[str, bool], list[tuple[float, float | None]]] = {}
    for n in range(starts):
        for cross_signing in (True, False):
            bot_id = hs.register(f"hubst{n}{int(cross_signing)}", PASSWORD)
            bot = BotProcess(work / f"bot-st{n}{int(cross_signing)}", hs, rooms=[], user_id=bot_id,
                             matrix=f"cross_signing = {'true' if cross_signing else 'false'}")
            rows.setdefault(("first", cross_signing), []).append(start_ms(bot))
            rows.setdefault(("later", cross_signing), []).append(start_ms(bot))
    print(f"Start-up to /healthz 200 (median of {starts}; the cross-signing step as the bot logs it):")
    for which in ("first", "later"):
        with_cs = rows[(which, True)]
        without = rows[(which, False)]
        total_with = statistics.median(t for t, _ in with_cs)
        total_without = statistics.median(t for t, _ in without)
        step = [s for _, s in with_cs if s is not None]
        print(f"  {which} start: {total_with:6.0f} ms with cross-signing, {total_without:6.0f} ms without "
              f"(ratio {total_with / total_without:.2f}); the step itself {statistics.median(step):.0f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pings", type=int, default=40)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--no-element", action="store_true")
    args = parser.parse_args()
    logging.getLogger("nio").setLevel(logging.ERROR)  # the leaders' clients: not the bot's log
    with tempfile.TemporaryDirectory(prefix="lh-bench-e2ee-") as tmp:
        hs = Homeserver(Path(tmp) / "synapse")
        hs.start()
        try:
            await round_trips(hs, Path(tmp), args.pings, element=not args.no_element and node_ready() is None)
            start_ups(hs, Path(tmp), args.starts)
        finally:
            hs.stop()


if __name__ == "__main__":
    asyncio.run(main())
