"""Round-trip benchmark: leaders send ``!ping``, we time until they see the reply.

    .venv/bin/python bench/ping_roundtrip.py            # full run (about 2.5 min on 2 quiet cores)
    .venv/bin/python bench/ping_roundtrip.py --quick    # smoke run (about 30 s)
    .venv/bin/python bench/ping_roundtrip.py --wait-quiet 60 --json out.json   # on a shared machine

One Synapse on loopback (relaxed rate limits, ``bot.synapse.Homeserver``) in a
temporary folder; N leaders (real matrix-nio clients); one unencrypted room per
bot under test, so the bots never see each other's pings:

- ``leaders-hub``: ``leaders-hub run`` as its own process (``tests.harness.BotProcess``,
  the bot's default configuration: SQLite inbox, encryption enabled);
- ``bare-inline``: ``bench/bare_bot.py`` awaiting each send inside its sync loop;
- ``bare-tasks``: ``bench/bare_bot.py`` sending from asyncio tasks.

After a warm-up, each bot gets the same scenarios, split into ``--rounds``
rounds that run the bots one after the other in a rotating order, so drift in
Synapse (its database grows) and passing disturbances hit all bots alike:

- ``1 leader``: one leader sends ``--pings`` pings one after the other;
- ``N leaders``: ``--leaders`` leaders at once, each ``--concurrent-pings`` pings
  one after the other (a leader sends its next ping when it has seen the reply).

Leaders not taking part in a scenario pause their ``/sync`` loop, so in the
1-leader scenario Synapse answers only that leader's and the bot's long-polls.

A ping's latency runs from the start of the send to the leader's own ``/sync``
loop delivering the reply. The leaders long-poll ``/sync`` with a 3 s timeout
(as ``tests.harness.Member``): Synapse answers a long-poll as soon as an event
for the user arrives, so the wait is not a polling interval; the ``client``
column shows what the leader side adds (measured latency minus the server's
own ``origin_server_ts`` difference between pong and ping). The leaders parse
``/sync`` themselves (json, no nio response validation) so that the benchmark
process takes little of the two cores from Synapse and the bot.

Printed per scenario and bot: p50/p95/p99/mean latency, throughput, the bot
process's CPU time per command (``psutil`` before/after the scenario, including
the moments after the last reply while the bot finishes the command), its RSS
(current and peak, ``VmHWM``), Synapse's and the benchmark's own CPU per ping,
and ``other``: the cores that processes not of this benchmark kept busy
meanwhile. Latencies are only comparable when ``other`` is near 0 (the machine
has 2 cores; Synapse alone needs most of one): ``--wait-quiet`` waits for that
before each scenario. Then the ratios Leaders Hub / bare bots and the goals.

``--py-spy PATH`` also samples Leaders Hub during the measured scenarios and
prints where its main thread's CPU goes (sampling perturbs that run's figures).

Everything started (Synapse, the bots, py-spy) is stopped on exit, Ctrl-C or
error; the temporary folder is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402
from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomCreateResponse, RoomSendResponse  # noqa: E402

from bot.synapse import Homeserver  # noqa: E402
from procstat import GOAL_RSS_MB, rss_mb, run_cleanly  # noqa: E402  (bench/, beside this file)
from tests.harness import PASSWORD, BotProcess  # noqa: E402

BARE_BOT = Path(__file__).resolve().parent / "bare_bot.py"
LEADER_SYNC_TIMEOUT_MS = 3000  # as tests.harness.Member
LEADER_FILTER = json.dumps({
    "room": {"timeline": {"limit": 500}, "state": {"lazy_load_members": True}, "ephemeral": {"types": []},
             "account_data": {"types": []}},
    "presence": {"types": []}, "account_data": {"types": []},
})
PING_TIMEOUT = 60.0
HUB, INLINE, TASKS = "leaders-hub", "bare-inline", "bare-tasks"
BOTS = (HUB, INLINE, TASKS)

# Goals from the issue.
GOAL_P50_RATIO_1 = 1.1
GOAL_CPU_MS = 3.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----- the leaders ---------------------------------------------------------------------------


@dataclass
class Sample:
    latency: float  # s, send start → reply seen by the leader's sync loop
    server: float  # s, pong origin_server_ts − ping origin_server_ts


class Leader:
    """A leader: a matrix-nio client that sends, and its own /sync loop that notes every reply it sees."""

    def __init__(self, homeserver: Homeserver, user_id: str):
        self.homeserver = homeserver
        self.user_id = user_id
        self.client = AsyncClient(homeserver.url, user_id,
                                  config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=False))
        self.http: aiohttp.ClientSession | None = None
        self.since: str | None = None
        self.task: asyncio.Task | None = None
        self.own: dict[str, int] = {}  # our own events seen in /sync → origin_server_ts
        self.replies: dict[str, tuple[float, int]] = {}  # our event id → (seen at, reply origin_server_ts)
        self.waiters: dict[str, asyncio.Future] = {}
        self.limited = 0
        self.sync_errors = 0

    async def login(self) -> None:
        resp = await self.client.login(PASSWORD, device_name="bench")
        assert isinstance(resp, LoginResponse), resp
        self.http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.client.access_token}"})

    async def _sync(self, timeout_ms: int) -> dict[str, Any]:
        params = {"filter": LEADER_FILTER, "timeout": str(timeout_ms)}
        if self.since:
            params["since"] = self.since
        async with self.http.get(self.homeserver.url + "/_matrix/client/v3/sync", params=params,
                                 timeout=aiohttp.ClientTimeout(total=timeout_ms / 1000 + 30)) as r:
            r.raise_for_status()
            return await r.json()

    async def start_sync(self) -> None:
        """Start (or resume) the /sync loop; what happened while it was paused is skipped."""
        if self.task:
            return
        self.since = (await self._sync(0))["next_batch"]
        self.task = asyncio.ensure_future(self._sync_forever())

    async def pause_sync(self) -> None:
        """A leader who is not taking part does not sync, so Synapse does not answer its long-polls."""
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
            self.task = None

    async def _sync_forever(self) -> None:
        while True:
            try:
                body = await self._sync(LEADER_SYNC_TIMEOUT_MS)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.sync_errors += 1
                await asyncio.sleep(0.2)
                continue
            now = time.perf_counter()
            self.since = body["next_batch"]
            for room in body.get("rooms", {}).get("join", {}).values():
                timeline = room.get("timeline", {})
                if timeline.get("limited"):
                    self.limited += 1
                for event in timeline.get("events", []):
                    event_id = event.get("event_id")
                    if event.get("sender") == self.user_id:
                        self.own[event_id] = event.get("origin_server_ts", 0)
                        continue
                    content = event.get("content") or {}
                    target = ((content.get("m.relates_to") or {}).get("m.in_reply_to") or {}).get("event_id")
                    if target in self.own:  # a reply to one of our pings (which always comes first)
                        self.replies.setdefault(target, (now, event.get("origin_server_ts", 0)))
                        waiter = self.waiters.pop(target, None)
                        if waiter and not waiter.done():
                            waiter.set_result(None)

    async def create_room(self, name: str, invite: list[str]) -> str:
        resp = await self.client.room_create(name=name, invite=invite)
        assert isinstance(resp, RoomCreateResponse), resp
        return resp.room_id

    async def join(self, room_id: str) -> None:
        resp = await self.client.join(room_id)
        assert hasattr(resp, "room_id"), resp

    async def ping(self, room_id: str) -> Sample:
        started = time.perf_counter()
        resp = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "!ping"})
        assert isinstance(resp, RoomSendResponse), resp
        event_id = resp.event_id
        if event_id not in self.replies:
            waiter = asyncio.get_running_loop().create_future()
            self.waiters[event_id] = waiter
            try:
                await asyncio.wait_for(waiter, PING_TIMEOUT)
            except asyncio.TimeoutError:
                raise RuntimeError(f"{self.user_id}: no reply to {event_id} within {PING_TIMEOUT:.0f} s") from None
        seen, reply_ts = self.replies.pop(event_id)
        server = (reply_ts - self.own.pop(event_id)) / 1000
        return Sample(seen - started, server)

    async def close(self) -> None:
        await self.pause_sync()
        if self.http:
            await self.http.close()
        await self.client.close()


# ----- the bots under test -------------------------------------------------------------------


class BareBot:
    """bench/bare_bot.py as its own process."""

    def __init__(self, workdir: Path, homeserver: Homeserver, user_id: str, room_id: str, mode: str):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "bare_bot.log"
        self.args = [sys.executable, str(BARE_BOT), homeserver.url, user_id, PASSWORD, room_id, mode]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "BareBot":
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if "ready" in text.splitlines():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the bare bot exited ({self.process.returncode}):\n{text[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError("the bare bot did not become ready")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


# Where the bot's main thread spends its CPU, by the frames a py-spy sample contains (first match wins).
PROFILE_CATEGORIES = [
    ("nio crypto store (peewee, SQLite)", ("nio/store", "peewee")),
    ("bot database (SQLAlchemy ORM + aiosqlite)", ("sqlalchemy", "aiosqlite", "storage/")),
    ("nio response validation (jsonschema)", ("jsonschema", "nio/schemas", "referencing")),
    ("nio client (sync parsing, room state, requests)", ("nio/",)),
    ("reply rendering (markdown-it, nh3)", ("markdown_it", "nh3", "bot/reply.py")),
    ("HTTP and event loop (aiohttp, asyncio)", ("aiohttp", "asyncio/", "yarl", "multidict")),
    ("logging", ("logging/",)),
]


def summarize_profile(path: Path) -> str:
    """Share of the main thread's busy samples per category (py-spy raw output)."""
    counts: dict[str, int] = {}
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if not n.isdigit() or any("Thread._bootstrap" in f for f in frames):
            continue  # helper threads (aiosqlite workers...): py-spy counts their blocking waits as busy
        if "select (selectors.py" in frames[-1]:
            continue  # the event loop waiting
        busy += int(n)
        name = next((name for name, keys in PROFILE_CATEGORIES if any(k in f for f in frames for k in keys)),
                    "other (bot code, commands, metrics)")
        counts[name] = counts.get(name, 0) + int(n)
    lines = [f"Leaders Hub main thread, {busy} busy samples (py-spy, {path}):"]
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {n / busy:6.1%}  {name}")
    return "\n".join(lines)


