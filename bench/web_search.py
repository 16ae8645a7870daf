"""Benchmark: the public search page ``/?q=…`` on a 100 000-solution archive, against a static file (the
stylesheet, ``/static/site.css``) served by the same server in the same run.

The archive is the synthetic bilingual corpus of bench/search_scale.py (seeded), imported as
``leaders-hub archive import --publish`` does into a real SQLite file. The bot's own web server
(``bot.web``, the hub of tests/web/site.py) runs as a process of its own, so the load generator does not
share its interpreter; the search index is built before anything is timed. Then ``--concurrency`` clients
(aiohttp, keep-alive, ``Accept-Encoding: gzip`` as browsers send) request as fast as they are answered, in
``--rounds`` rounds of ``--seconds`` each, the static file and the search taking turns, so both see the same
machine. A search is one of ``--queries`` realistic queries (the judged ones first), cycled.

Prints, for each: requests, requests per second, latency p50/p95/p99 (from sending to the last byte), the
server's CPU time per request, and the ratios search ÷ static. Asserts nothing.

    .venv/bin/python bench/web_search.py [--docs 100000] [--seconds 8] [--rounds 3] [--concurrency 4]
                                         [--keep DIR] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_scale import Corpus, percentile  # noqa: E402


async def build_archive(path: Path, n: int, corpus: Corpus) -> float:
    """``n`` synthetic solutions imported and published into a new SQLite file; the seconds it took."""
    from storage import db
    from storage.archive import import_records

    records = [corpus.record(i) for i in range(n)]
    engine = db.make_engine(f"sqlite+aiosqlite:///{path}")
    await db.upgrade(engine)
    started = time.perf_counter()
    async with db.make_sessionmaker(engine)() as session:
        count, problems = await import_records(session, "synthetic.json", json.dumps(records, ensure_ascii=False),
                                               publish=True)
        await session.commit()
    await engine.dispose()
    assert count == n and not problems, (count, problems[:3])
    return time.perf_counter() - started


def serve(folder: Path, database: Path) -> None:
    """The server process: the bot's web face on 127.0.0.1 (a free port), until its stdin closes."""
    from tests.web.site import Site

    with Site(folder, database=database, store=database.parent / "store", public_url=None) as site:
        print(site.port, flush=True)
        sys.stdin.read()


