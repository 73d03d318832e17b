"""The semantic option against its references, on both evaluation sets (MRR@10).

    python -m bench.semantic_eval             # bm25, mlt, minilm, bm25+minilm (RRF), ...

Used by ``bench/fit_confidence.py --semantic``, which adds the cross-validated figure of
the shipped semantic ranking (the semantic confidence model ranking the candidates of
both rankings). Each set's corpus is indexed and embedded once and kept under
``bench/.cache/`` (gitignored), as are the questions' vectors, so a run after the first
costs seconds, not the minutes the model takes to embed ~2,000 documents here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.retrieval import K, Ranker, evaluate, hybrid, mlt, plain_bm25
from knowledge.sqlite.repertoire import Repertoire

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench/.cache"


class CachedEmbedder:
    """An embedder that keeps the vector of every single text it encodes, on disk too.

    Corpus batches go straight to the model; one text at a time (a question) is looked
    up first. ``save`` writes what was learnt to ``bench/.cache/queries-<model>.npz``.
    """

    def __init__(self, inner: Any) -> None:
        import numpy as np

        self.inner = inner
        self.name: str = inner.name
        self.path = CACHE / f"queries-{self.name.replace('/', '_').replace(':', '_')}.npz"
        self.seen: dict[str, Any] = {}
        if self.path.exists():
            with np.load(self.path) as stored:
                self.seen = {key: stored[key] for key in stored.files}
        self.dirty = False

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        if len(texts) != 1:
            return self.inner.encode(texts)
        key = hashlib.sha256(texts[0].encode("utf-8")).hexdigest()[:24]
        if key not in self.seen:
            self.seen[key] = np.asarray(self.inner.encode(texts)[0], dtype="float32")
            self.dirty = True
        return self.seen[key][None, :]

    def encode_query(self, text: str) -> Any:
        """The question's vector, as the inner embedder reads questions (cached by text)."""
        import numpy as np

        from knowledge.semantic import query_vector

        key = "q" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
        if key not in self.seen:
            self.seen[key] = np.asarray(query_vector(self.inner, text), dtype="float32")
            self.dirty = True
        return self.seen[key]

    def save(self) -> None:
        import numpy as np

        if self.dirty:
            CACHE.mkdir(exist_ok=True)
            np.savez(self.path, **self.seen)
            self.dirty = False


def minilm_embedder(model: str, max_tokens: int | None) -> Any:
    """``minilm`` (float, torch) or ``minilm-int8`` (ONNX Runtime), optionally cut elsewhere."""
    from knowledge.semantic import MiniLMEmbedder, load_embedder

    if not max_tokens:
        return load_embedder(model)
    if model == "minilm-int8":
        from knowledge.semantic.onnx_encoder import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(max_tokens=max_tokens)
    return MiniLMEmbedder(max_tokens=max_tokens)


def dense(repertoire: Repertoire, embedder: Any) -> Ranker:
    """The embeddings alone: cosine, nearest first."""
    from knowledge.semantic import semantic_ranking

    def rank(text: str) -> list[int]:
        ranked = semantic_ranking(repertoire, embedder, text, None, answered_only=False, limit=K)
        return [entry_id for entry_id, _ in ranked]

    return rank


def rrf_mlt(repertoire: Repertoire, embedder: Any, k: int = 10, weight: float = 3.0) -> Ranker:
    """The semantic ranking shipped before the model ranked it: mlt and cosine, weighted RRF."""
    from knowledge.semantic import fuse, semantic_ranking
    from knowledge.similar import rank_similar

    def rank(text: str) -> list[int]:
        words = [r.entry.id for r in rank_similar(repertoire, text, None, answered_only=False)]
        near = semantic_ranking(repertoire, embedder, text, None, answered_only=False, limit=20)
        return fuse([words, [i for i, _ in near]], k=k, weights=(1.0, weight))[:K]

    return rank


def references(
    repertoire: Repertoire, embedder: Any, queries: list[dict[str, Any]], ids: dict[int, str]
) -> dict[str, float]:
    """MRR@10 of every reference ranking (and the shipped model, fitted on all questions)."""
    methods: dict[str, Callable[[str], list[int]]] = {
        "bm25": plain_bm25(repertoire),
        "mlt": mlt(repertoire),
        "minilm": dense(repertoire, embedder),
    }
    methods["bm25+minilm (RRF)"] = hybrid(methods["bm25"], methods["minilm"])
    methods["mlt+minilm (RRF k=10, x3)"] = rrf_mlt(repertoire, embedder)
    methods["shipped semantic (in-sample)"] = mlt(repertoire, embedder=embedder)
    results = evaluate(methods, queries, ids)
    return {name: scores["mrr@10"] for name, scores in results.items()}


def main(argv: list[str] | None = None) -> int:
    from bench.fit_confidence import SETS, open_set
    from knowledge.semantic import load_embedder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm", help="minilm, minilm-int8 or static:PATH")
    parser.add_argument("--max-tokens", type=int, help="MiniLM's input cut (default: shipped)")
    args = parser.parse_args(argv)
    if args.model.startswith("static:"):
        embedder = CachedEmbedder(load_embedder(args.model))
    else:
        embedder = CachedEmbedder(minilm_embedder(args.model, args.max_tokens))
    out: dict[str, dict[str, float]] = {}
    for name in SETS:
        repertoire, ids, queries = open_set(name, embedder)
        out[name] = references(repertoire, embedder, queries, ids)
        repertoire.close()
        embedder.save()
        print(f"({name} done)", file=sys.stderr)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