# ----- measuring -----------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    bot: str
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    bot_cpu: float = 0.0
    synapse_cpu: float = 0.0
    bench_cpu: float = 0.0
    window: float = 0.0  # wall time of the CPU measurements
    other_cpu: float = 0.0  # CPU used meanwhile by processes that are not ours (other work on the machine)
    rss: float = math.nan
    rss_peak: float = math.nan

    @property
    def n(self) -> int:
        return len(self.samples)

    def pct(self, q: float, attr: str = "latency") -> float:
        values = sorted(getattr(s, attr) for s in self.samples)
        if not values:
            return math.nan
        pos = (len(values) - 1) * q / 100
        lo, hi = math.floor(pos), math.ceil(pos)
        return (values[lo] + (values[hi] - values[lo]) * (pos - lo)) * 1000

    @property
    def mean(self) -> float:
        return statistics.fmean(s.latency for s in self.samples) * 1000

    @property
    def client_overhead(self) -> float:
        return statistics.fmean(s.latency - s.server for s in self.samples) * 1000

    @property
    def other_load(self) -> float:
        """Cores busy with other processes while this was measured (noise: should be about 0)."""
        return max(0.0, self.other_cpu / self.window) if self.window else math.nan

    @property
    def throughput(self) -> float:
        return self.n / self.wall if self.wall else math.nan

    def per_ping_ms(self, seconds: float) -> float:
        return seconds / self.n * 1000 if self.n else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "bot": self.bot, "pings": self.n, "p50_ms": self.pct(50),
                "p95_ms": self.pct(95), "p99_ms": self.pct(99), "mean_ms": self.mean,
                "server_p50_ms": self.pct(50, "server"), "client_overhead_ms": self.client_overhead,
                "throughput_per_s": self.throughput, "bot_cpu_ms_per_cmd": self.per_ping_ms(self.bot_cpu),
                "synapse_cpu_ms_per_ping": self.per_ping_ms(self.synapse_cpu),
                "bench_cpu_ms_per_ping": self.per_ping_ms(self.bench_cpu), "other_load_cores": self.other_load,
                "bot_rss_mb": self.rss,
                "bot_rss_peak_mb": self.rss_peak}


