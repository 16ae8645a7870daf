"""Search quality on the starter archive: nDCG@10 and recall@10 over the judged queries in
storage/search/data/relevance.json, for our ranking and for two baselines in the same run:

* ``bm25``            plain BM25 on lower-cased tokens (no folding, stemming, concepts, typos);
* ``bm25+fold+stem``  BM25 with diacritic folding, stopwords and lemmas (simplemma);
* ``ours``            the search the bot uses: + surface forms, bilingual concepts, typo tolerance,
                      dictionary translations (bench/search_cross_language.py measures those on
                      topics the concepts do not cover);

plus ablations of ours, to show what each part adds, and ours saved to a file and opened again (what
the bot searches after a restart: it must rank exactly as the index it was saved from). All use the
same fields and weights, so the differences come from text analysis alone.

    .venv/bin/python bench/search_quality.py [--json] [--per-query]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.search import SearchIndex, load_starter_archive  # noqa: E402
from storage.search.analyzer import Analyzer  # noqa: E402

RELEVANCE = Path(__file__).resolve().parents[1] / "storage" / "search" / "data" / "relevance.json"
K = 10

MODES: dict[str, Callable[[], SearchIndex]] = {
    "bm25": lambda: SearchIndex(Analyzer.plain(), fuzzy=False, surface_forms=False, taxonomy_labels=False,
                                translation_weight=0),
    "bm25+fold+stem": lambda: SearchIndex(Analyzer.stemming(), fuzzy=False, surface_forms=False,
                                          taxonomy_labels=False, translation_weight=0),
    "ours": lambda: SearchIndex(),
    "ours - lexicon": lambda: SearchIndex(Analyzer.stemming()),
    "ours - typos": lambda: SearchIndex(fuzzy=False),
    "ours - taxonomy labels": lambda: SearchIndex(taxonomy_labels=False),
    "ours - translations": lambda: SearchIndex(translation_weight=0),
}


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** grades.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    relevant = {doc for doc, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def evaluate(make_index: Callable[[], SearchIndex], queries: list[dict] | None = None, reopen: bool = False) -> dict:
    """Mean nDCG@10 and recall@10 of one index over the judged queries, with per-query rows. ``reopen``: the
    index saved to a file and opened again first, as the bot searches it after a restart."""
    queries = queries if queries is not None else json.loads(RELEVANCE.read_text("utf-8"))["queries"]
    index = make_index()
    index.add_many(load_starter_archive())
    if reopen:
        with tempfile.TemporaryDirectory() as folder:
            index.save(Path(folder) / "search-index.bin")
            index, _ = SearchIndex.load(Path(folder) / "search-index.bin")  # mapped: it outlives its name
    rows = []
    for item in queries:
        ranked = [hit.id for hit in index.search(item["query"], limit=K).hits]
        rows.append({"query": item["query"], "kind": item["kind"],
                     "ndcg": ndcg(ranked, item["relevant"]), "recall": recall(ranked, item["relevant"])})
    return {"ndcg": sum(r["ndcg"] for r in rows) / len(rows),
            "recall": sum(r["recall"] for r in rows) / len(rows), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--per-query", action="store_true", help="print each query's nDCG per mode")
    args = parser.parse_args()
    results = {name: evaluate(make) for name, make in MODES.items()}
    results["ours, saved and opened"] = evaluate(MODES["ours"], reopen=True)
    if args.json:
        print(json.dumps({name: {k: v for k, v in r.items() if k != "rows"} for name, r in results.items()}, indent=2))
        return
    base, stem = results["bm25"], results["bm25+fold+stem"]
    n = len(base["rows"])
    print(f"Search quality on {n} judged queries over the starter archive (k={K})\n")
    print(f"{'mode':24} {'nDCG@10':>8} {'recall@10':>10} {'nDCG ÷ bm25':>12} {'nDCG ÷ fold+stem':>17}")
    for name, r in results.items():
        print(f"{name:24} {r['ndcg']:8.3f} {r['recall']:10.3f} {r['ndcg'] / base['ndcg']:12.2f} "
              f"{r['ndcg'] / stem['ndcg']:17.2f}")
    kinds = ["cross-language", "no diacritics", "inflected", "typo"]
    print("\nnDCG@10 by kind of query   " + " ".join(f"{k:>15}" for k in kinds))
    for name in ("bm25", "bm25+fold+stem", "ours"):
        cells = []
        for kind in kinds:
            rows = [row for row in results[name]["rows"] if kind in row["kind"]]
            cells.append(f"{sum(r['ndcg'] for r in rows) / len(rows):9.3f} (n={len(rows):2})" if rows else f"{'-':>15}")
        print(f"{name:26} " + " ".join(cells))
    if args.per_query:
        print(f"\n{'query':42} {'bm25':>6} {'stem':>6} {'ours':>6}")
        for i, row in enumerate(results["ours"]["rows"]):
            print(f"{row['query'][:42]:42} {base['rows'][i]['ndcg']:6.2f} {stem['rows'][i]['ndcg']:6.2f} {row['ndcg']:6.2f}")


if __name__ == "__main__":
    main()
