"""bench/retrieval.py: the metric arithmetic and the harness end to end on a tiny fixture.

The fixture (tests/fixtures/bench_*.jsonl) is synthetic on purpose: it only checks
the harness, not ranking quality (that is bench/data, a real evaluation set).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_retrieval", ROOT / "bench/retrieval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_retrieval"] = module
    spec.loader.exec_module(module)
    return module


retrieval = _load()


def test_recall_at_k() -> None:
    ranked = ["a", "b", "c", "d", "e", "f"]
    assert retrieval.recall_at(ranked, {"a"}, 1) == 1.0
    assert retrieval.recall_at(ranked, {"b"}, 1) == 0.0
    assert retrieval.recall_at(ranked, {"b", "z"}, 5) == 0.5
    assert retrieval.recall_at(ranked, {"f"}, 5) == 0.0
    assert retrieval.recall_at(ranked, set(), 5) == 0.0


def test_reciprocal_rank_at_10() -> None:
    ranked = [str(i) for i in range(1, 13)]
    assert retrieval.reciprocal_rank(ranked, {"1"}) == 1.0
    assert retrieval.reciprocal_rank(ranked, {"4", "9"}) == 0.25
    assert retrieval.reciprocal_rank(ranked, {"10"}) == 0.1
    assert retrieval.reciprocal_rank(ranked, {"11"}) == 0.0  # beyond the cut-off


def test_ndcg_at_10() -> None:
    assert retrieval.ndcg_at(["a", "b"], {"a"}) == 1.0
    assert retrieval.ndcg_at(["x", "a"], {"a"}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    # two relevant at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3))
    expected = (1 + 0.5) / (1 + 1 / 1.5849625007)
    assert retrieval.ndcg_at(["a", "x", "b"], {"a", "b"}) == pytest.approx(expected, rel=1e-6)
    assert retrieval.ndcg_at(["x"] * 10 + ["a"], {"a"}) == 0.0


def test_evaluate_with_known_ranks() -> None:
    """Two queries whose relevant document sits at rank 1 and rank 2: MRR 0.75."""
    ids = {1: "d1", 2: "d2", 3: "d3"}
    order = {"q-a": [1, 2, 3], "q-b": [3, 2, 1]}
    queries = [
        {"id": "q1", "text": "q-a", "relevant": ["d1"]},
        {"id": "q2", "text": "q-b", "relevant": ["d2"]},
    ]
    result = retrieval.evaluate({"fixed": lambda text: order[text]}, queries, ids)["fixed"]
    assert result["recall@1"] == 0.5
    assert result["recall@5"] == 1.0
    assert result["mrr@10"] == 0.75
    assert result["ndcg@10"] == pytest.approx((1 + 1 / 1.5849625007) / 2, rel=1e-4)
    assert result["ms_per_query"] >= 0


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = retrieval.main(
        [
            "--corpus",
            str(FIXTURES / "bench_corpus.jsonl"),
            "--queries",
            str(FIXTURES / "bench_queries.jsonl"),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"default", "methods", "speak"}
    assert report["default"] in report["methods"]
    # the shipped ranking and threshold: spoke / precision, alone and with half the
    # questions new (their duplicates held out)
    speak = report["speak"]["mlt"]
    assert set(speak) == {"threshold", "spoke", "precision", "spoke_mixed", "precision_mixed"}
    assert all(0 <= speak[k] <= 1 for k in speak)
    assert speak["spoke_mixed"] <= speak["spoke"]  # a new question never adds a right answer
    assert speak["precision_mixed"] <= speak["precision"]
    assert {"bm25", "search", "mlt"} <= set(report["methods"])
    for metrics in report["methods"].values():
        assert set(metrics) == {"recall@1", "recall@5", "mrr@10", "ndcg@10", "ms_per_query"}
        assert all(0 <= metrics[k] <= 1 for k in ("recall@1", "recall@5", "mrr@10", "ndcg@10"))
    # the fixture's queries are easy: copbot's ranking finds every one first
    assert report["methods"]["mlt"]["mrr@10"] == 1.0


def test_table_and_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    retrieval.main(
        [
            "--corpus",
            str(FIXTURES / "bench_corpus.jsonl"),
            "--queries",
            str(FIXTURES / "bench_queries.jsonl"),
            "--ablations",
            "--thresholds",
            "--methods",
            "bm25,mlt,mlt-no-title-boost",
        ]
    )
    out = capsys.readouterr().out
    assert "MRR@10" in out and "mlt *" in out and "threshold" in out


def test_corpus_loads_through_copbot_storage(tmp_path: Path) -> None:
    from knowledge.models import EntryKind
    from knowledge.sqlite.repertoire import Repertoire
    from knowledge.storage import EntryFilter, Viewer

    rep = Repertoire.open(tmp_path / "b.db")
    ids = retrieval.load_corpus(rep, retrieval.read_jsonl(FIXTURES / "bench_corpus.jsonl"))
    assert sorted(ids.values()) == ["c1", "c2", "c3", "c4", "c5"]
    accepted = rep.count_entries(
        Viewer.operator_including_private(),
        EntryFilter(kinds=(EntryKind.QUESTION,), has_accepted=True),
    )
    assert accepted == 4  # c3 has no answers; the first answer counts as accepted
    rep.close()
