"""Cross-language search beyond the concept lexicon: recall@5 (and nDCG@10) of queries in one
language for records written only in the other (bench/data/cross_language.json: 26 records
on topics the lexicon does not cover — repair cafés, seed libraries, sign-language relay … —
and 30 judged queries), over those records plus the starter archive as distractors.

Modes, in the same run:

* ``no translations``  the search as it was before the Polish-English dictionary: lemmas,
                       concepts, taxonomy labels, typos (the baseline);
* ``ours``             the search the bot uses: the same plus dictionary translations;

and, for the direction of each query, the figures split Polish → English and English → Polish.

    .venv/bin/python bench/search_cross_language.py [--json] [--per-query]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_quality import ndcg, recall  # noqa: E402
from storage.search import SearchIndex, load_starter_archive  # noqa: E402

SET = Path(__file__).resolve().parent / "data" / "cross_language.json"
K = 5

MODES: dict[str, Callable[[], SearchIndex]] = {
    "no translations": lambda: SearchIndex(translation_weight=0),
    "ours": lambda: SearchIndex(),
}


def load() -> dict:
    return json.loads(SET.read_text("utf-8"))


def evaluate(make_index: Callable[[], SearchIndex], data: dict | None = None) -> dict:
    """Mean recall@5 and nDCG@10 of one index over the set's queries, with per-query rows."""
    data = data or load()
    index = make_index()
    index.add_many(load_starter_archive() + data["records"])
    langs = {record["id"]: record["description_lang"] for record in data["records"]}
    rows = []
    for item in data["queries"]:
        started = time.perf_counter()
        ranked = [hit.id for hit in index.search(item["query"], limit=10).hits]
        elapsed = time.perf_counter() - started
        target = next(doc for doc, grade in item["relevant"].items() if grade == max(item["relevant"].values()))
        rows.append({"query": item["query"], "direction": "en→pl" if langs[target] == "pl" else "pl→en",
                     "recall": recall(ranked, item["relevant"], K), "ndcg": ndcg(ranked, item["relevant"], 10),
                     "top": ranked[:K], "ms": elapsed * 1000})
    return {"recall": sum(r["recall"] for r in rows) / len(rows), "ndcg": sum(r["ndcg"] for r in rows) / len(rows),
            "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--per-query", action="store_true", help="print each query's recall@5 per mode")
    args = parser.parse_args()
    data = load()
    results = {name: evaluate(make, data) for name, make in MODES.items()}
    if args.json:
        print(json.dumps({name: {k: v for k, v in r.items() if k != "rows"} for name, r in results.items()}, indent=2))
        return
    base = results["no translations"]
    print(f"Cross-language search: {len(data['queries'])} judged queries, {len(data['records'])} records in the "
          f"other language + the starter archive as distractors\n")
    print(f"{'mode':18} {'recall@5':>9} {'÷ baseline':>11} {'nDCG@10':>8} {'en→pl r@5':>10} {'pl→en r@5':>10}")
    for name, r in results.items():
        by = {d: [row["recall"] for row in r["rows"] if row["direction"] == d] for d in ("en→pl", "pl→en")}
        ratio = r["recall"] / base["recall"] if base["recall"] else float("inf")
        print(f"{name:18} {r['recall']:9.3f} {ratio:10.2f}× {r['ndcg']:8.3f} "
              + " ".join(f"{sum(v) / len(v):10.3f}" for v in by.values()))
    if args.per_query:
        ours = results["ours"]
        print(f"\n{'query':28} {'dir':6} {'before':>6} {'after':>6}  top 5 after")
        for before, after in zip(base["rows"], ours["rows"]):
            print(f"{after['query'][:28]:28} {after['direction']:6} {before['recall']:6.2f} {after['recall']:6.2f}  "
                  + " ".join(after["top"]))


if __name__ == "__main__":
    main()
