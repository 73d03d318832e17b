"""Retrieval evaluation: how well each ranking method finds the known answer.

    python bench/retrieval.py --corpus bench/data/corpus.jsonl --queries bench/data/queries.jsonl
    python bench/retrieval.py ... --json            # one JSON object, for machines
    python bench/retrieval.py ... --semantic        # add the embedding methods (needs the extra)
    python bench/retrieval.py ... --thresholds      # when to speak at ask time: precision table

Formats (one JSON object per line):

* corpus: ``{"id", "title", "body", "answers": [...], "tags": [...], "created_at"}``; an
  answer is a string or ``{"text"|"body", "accepted", "score"}``; the first answer is taken
  as accepted when none says so.
* queries: ``{"id", "text", "relevant": [corpus ids]}``.

The corpus is indexed through copbot's own storage and search code into a temporary
SQLite database (capture's entries, the FTS5 index, the boosts), so the numbers are
what members get. Metrics per method: Recall@1, Recall@5 (share of a query's relevant
documents in the top k), MRR@10, nDCG@10 (binary gains), and milliseconds per query.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knowledge.models import EntryKind, NewEntry, SourceKey
from knowledge.query import ParsedQuery, fts_expression, parse_query
from knowledge.search import FIELD_WEIGHTS, SearchOptions, search
from knowledge.similar import DEFAULT_CONFIG, MltConfig, Ranked, rank_similar
from knowledge.sqlite.repertoire import Repertoire
from knowledge.text import fold, words

#: The method copbot ships as its default ranking for similar questions.
DEFAULT_METHOD = "mlt"
K = 10

Ranker = Callable[[str], list[int]]  # query text -> entry ids, best first
#: Embedders loaded by :func:`methods_for`, for the threshold tables.
EMBEDDERS_USED: list[tuple[str, Any]] = []

#: Variants of the default, one change each, to see what helps (``--ablations``).
ABLATIONS: dict[str, MltConfig] = {
    "mlt-search-field-weights": replace(DEFAULT_CONFIG, weights=FIELD_WEIGHTS),
    "mlt-equal-field-weights": replace(DEFAULT_CONFIG, weights=(1.0, 1.0, 1.0, 1.0)),
    "mlt-no-boosts": replace(DEFAULT_CONFIG, boosts=False),
    "mlt-8-terms": replace(DEFAULT_CONFIG, max_terms=8),
    "mlt-24-terms": replace(DEFAULT_CONFIG, max_terms=24),
    "mlt-stopwords-dropped": replace(DEFAULT_CONFIG, drop_stopwords=True),
    "mlt-all-df": replace(DEFAULT_CONFIG, max_df_share=1.0, max_df_share_title=1.0),
    "mlt-no-quoted-boost": replace(DEFAULT_CONFIG, quoted_boost=1.0),
    "mlt-no-title-boost": replace(DEFAULT_CONFIG, title_boost=1.0),
    "mlt-no-quoted-no-title": replace(DEFAULT_CONFIG, quoted_boost=1.0, title_boost=1.0),
    "mlt-postings-5000": replace(DEFAULT_CONFIG, max_postings=5_000),
    "mlt-postings-2500": replace(DEFAULT_CONFIG, max_postings=2_500),
}


# ---------------------------------------------------------------------------- metrics


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int = K) -> float:
    for rank, doc in enumerate(ranked[:k], 1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = K) -> float:
    dcg = sum(1.0 / math.log2(rank + 1) for rank, d in enumerate(ranked[:k], 1) if d in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


@dataclass
class Scores:
    """Per-query metric values of one method; :meth:`summary` averages them."""

    r1: list[float] = field(default_factory=list)
    r5: list[float] = field(default_factory=list)
    mrr: list[float] = field(default_factory=list)
    ndcg: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, ranked: Sequence[str], relevant: set[str], ms: float) -> None:
        self.r1.append(recall_at(ranked, relevant, 1))
        self.r5.append(recall_at(ranked, relevant, 5))
        self.mrr.append(reciprocal_rank(ranked, relevant))
        self.ndcg.append(ndcg_at(ranked, relevant))
        self.ms.append(ms)

    def summary(self) -> dict[str, float]:
        def mean(values: list[float]) -> float:
            return round(statistics.fmean(values), 4) if values else 0.0

        return {
            "recall@1": mean(self.r1),
            "recall@5": mean(self.r5),
            "mrr@10": mean(self.mrr),
            "ndcg@10": mean(self.ndcg),
            "ms_per_query": round(statistics.fmean(self.ms), 2) if self.ms else 0.0,
        }


# ---------------------------------------------------------------------------- loading


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not JSON: {exc}") from None
    return rows


def _when(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime(2020, 1, 1, tzinfo=UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime(2020, 1, 1, tzinfo=UTC)


def _answers(raw: Any) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for answer in raw or ():
        if isinstance(answer, str):
            out.append((answer, False))
        elif isinstance(answer, dict):
            text = str(answer.get("text") or answer.get("body") or "")
            out.append((text, bool(answer.get("accepted"))))
    out = [(t, a) for t, a in out if t.strip()]
    if out and not any(a for _, a in out):
        out[0] = (out[0][0], True)
    return out


def load_corpus(repertoire: Repertoire, corpus: Iterable[dict[str, Any]]) -> dict[int, str]:
    """Store every corpus document as capture would; returns entry id -> corpus id."""
    db = repertoire.db
    member = repertoire.upsert_member("bench", "bench", "asker", "Asker")
    helper = repertoire.upsert_member("bench", "bench", "helper", "Helper")
    ids: dict[int, str] = {}
    with repertoire.transaction():
        for number, doc in enumerate(corpus):
            doc_id = str(doc["id"])
            title = str(doc.get("title") or "")
            body = str(doc.get("body") or "")
            when = _when(doc.get("created_at"))
            message_id = f"d{number}"
            kind = EntryKind.KNOWHOW if doc.get("kind") == "knowhow" else EntryKind.QUESTION
            entry_id, _ = repertoire.save_entry(
                NewEntry(
                    kind=kind,
                    source=SourceKey("bench", "bench", "corpus", message_id),
                    text=f"{title}\n{body}".strip() if title else body,
                    author_id=member,
                    created_at=when,
                    visibility="public",
                    title=title,
                    tags=tuple(str(t) for t in doc.get("tags") or ()),
                    channel_name="corpus",
                )
            )
            ids[entry_id] = doc_id
            answers = _answers(doc.get("answers")) if kind == EntryKind.QUESTION else []
            for index, (text, accepted) in enumerate(answers):
                db.execute(
                    "INSERT INTO entries (kind, platform, workspace, channel, message_id, "
                    "thread_id, text, author_id, created_at, updated_at, visibility, "
                    "channel_name, accepted) VALUES ('answer', 'bench', 'bench', 'corpus', "
                    "?, ?, ?, ?, ?, ?, 'public', 'corpus', ?)",
                    [
                        f"{message_id}-a{index}",
                        message_id,
                        text,
                        helper,
                        when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        int(accepted),
                    ],
                )
            if answers:
                repertoire.reindex(entry_id)
    db.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    return ids


# ---------------------------------------------------------------------------- methods


def plain_bm25(repertoire: Repertoire) -> Ranker:
    """The baseline: every word of the question OR-ed, bm25 with equal column weights."""

    def rank(text: str) -> list[int]:
        terms = tuple(dict.fromkeys(fold(w) for w in words(text)))
        expression = fts_expression(ParsedQuery(terms=terms), mode="or")
        if expression is None:
            return []
        rows = repertoire.db.execute(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH ? "
            "ORDER BY bm25(search_fts) LIMIT ?",
            [expression, K],
        ).fetchall()
        return [int(r[0]) for r in rows]

    return rank


def cop_search(repertoire: Repertoire) -> Ranker:
    """``/cop search`` as shipped before issue 6: the grammar, AND then OR, weights, boosts."""

    def rank(text: str) -> list[int]:
        hits = search(repertoire, parse_query(text), None, SearchOptions(limit=K))
        return [h.entry.id for h in hits]

    return rank


def mlt(repertoire: Repertoire, **kwargs: Any) -> Ranker:
    """copbot's similar-question ranking (``knowledge.similar.rank_similar``)."""

    def rank(text: str) -> list[int]:
        ranked = rank_similar(repertoire, text, None, answered_only=False, **kwargs)
        return [r.entry.id for r in ranked[:K]]

    return rank


