"""How fast the semantic stage keeps up: documents embedded per second, through copbot's path.

    python -m bench.semantic_bench                     # int8 MiniLM (shipped) + float reference
    python -m bench.semantic_bench --int8-tokens 32,64,128 --float-tokens 128,256
    python -m bench.semantic_bench --static-model DIR  # and a model2vec static model

The Ask Ubuntu evaluation corpus (real questions, 1,304 of them, real lengths) is stored
through copbot's own code in a temporary SQLite file; then every entry is embedded by
the same functions the bot's background job runs (:func:`knowledge.semantic.pending`,
the model, :func:`knowledge.semantic.store_vectors`), in the job's batches. References,
in the same run: each model alone on the same texts (no SQLite, no copbot), so the ratio
shows what copbot's part costs, and the float MiniLM on torch (the semantic option before
the int8 one) on fewer documents (it is slow). The machine is shared: docs per CPU second
(this process's CPU time, all its threads) is the steady figure; wall is what this run got.
Projected time for a million messages: the synthetic community of ``bench/scale.py``
holds 258k questions and know-how per 1M messages (the rest are answers and chat, never
embedded), so 258,000 documents.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.retrieval import load_corpus, read_jsonl
from bot.semantic_job import EMBED_BATCH
from knowledge.semantic import embed_missing, pending
from knowledge.sqlite.repertoire import Repertoire

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench/data/askubuntu/corpus.jsonl"
BATCH = EMBED_BATCH
#: Questions and know-how (what gets a vector) in 1M messages of the scale benchmark.
DOCS_PER_1M = 258_000


def measure(embedder: Any, corpus: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """docs/s through copbot's path and of the model alone, on the same texts."""
    with tempfile.TemporaryDirectory(prefix="copbot-semantic-") as tmp:
        repertoire = Repertoire.open(Path(tmp) / "s.db")
        load_corpus(repertoire, corpus[:limit])
        texts = [item.text for item in pending(repertoire, embedder.name, 0, limit).items]
        embedder.encode(texts[:8])  # warm up (first call allocates)
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), BATCH):
            embedder.encode(texts[start : start + BATCH])
        alone = time.perf_counter() - started
        alone_cpu = time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        done = embed_missing(repertoire, embedder, batch=BATCH)
        ours = time.perf_counter() - started
        ours_cpu = time.process_time() - cpu
        repertoire.close()
    rate = done / ours if ours else 0.0
    per_cpu = done / ours_cpu if ours_cpu else 0.0
    return {
        "model": embedder.name,
        "documents": done,
        "mean_chars": round(sum(map(len, texts)) / max(1, len(texts))),
        "docs_per_s": round(rate, 1),
        "reference_docs_per_s": round(len(texts) / alone, 1) if alone else 0.0,
        "ratio_to_reference": round(alone / ours, 3) if ours else 0.0,
        # Per second of this process's CPU time (all its threads): what the run would
        # do with the machine to itself, one core per thread, less the contention.
        "docs_per_cpu_s": round(per_cpu, 1),
        "reference_docs_per_cpu_s": round(len(texts) / alone_cpu, 1) if alone_cpu else 0.0,
        # With every core of the machine to itself (no other job): CPU rate x cores.
        "docs_per_s_all_cores": round(per_cpu * (os.cpu_count() or 1), 1),
        "projected_1M_messages_hours": round(DOCS_PER_1M / rate / 3600, 2) if rate else None,
        "projected_1M_messages_cpu_hours": round(DOCS_PER_1M / per_cpu / 3600, 2)
        if per_cpu
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1304, help="how many to embed")
    parser.add_argument("--int8-tokens", default="32", help="int8 MiniLM entry cuts to try")
    parser.add_argument(
        "--float-tokens", default="128", help="float MiniLM (torch) cuts, the reference"
    )
    parser.add_argument(
        "--float-documents", type=int, default=256, help="documents for the float reference"
    )
    parser.add_argument("--static-model", help="a model2vec folder (bench/distill_static.py)")
    args = parser.parse_args(argv)
    corpus = read_jsonl(CORPUS)
    runs: list[tuple[Any, int]] = []
    try:
        from knowledge.semantic import MiniLMEmbedder
        from knowledge.semantic.onnx_encoder import OnnxMiniLMEmbedder

        for tokens in [int(t) for t in args.int8_tokens.split(",") if t]:
            runs.append((OnnxMiniLMEmbedder(max_tokens=tokens), args.documents))
        for tokens in [int(t) for t in args.float_tokens.split(",") if t]:
            runs.append((MiniLMEmbedder(max_tokens=tokens), args.float_documents))
    except Exception as exc:  # the extra is not installed
        print(f"(MiniLM skipped: {exc})", file=sys.stderr)
    if args.static_model:
        from knowledge.semantic import StaticEmbedder

        runs.append((StaticEmbedder(args.static_model), args.documents))
    results = [measure(embedder, corpus, limit) for embedder, limit in runs]
    print(json.dumps(results, indent=2))
    for r in results:
        print(
            f"{r['model']:<28} {r['docs_per_s']:>7.1f} docs/s wall, "
            f"{r['docs_per_cpu_s']:.1f} per CPU second, {r['docs_per_s_all_cores']:.0f}/s on "
            f"all cores (model alone {r['reference_docs_per_s']:.1f} wall, "
            f"{r['reference_docs_per_cpu_s']:.1f} per CPU s; ratio {r['ratio_to_reference']:.2f}); "
            f"1M messages: {r['projected_1M_messages_hours']} h wall, "
            f"{r['projected_1M_messages_cpu_hours']} CPU-hours",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
