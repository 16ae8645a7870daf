"""The quality bench's figures, as a test that fails if search falls back to plain BM25:
floors that both baselines miss on the judged queries (storage/search/data/relevance.json)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search_quality.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("search_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_metrics_on_a_known_ranking(bench):
    grades = {"a": 2, "b": 1, "c": 1}
    assert bench.ndcg(["a", "b", "c"], grades) == pytest.approx(1.0)
    assert bench.ndcg(["x", "y"], grades) == 0.0
    assert bench.recall(["c", "x", "a"], grades) == pytest.approx(2 / 3)
    assert bench.ndcg(["b", "a", "c"], grades) < 1.0


def test_our_ranking_clears_floors_that_bm25_misses(bench):
    ours = bench.evaluate(bench.MODES["ours"])
    plain = bench.evaluate(bench.MODES["bm25"])
    stemmed = bench.evaluate(bench.MODES["bm25+fold+stem"])
    assert len(ours["rows"]) >= 25
    for floor_ndcg, floor_recall in ((0.9, 0.9),):
        assert ours["ndcg"] >= floor_ndcg and ours["recall"] >= floor_recall
        assert plain["ndcg"] < floor_ndcg and plain["recall"] < floor_recall
        assert stemmed["ndcg"] < floor_ndcg and stemmed["recall"] < floor_recall
    assert ours["ndcg"] >= 1.2 * stemmed["ndcg"]
    cross = [row["ndcg"] for row in ours["rows"] if "cross-language" in row["kind"]]
    assert sum(cross) / len(cross) >= 0.9


def test_cross_language_search_finds_what_only_the_dictionary_bridges():
    spec = importlib.util.spec_from_file_location("search_cross_language", BENCH.with_name("search_cross_language.py"))
    cross = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cross)
    data = cross.load()
    assert len(data["records"]) >= 20 and len(data["queries"]) >= 20
    ours, before = cross.evaluate(cross.MODES["ours"], data), cross.evaluate(cross.MODES["no translations"], data)
    assert ours["recall"] >= 0.85 > 0.4 > before["recall"]
    for direction in ("en→pl", "pl→en"):
        assert sum(r["recall"] for r in ours["rows"] if r["direction"] == direction) >= 0.8 * sum(
            1 for r in ours["rows"] if r["direction"] == direction)