def hybrid(words: Ranker, dense: Ranker, k: int = 60) -> Ranker:
    """The usual hybrid baseline: plain bm25 and the embeddings, fused by equal-weight RRF."""
    from knowledge.semantic import fuse

    def rank(text: str) -> list[int]:
        return fuse([words(text), dense(text)], k=k)[:K]

    return rank


def methods_for(
    repertoire: Repertoire, *, semantic: bool, static_model: str | None, ablations: bool
) -> dict[str, Ranker]:
    methods: dict[str, Ranker] = {
        "bm25": plain_bm25(repertoire),
        "search": cop_search(repertoire),
        "mlt": mlt(repertoire),
    }
    if ablations:
        for name, config in ABLATIONS.items():
            methods[name] = mlt(repertoire, config=config)
    embedders: list[tuple[str, Any]] = []
    if semantic:
        from knowledge.semantic import MiniLMEmbedder

        embedders.append(("minilm", MiniLMEmbedder()))
    if static_model:
        from knowledge.semantic import StaticEmbedder

        embedders.append(("static", StaticEmbedder(static_model)))
    for label, embedder in embedders:
        from knowledge.semantic import embed_missing, semantic_ranking

        started = time.perf_counter()
        count = embed_missing(repertoire, embedder)
        print(
            f"(embedded {count} documents with {embedder.name} in "
            f"{time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )

        def dense(text: str, embedder: Any = embedder) -> list[int]:
            ranked = semantic_ranking(
                repertoire, embedder, text, None, answered_only=False, limit=K
            )
            return [entry_id for entry_id, _ in ranked]

        methods[f"{label}"] = dense
        methods[f"bm25+{label}"] = hybrid(methods["bm25"], dense)
        methods[f"mlt+{label}"] = mlt(repertoire, embedder=embedder)
        EMBEDDERS_USED.append((f"mlt+{label}", embedder))
    return methods


# ---------------------------------------------------------------------------- running


def evaluate(
    methods: dict[str, Ranker],
    queries: list[dict[str, Any]],
    ids: dict[int, str],
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name, ranker in methods.items():
        scores = Scores()
        for query in queries:
            relevant = {str(r) for r in query.get("relevant", ())}
            started = time.perf_counter()
            entry_ids = ranker(str(query["text"]))
            ms = (time.perf_counter() - started) * 1000
            ranked = [ids[i] for i in entry_ids if i in ids]
            scores.add(ranked, relevant, ms)
        results[name] = scores.summary()
    return results


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    spoke_with_duplicate: float  # share of questions with a known answer that got a reply
    precision_top1: float  # replies whose first item is relevant
    precision_any: float  # replies where some shown item is relevant
    spoke_when_new: float  # share of new questions (answer held out) that got a reply
    precision_mixed: float  # top-1 precision when half the questions are new


def threshold_table(
    repertoire: Repertoire,
    queries: list[dict[str, Any]],
    ids: dict[int, str],
    thresholds: Sequence[float],
    show: int = 3,
    embedder: Any = None,
) -> list[ThresholdRow]:
    """When should the bot speak? Run each query twice: as is, and with its answers held out.

    A reply lists the candidates at or above the threshold (at most ``show``). With
    the relevant documents held out the question is new to the repertoire, so any
    reply is a false alarm: ``precision_mixed`` assumes half the questions asked are
    new, which is what a live channel looks like more than an evaluation set does.
    """
    by_doc = {doc: entry for entry, doc in ids.items()}
    runs: list[tuple[set[str], list[Ranked], list[Ranked]]] = []
    for query in queries:
        relevant = {str(r) for r in query.get("relevant", ())}
        held_out = [by_doc[d] for d in relevant if d in by_doc]
        text = str(query["text"])
        with_dup = rank_similar(repertoire, text, None, answered_only=False, embedder=embedder)
        without = rank_similar(
            repertoire, text, None, answered_only=False, exclude_ids=held_out, embedder=embedder
        )
        runs.append((relevant, with_dup, without))
    rows: list[ThresholdRow] = []
    n = len(runs) or 1
    for t in thresholds:
        spoke = top1 = anyrel = new_spoke = 0
        for relevant, with_dup, without in runs:
            shown = [r for r in with_dup if r.confidence >= t][:show]
            if shown:
                spoke += 1
                top1 += ids.get(shown[0].entry.id) in relevant
                anyrel += any(ids.get(r.entry.id) in relevant for r in shown)
            if without and without[0].confidence >= t:
                new_spoke += 1
        false_alarms = (spoke - top1) + new_spoke
        rows.append(
            ThresholdRow(
                threshold=t,
                spoke_with_duplicate=spoke / n,
                precision_top1=top1 / spoke if spoke else 1.0,
                precision_any=anyrel / spoke if spoke else 1.0,
                spoke_when_new=new_spoke / n,
                precision_mixed=top1 / (top1 + false_alarms) if top1 + false_alarms else 1.0,
            )
        )
    return rows


def speak_summary(
    repertoire: Repertoire, queries: list[dict[str, Any]], ids: dict[int, str], embedder: Any
) -> dict[str, float]:
    """At the shipped threshold: how often the bot speaks and how often it is right.

    ``spoke``/``precision``: on the questions that have an earlier duplicate.
    ``spoke_mixed``/``precision_mixed``: when half the questions asked are new (each
    question is asked again with its relevant documents held out).
    """
    from knowledge.similar import SEMANTIC_SUGGEST_THRESHOLD, SUGGEST_THRESHOLD

    threshold = SUGGEST_THRESHOLD if embedder is None else SEMANTIC_SUGGEST_THRESHOLD
    [row] = threshold_table(repertoire, queries, ids, [threshold], embedder=embedder)
    return {
        "threshold": threshold,
        "spoke": round(row.spoke_with_duplicate, 4),
        "precision": round(row.precision_top1, 4),
        "spoke_mixed": round((row.spoke_with_duplicate + row.spoke_when_new) / 2, 4),
        "precision_mixed": round(row.precision_mixed, 4),
    }


def format_table(results: dict[str, dict[str, float]], default: str) -> str:
    header = f"{'method':<24} {'R@1':>7} {'R@5':>7} {'MRR@10':>7} {'nDCG@10':>8} {'ms/q':>8}"
    lines = [header, "-" * len(header)]
    base = results.get("bm25", {}).get("mrr@10", 0.0)
    for name, m in results.items():
        mark = " *" if name == default else ""
        gain = f"  ({(m['mrr@10'] / base - 1) * 100:+.1f}% MRR vs bm25)" if base else ""
        lines.append(
            f"{name + mark:<24} {m['recall@1']:>7.4f} {m['recall@5']:>7.4f} "
            f"{m['mrr@10']:>7.4f} {m['ndcg@10']:>8.4f} {m['ms_per_query']:>8.2f}{gain}"
        )
    lines.append("* = copbot's default")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--semantic", action="store_true", help="add all-MiniLM-L6-v2 methods")
    parser.add_argument("--static-model", help="a model2vec folder to evaluate (see distill.py)")
    parser.add_argument("--ablations", action="store_true", help="add the ablation variants")
    parser.add_argument("--thresholds", action="store_true", help="print the speak-up table")
    parser.add_argument("--methods", help="comma-separated subset of methods to run")
    parser.add_argument("--db", help="keep the index in this file (default: a temporary one)")
    args = parser.parse_args(argv)

    corpus = read_jsonl(args.corpus)
    queries = read_jsonl(args.queries)
    with tempfile.TemporaryDirectory(prefix="copbot-bench-") as tmp:
        repertoire = Repertoire.open(args.db or Path(tmp) / "bench.db")
        started = time.perf_counter()
        ids = load_corpus(repertoire, corpus)
        if not args.json:
            print(
                f"indexed {len(ids)} documents in {time.perf_counter() - started:.1f} s; "
                f"{len(queries)} queries",
                file=sys.stderr,
            )
        methods = methods_for(
            repertoire,
            semantic=args.semantic,
            static_model=args.static_model,
            ablations=args.ablations,
        )
        if args.methods:
            wanted = [m.strip() for m in args.methods.split(",")]
            unknown = [m for m in wanted if m not in methods]
            if unknown:
                parser.error(f"unknown method(s) {unknown}; known: {sorted(methods)}")
            methods = {m: methods[m] for m in wanted}
        for ranker in methods.values():  # warm caches (scratch tables, embeddings)
            if queries:
                ranker(str(queries[0]["text"]))
        results = evaluate(methods, queries, ids)
        speak = {
            label: speak_summary(repertoire, queries, ids, embedder)
            for label, embedder in [(DEFAULT_METHOD, None), *EMBEDDERS_USED]
        }
        if args.json:
            print(
                json.dumps(
                    {"default": DEFAULT_METHOD, "methods": results, "speak": speak}, indent=2
                )
            )
        else:
            print(format_table(results, DEFAULT_METHOD))
            for label, row in speak.items():
                print(
                    f"speak ({label}, from {row['threshold']:.2f}): spoke {row['spoke']:.3f}, "
                    f"precision {row['precision']:.3f}; half new: spoke {row['spoke_mixed']:.3f}, "
                    f"precision {row['precision_mixed']:.3f}"
                )
        if args.thresholds:
            steps = [round(0.05 * i, 2) for i in range(1, 20)]
            out = sys.stderr if args.json else sys.stdout
            for label, embedder in [(DEFAULT_METHOD, None), *EMBEDDERS_USED]:
                rows = threshold_table(repertoire, queries, ids, steps, embedder=embedder)
                print(f"\nwhen to speak, ranking {label}:", file=out)
                print(
                    "threshold  spoke(dup)  prec@top1  prec(any shown)  spoke(new)  "
                    "prec(mixed 1:1)",
                    file=out,
                )
                for step in rows:
                    print(
                        f"{step.threshold:>9.2f}  {step.spoke_with_duplicate:>10.3f}  "
                        f"{step.precision_top1:>9.3f}  {step.precision_any:>15.3f}  "
                        f"{step.spoke_when_new:>10.3f}  {step.precision_mixed:>15.3f}",
                        file=out,
                    )
        repertoire.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