async def leader_run(leader: Leader, room_id: str, pings: int) -> list[Sample]:
    return [await leader.ping(room_id) for _ in range(pings)]


async def only_syncing(everyone: list[Leader], group: list[Leader]) -> None:
    for leader in everyone:
        if leader not in group:
            await leader.pause_sync()
    for leader in group:
        await leader.start_sync()
    await asyncio.sleep(0.2)  # the resumed long-polls are in place


def system_busy_seconds() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


async def wait_quiet(ours: list[psutil.Process], max_wait: float, limit: float = 0.15) -> float:
    """Wait (at most ``max_wait`` s) until other processes use under ``limit`` cores; return their last load."""
    deadline = time.monotonic() + max_wait
    while True:
        ours0, busy0, t0 = sum(cpu_seconds(p) for p in ours), system_busy_seconds(), time.perf_counter()
        await asyncio.sleep(1.0)
        other = ((system_busy_seconds() - busy0) - (sum(cpu_seconds(p) for p in ours) - ours0)) / (
            time.perf_counter() - t0)
        if other < limit or time.monotonic() >= deadline:
            return other


async def measure(result: Result, bot_proc: psutil.Process, synapse: psutil.Process, ours: list[psutil.Process],
                  leaders: list[Leader], room_id: str, pings: int) -> None:
    me = psutil.Process()
    cpu0, syn0, bench0 = cpu_seconds(bot_proc), cpu_seconds(synapse), cpu_seconds(me)
    ours0, busy0 = sum(cpu_seconds(p) for p in ours), system_busy_seconds()
    started = time.perf_counter()
    runs = await asyncio.gather(*(leader_run(leader, room_id, pings) for leader in leaders))
    result.wall += time.perf_counter() - started
    await asyncio.sleep(0.5)  # let the bot finish the last command (bookkeeping after its send, its own echo)
    result.window += time.perf_counter() - started
    result.bot_cpu += cpu_seconds(bot_proc) - cpu0
    result.synapse_cpu += cpu_seconds(synapse) - syn0
    result.bench_cpu += cpu_seconds(me) - bench0
    result.other_cpu += (system_busy_seconds() - busy0) - (sum(cpu_seconds(p) for p in ours) - ours0)
    for samples in runs:
        result.samples.extend(samples)
    result.rss, result.rss_peak = rss_mb(bot_proc.pid)


