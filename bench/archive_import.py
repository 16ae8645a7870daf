"""Benchmark: the archive in the database — import throughput, database size, and the search
latency of an index built from it, for 100 000 synthetic bilingual solutions.

Baseline in the same run: the same measures for 10 000 solutions (ratios printed). The
records come from the synthetic corpus of bench/search_scale.py (seeded); the import goes
through the same code as `leaders-hub archive import` (validation included) into a real
SQLite file. Prints figures; asserts nothing.

    .venv/bin/python bench/archive_import.py [--docs 100000] [--baseline 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_scale import Corpus  # noqa: E402

from storage import db  # noqa: E402
from storage.archive import ArchiveRepository, import_records, record_of  # noqa: E402
from storage.search import SearchIndex, parse_query  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def scenario(n: int, corpus: Corpus, queries: list[str], workdir: Path) -> dict:
    records = [corpus.record(i) for i in range(n)]
    data = json.dumps(records, ensure_ascii=False)
    path = workdir / f"hub-{n}.db"
    engine = db.make_engine(f"sqlite+aiosqlite:///{path}")
    await db.upgrade(engine)
    sessions = db.make_sessionmaker(engine)
    started = time.perf_counter()
    async with sessions() as session:
        count, problems = await import_records(session, "synthetic.json", data, publish=True)
        await session.commit()
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    async with sessions() as session:
        rows = [record_of(row) for row in await ArchiveRepository(session).approved()]
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    index = SearchIndex()
    index.add_many(rows)
    build_s = time.perf_counter() - started
    latencies = []
    for query in queries:
        parsed = parse_query(query)
        t0 = time.perf_counter()
        index.search(parsed.words, parsed.filters, 0, 5)
        latencies.append((time.perf_counter() - t0) * 1000)
    await engine.dispose()
    size = sum(p.stat().st_size for p in workdir.glob(f"hub-{n}.db*"))
    return {"docs": count, "problems": len(problems), "import_s": import_s, "import_rate": count / import_s,
            "load_s": load_s, "build_s": build_s, "p50": statistics.median(latencies), "p95": pct(latencies, 95),
            "p99": pct(latencies, 99), "db_mb": size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()
    corpus = Corpus(args.seed)
    queries = corpus.queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="lh-archive-bench-") as tmp:
        base = asyncio.run(scenario(args.baseline, corpus, queries, Path(tmp)))
        main_ = asyncio.run(scenario(args.docs, corpus, queries, Path(tmp)))
    print(f"Archive in SQLite: {args.docs:,} vs {args.baseline:,} synthetic bilingual solutions, "
          f"{len(queries)} queries")
    rows = [("imported", "docs", "{:,.0f}"), ("import time (s)", "import_s", "{:.1f}"),
            ("import throughput (records/s)", "import_rate", "{:,.0f}"), ("database size (MB)", "db_mb", "{:.1f}"),
            ("load approved rows (s)", "load_s", "{:.2f}"), ("index build (s)", "build_s", "{:.1f}"),
            ("search p50 (ms)", "p50", "{:.2f}"), ("search p95 (ms)", "p95", "{:.2f}"),
            ("search p99 (ms)", "p99", "{:.2f}")]
    print(f"{'':32}{'main':>14}{'baseline':>14}{'ratio':>8}")
    for label, key, fmt in rows:
        ratio = main_[key] / base[key] if base[key] else float("nan")
        print(f"{label:32}{fmt.format(main_[key]):>14}{fmt.format(base[key]):>14}{ratio:8.2f}")
    print(f"goal: search p95 <= 20 ms at {args.docs:,} -> {main_['p95']:.2f} ms")


if __name__ == "__main__":
    main()