async def load(url: str, paths: list[str], seconds: float, concurrency: int) -> dict:
    """``concurrency`` clients requesting ``paths`` in turn for ``seconds``: every request's latency."""
    from aiohttp import ClientSession, ClientTimeout, TCPConnector

    latencies: list[float] = []
    failures: list[str] = []
    turn = 0
    deadline = time.perf_counter() + seconds

    async def client(session: ClientSession) -> None:
        nonlocal turn
        while time.perf_counter() < deadline:
            path = paths[turn % len(paths)]
            turn += 1
            started = time.perf_counter()
            async with session.get(url + path) as response:
                await response.read()
                if response.status != 200:
                    failures.append(f"{response.status} {path[:80]}")
            latencies.append((time.perf_counter() - started) * 1000)

    async with ClientSession(connector=TCPConnector(limit=concurrency), timeout=ClientTimeout(total=60),
                             headers={"Accept-Encoding": "gzip", "Accept-Language": "pl"},
                             auto_decompress=False) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "elapsed": elapsed, "failures": failures}


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def summary(runs: list[dict], cpu: float) -> dict:
    latencies = [value for run in runs for value in run["latencies"]]
    elapsed = sum(run["elapsed"] for run in runs)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "cpu_ms": cpu / len(latencies) * 1000, "failures": [f for run in runs for f in run["failures"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=8.0, help="of each round of each kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--keep", type=Path, help="a folder to keep the archive in and reuse it next time")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", nargs=2, metavar=("FOLDER", "DATABASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), Path(args.serve[1]))
        return
    with tempfile.TemporaryDirectory(prefix="lh-web-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = run(args, folder, Path(tmp))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)


def run(args: argparse.Namespace, folder: Path, tmp: Path) -> dict:
    corpus = Corpus(args.seed)
    database = folder / f"web-{args.docs}-{args.seed}.db"
    import_s = None
    if not database.exists():
        partial = database.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        import_s = asyncio.run(build_archive(partial, args.docs, corpus))
        partial.rename(database)
    else:
        for _ in range(args.docs):  # the same queries as when the archive was made: the corpus's state moves on
            corpus.record(0)
    queries = corpus.queries(args.queries)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(tmp / "site"), str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        with urllib.request.urlopen(url + "/?q=warm", timeout=900) as response:  # builds the index: not timed
            assert response.status == 200
        index_s = time.perf_counter() - started
        with urllib.request.urlopen(url + "/", timeout=60) as response:
            html = response.read().decode()
        static = re.search(r'href="(/static/site\.css\?v=[0-9a-f]+)"', html).group(1)
        total = re.search(r'<h2 id="results-heading"[^>]*>([^<]+)<', html)
        searches = [f"/?q={quote(query)}" for query in queries]
        asyncio.run(load(url, searches[:20] + [static] * 20, 2, args.concurrency))  # warm-up, not counted
        runs: dict[str, list[dict]] = {"static": [], "search": []}
        cpu = {"static": 0.0, "search": 0.0}
        for round_ in range(args.rounds):
            order = ("static", "search") if round_ % 2 == 0 else ("search", "static")
            for kind in order:
                before = cpu_seconds(server.pid)
                runs[kind].append(asyncio.run(load(url, [static] if kind == "static" else searches, args.seconds,
                                                   args.concurrency)))
                cpu[kind] += cpu_seconds(server.pid) - before
        import psutil

        rss_mb = psutil.Process(server.pid).memory_info().rss / 2 ** 20
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(30)
    return {"docs": args.docs, "heading": total.group(1).strip() if total else "", "import_s": import_s,
            "index_s": index_s, "queries": len(queries), "concurrency": args.concurrency, "rounds": args.rounds,
            "seconds": args.seconds, "static_path": static.split("?")[0], "server_rss_mb": rss_mb,
            "static": summary(runs["static"], cpu["static"]), "search": summary(runs["search"], cpu["search"]),
            "load_average": os.getloadavg()[0], "cpus": os.cpu_count()}


def report(results: dict) -> None:
    static, search = results["static"], results["search"]
    made = f"imported in {results['import_s']:.0f} s" if results["import_s"] else "reused from --keep"
    print(f"Archive: {results['docs']:,} synthetic published solutions ({made}); the home page says "
          f"“{results['heading']}”")
    print(f"Server: bot.web on 127.0.0.1, its own process; first search (index build) {results['index_s']:.1f} s; "
          f"RSS {results['server_rss_mb']:.0f} MB")
    print(f"Load: {results['concurrency']} keep-alive clients, {results['rounds']} rounds × {results['seconds']:.0f} s "
          f"of each, {results['queries']} queries cycled, gzip accepted\n")
    print(f"{'':28}{'static file':>14}{'/?q=…':>14}{'search ÷ static':>17}")

    def row(label: str, key: str, fmt: str) -> None:
        ratio = search[key] / static[key] if static[key] else float("nan")
        print(f"{label:28}{fmt.format(static[key]):>14}{fmt.format(search[key]):>14}{ratio:17.3f}")

    row("requests", "requests", "{:,}")
    row("requests/s", "rps", "{:,.1f}")
    row("latency p50 (ms)", "p50", "{:.2f}")
    row("latency p95 (ms)", "p95", "{:.2f}")
    row("latency p99 (ms)", "p99", "{:.2f}")
    row("server CPU/request (ms)", "cpu_ms", "{:.2f}")
    print(f"\nThe static file is served {static['rps'] / search['rps']:.1f}× as often per second; a search's p95 is "
          f"{search['p95'] / static['p95']:.1f}× the static file's.")
    for kind, figures in (("static", static), ("search", search)):
        if figures["failures"]:
            print(f"{kind}: {len(figures['failures'])} responses were not 200, e.g. {figures['failures'][:3]}")
    print(f"(load average at the end: {results['load_average']:.1f} on {results['cpus']} CPUs)")


if __name__ == "__main__":
    main()