# ----- the run -------------------------------------------------------------------------------


class Run:
    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.homeserver = Homeserver(workdir / "synapse")
        self.hub: BotProcess | None = None
        self.bare: dict[str, BareBot] = {}
        self.spy: subprocess.Popen | None = None

    def start_py_spy(self, pid: int) -> None:
        exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if not exe:
            raise RuntimeError("--py-spy needs py-spy (pip install py-spy)")
        self.spy = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "200", "--nonblocking",
                                     "--format", "raw", "--output", str(Path(self.args.py_spy).resolve())],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(1)  # attached

    def stop_py_spy(self) -> None:
        if self.spy and self.spy.poll() is None:
            self.spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                self.spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.spy.kill()
                self.spy.wait()

    def stop_all(self) -> None:
        self.stop_py_spy()
        for bare in self.bare.values():
            try:
                bare.stop()
            except Exception as exc:  # keep stopping the rest
                log(f"stopping a bare bot: {exc!r}")
        if self.hub:
            try:
                self.hub.stop()
            except Exception as exc:
                log(f"stopping Leaders Hub: {exc!r}")
        self.homeserver.stop()

    async def main(self) -> list[Result]:
        args, hs = self.args, self.homeserver
        log(f"starting Synapse in {hs.base_dir}")
        await asyncio.to_thread(hs.start)
        bot_ids = {name: await asyncio.to_thread(hs.register, name.replace("-", ""), PASSWORD) for name in BOTS}
        leader_ids = [await asyncio.to_thread(hs.register, f"leader{i}", PASSWORD) for i in range(args.leaders)]
        leaders = [Leader(hs, uid) for uid in leader_ids]
        try:
            for leader in leaders:
                await leader.login()
            rooms: dict[str, str] = {}
            for name in BOTS:
                rooms[name] = await leaders[0].create_room(f"bench {name}",
                                                           [bot_ids[name]] + [l.user_id for l in leaders[1:]])
                for leader in leaders[1:]:
                    await leader.join(rooms[name])
            log("starting the bots")
            self.hub = BotProcess(self.workdir / HUB, hs, rooms=[rooms[HUB]], user_id=bot_ids[HUB],
                                  matrix="encryption = false" if args.no_encryption else "")
            await asyncio.to_thread(self.hub.start)
            for mode, name in (("inline", INLINE), ("tasks", TASKS)):
                self.bare[name] = BareBot(self.workdir / name, hs, bot_ids[name], rooms[name], mode)
                await asyncio.to_thread(self.bare[name].start)
            procs = {HUB: psutil.Process(self.hub.process.pid),
                     **{name: psutil.Process(b.process.pid) for name, b in self.bare.items()}}
            synapse = psutil.Process(hs.process.pid)
            ours = [*procs.values(), synapse, psutil.Process()]
            log("warm-up")
            for name in BOTS:
                await only_syncing(leaders, leaders[:1])
                await leader_run(leaders[0], rooms[name], args.warmup)
                await only_syncing(leaders, leaders)
                await asyncio.gather(*(leader_run(l, rooms[name], 1) for l in leaders))

            # Each round runs a share of the pings, bot after bot; pooled, they make the scenario.
            seq, conc = math.ceil(args.pings / args.rounds), math.ceil(args.concurrent_pings / args.rounds)
            scenarios = [(f"1 leader x{seq * args.rounds}", leaders[:1], seq),
                         (f"{len(leaders)} leaders x{conc * args.rounds}", leaders, conc)]
            results = {(s, b): Result(s, b) for s, _, _ in scenarios for b in BOTS}
            if args.py_spy:
                await asyncio.to_thread(self.start_py_spy, self.hub.process.pid)
            for round_no in range(args.rounds):
                order = BOTS[round_no % 3:] + BOTS[:round_no % 3]  # rotate, so no bot always goes first
                for scenario, group, pings in scenarios:
                    for name in order:
                        log(f"round {round_no + 1}/{args.rounds}: {scenario}, {name}")
                        await only_syncing(leaders, group)
                        if args.wait_quiet:
                            other = await wait_quiet(ours, args.wait_quiet)
                            if other >= 0.15:
                                log(f"other processes still use {other:.2f} cores: measuring anyway")
                        await measure(results[(scenario, name)], procs[name], synapse, ours, group, rooms[name], pings)
            self.stop_py_spy()
            limited = sum(l.limited for l in leaders)
            errors = sum(l.sync_errors for l in leaders)
            if limited or errors:
                log(f"warning: leaders saw {limited} limited timelines and {errors} sync errors")
            return [results[(s, b)] for s, _, _ in scenarios for b in BOTS]
        finally:
            for leader in leaders:
                await leader.close()


# ----- the report ----------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def report(results: list[Result], args: argparse.Namespace) -> str:
    lines = []
    header = (f"{'scenario':<18} {'bot':<12} {'pings':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'mean':>7} "
              f"{'srv p50':>7} {'client':>6} {'ping/s':>7} {'botCPU':>7} {'RSS':>6} {'RSSpk':>6} "
              f"{'synCPU':>7} {'benchCPU':>8} {'other':>5}")
    lines.append(header)
    lines.append(f"{'':<18} {'':<12} {'':>5} {'ms':>7} {'ms':>7} {'ms':>7} {'ms':>7} {'ms':>7} {'ms':>6} "
                 f"{'':>7} {'ms/cmd':>7} {'MB':>6} {'MB':>6} {'ms/ping':>7} {'ms/ping':>8} {'cores':>5}")
    lines.append("-" * len(header))
    by = {(r.scenario, r.bot): r for r in results}
    scenarios = list(dict.fromkeys(r.scenario for r in results))
    for scenario in scenarios:
        for bot in BOTS:
            r = by[(scenario, bot)]
            lines.append(f"{scenario:<18} {bot:<12} {r.n:>5} {fmt(r.pct(50)):>7} {fmt(r.pct(95)):>7} "
                         f"{fmt(r.pct(99)):>7} {fmt(r.mean):>7} {fmt(r.pct(50, 'server')):>7} "
                         f"{fmt(r.client_overhead):>6} {fmt(r.throughput):>7} {fmt(r.per_ping_ms(r.bot_cpu), 2):>7} "
                         f"{fmt(r.rss, 0):>6} {fmt(r.rss_peak, 0):>6} {fmt(r.per_ping_ms(r.synapse_cpu)):>7} "
                         f"{fmt(r.per_ping_ms(r.bench_cpu)):>8} {fmt(r.other_load, 2):>5}")
        lines.append("")
    lines.append(f"{'ratios Leaders Hub / bare':<31} {'p50':>7} {'p95':>7} {'p99':>7} {'mean':>7} {'ping/s':>7} "
                 f"{'botCPU':>7}")
    for scenario in scenarios:
        hub = by[(scenario, HUB)]
        for bot in (INLINE, TASKS):
            base = by[(scenario, bot)]
            ratio = lambda a, b: a / b if b else math.nan  # noqa: E731
            lines.append(f"{scenario:<18} / {bot:<10} {fmt(ratio(hub.pct(50), base.pct(50)), 2):>7} "
                         f"{fmt(ratio(hub.pct(95), base.pct(95)), 2):>7} {fmt(ratio(hub.pct(99), base.pct(99)), 2):>7} "
                         f"{fmt(ratio(hub.mean, base.mean), 2):>7} {fmt(ratio(hub.throughput, base.throughput), 2):>7} "
                         f"{fmt(ratio(hub.bot_cpu, base.bot_cpu), 2):>7}")
    lines.append("")
    one, many = scenarios[0], scenarios[-1]
    hub1, inline1, tasks1 = by[(one, HUB)], by[(one, INLINE)], by[(one, TASKS)]
    hubn, tasksn = by[(many, HUB)], by[(many, TASKS)]
    cpu = max(hub1.per_ping_ms(hub1.bot_cpu), hubn.per_ping_ms(hubn.bot_cpu))
    peak = max(hub1.rss_peak, hubn.rss_peak)
    goals = [
        (f"p50, 1 leader, within {GOAL_P50_RATIO_1}x of the bare bot (inline)",
         hub1.pct(50) <= GOAL_P50_RATIO_1 * inline1.pct(50), f"{hub1.pct(50) / inline1.pct(50):.2f}x"),
        (f"p50, 1 leader, within {GOAL_P50_RATIO_1}x of the bare bot (tasks)",
         hub1.pct(50) <= GOAL_P50_RATIO_1 * tasks1.pct(50), f"{hub1.pct(50) / tasks1.pct(50):.2f}x"),
        (f"p95, {many.split(' x')[0]}, no worse than the bare bot (tasks)",
         hubn.pct(95) <= tasksn.pct(95), f"{hubn.pct(95):.1f} vs {tasksn.pct(95):.1f} ms"),
        (f"bot CPU under {GOAL_CPU_MS:.0f} ms per command", cpu < GOAL_CPU_MS, f"{cpu:.2f} ms (worst scenario)"),
        (f"bot RSS under {GOAL_RSS_MB:.0f} MB", peak < GOAL_RSS_MB, f"{peak:.0f} MB peak"),
    ]
    lines.append("goals (Leaders Hub)")
    for text, ok, value in goals:
        lines.append(f"  {'PASS' if ok else 'MISS'}  {text}: {value}")
    for scenario in (one, many):  # what matrix-nio itself costs: the floor under the CPU goal
        hub, inline, tasks = (by[(scenario, bot)].per_ping_ms(by[(scenario, bot)].bot_cpu) for bot in BOTS)
        lines.append(f"  bot CPU per command, {scenario.strip()}: Leaders Hub {hub:.2f} ms, bare nio inline "
                     f"{inline:.2f} / tasks {tasks:.2f} ms → Leaders Hub adds {hub - min(inline, tasks):+.2f} ms")
    lines.append("")
    lines.append("client = measured latency minus (pong − ping origin_server_ts): what sending and the leader's "
                 "/sync add; srv p50 = that server-side difference; CPU figures are process CPU time over the "
                 "scenario divided by its pings; RSSpk = peak RSS (VmHWM); other = cores busy with processes not "
                 "of this benchmark meanwhile (noise; latency figures are only comparable when it is near 0).")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="!ping round trips: Leaders Hub against bare matrix-nio bots, "
                                "on one loopback Synapse.")
    p.add_argument("--leaders", type=int, default=10, help="leaders in the concurrent scenario (default 10)")
    p.add_argument("--pings", type=int, default=50, help="pings in the 1-leader scenario (default 50)")
    p.add_argument("--concurrent-pings", type=int, default=20,
                   help="pings per leader in the concurrent scenario (default 20)")
    p.add_argument("--warmup", type=int, default=5, help="sequential warm-up pings per bot (default 5)")
    p.add_argument("--rounds", type=int, default=5,
                   help="split the pings into this many rounds, each running every bot in a rotated order, so "
                   "a passing disturbance hits all bots alike; results are pooled (default 5)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                   help="before each scenario wait up to SECONDS for other processes on the machine to go "
                   "(under 0.15 cores busy); default 0: measure at once")
    p.add_argument("--quick", action="store_true", help="a smoke run: 3 leaders, 10 pings, 6 per leader, 2 rounds")
    p.add_argument("--no-encryption", action="store_true",
                   help="run Leaders Hub with [matrix] encryption = false, like the bare bots: an encrypting "
                   "device costs Synapse more per message, which is what this isolates")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    p.add_argument("--py-spy", metavar="PATH", help="sample Leaders Hub with py-spy during the measured scenarios "
                   "(raw stacks to PATH) and print where its main thread spends CPU; sampling perturbs its figures")
    args = p.parse_args(argv)
    if args.quick:
        args.leaders, args.pings, args.concurrent_pings, args.warmup, args.rounds = 3, 10, 6, 2, 2
    if args.leaders < 1 or args.pings < 1 or args.concurrent_pings < 1 or args.rounds < 1:
        p.error("counts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="lh-bench-"))
    run = Run(args, workdir)
    started = time.monotonic()

    def work() -> None:
        results = asyncio.run(run.main())
        print(f"Leaders Hub ping round trips: {args.leaders} leaders, {args.pings} sequential pings, "
              f"{args.concurrent_pings} pings per leader concurrently, {args.rounds} round(s), "
              f"{os.cpu_count()} CPUs, Leaders Hub's encryption {'off' if args.no_encryption else 'on'}")
        print(report(results, args))
        if args.py_spy and Path(args.py_spy).exists():
            print()
            print(summarize_profile(Path(args.py_spy)))
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "results": [r.as_dict() for r in results]},
                                                  indent=1))

    code = run_cleanly(work, workdir, run.stop_all, log, keep=args.keep)
    log(f"done in {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
