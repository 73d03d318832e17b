"""Reference engines for the scale benchmark: the same documents and queries, no copbot.

* ``fts5``: a bare SQLite FTS5 table (same columns, same tokenizer, same bm25
  column weights) bulk-loaded in one transaction, queried with the very MATCH
  expressions copbot builds (keyword: every word, then any word when nothing
  matches; similar: the finder's own term selection). It is the engine under
  copbot, so copbot's figure over its figure is what copbot's own code costs.
  Its queries run in a child process (wall and CPU time, peak RSS), and the
  live burst is written into it too (:func:`raw_fts5_live`).
* ``tantivy`` and ``bm25s``: what other engines do with the same corpus.

Latencies are CPU time of the querying thread (the machine is shared), and for
raw FTS5 wall time too (``keyword_wall``); "index_rate" is the export's
messages over the wall time to index the documents, "index_cpu_rate" over the
process's CPU time.

    python -m bench.references --query-child SCRATCH PLAN    # (run by raw_fts5)
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TOKENIZER = "porter unicode61 remove_diacritics 2"
#: Search documents' columns, as in copbot's ``search_fts``.
COLUMNS = ("title", "body", "answers", "tags")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000}


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across fork + exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rows(db_path: Path) -> list[tuple[int, str, str, str, str]]:
    conn = sqlite3.connect(db_path)
    rows = [
        (int(r[0]), r[1] or "", r[2] or "", r[3] or "", r[4] or "")
        for r in conn.execute(
            "SELECT rowid, title, body, answers, tags FROM search_fts ORDER BY rowid"
        )
    ]
    conn.close()
    return rows


def copbot_expressions(db_path: Path, queries: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The MATCH expressions copbot sends for each query (not timed).

    Keyword: the every-word expression and the any-word fallback, as plain
    FTS5 would be asked. Similar: the finder's selected terms (its idf, its
    document-frequency cap and posting budget), computed on copbot's database.
    """
    from knowledge.query import fts_expression, parse_query
    from knowledge.relevance import SIMILAR_MAX_POSTINGS
    from knowledge.similar import question_terms, select_terms, weighted_terms
    from knowledge.sqlite.repertoire import Repertoire
    from knowledge.sqlite.similar_candidates import candidate_match

    now = datetime.now(UTC)
    keyword: list[list[str]] = []
    for q in queries["keyword"]:
        parsed = parse_query(q, now=now)
        modes = [fts_expression(parsed, mode=m) for m in ("and", "or")]
        keyword.append([e for e in modes if e is not None])
    repertoire = Repertoire.open(db_path)
    similar: list[list[str]] = []
    try:
        for q in queries["similar"]:
            terms = weighted_terms(select_terms(question_terms(repertoire, q)))
            match = candidate_match(terms, SIMILAR_MAX_POSTINGS)
            # [every term, the gating terms]: the finder scores the first over the second's rows
            similar.append([] if match is None else [match.expression, match.gate or ""])
    finally:
        repertoire.close()
    return {"keyword": keyword, "similar": similar}


def raw_fts5(
    db_path: Path,
    queries: dict[str, Any],
    messages: int,
    scratch: Path,
    live: Sequence[tuple[str, bool]] = (),
) -> dict[str, Any]:
    """A bare FTS5 table with copbot's documents, bulk-inserted, and copbot's queries.

    The queries run in a child process (as copbot's do), so its peak RSS is the
    engine's own beside copbot's search process. ``live``: the live burst's
    messages (text, is a new question), written after the queries
    (:func:`raw_fts5_live`).
    """
    from knowledge.relevance import SIMILAR_FIELD_WEIGHTS
    from knowledge.search import FIELD_WEIGHTS
    from knowledge.similar import POOL

    rows = _rows(db_path)
    expressions = copbot_expressions(db_path, queries)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -32768")  # copbot's page cache
    t0, c0 = time.perf_counter(), time.process_time()
    conn.execute(
        f"CREATE VIRTUAL TABLE raw USING fts5({', '.join(COLUMNS)}, tokenize = '{TOKENIZER}')"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO raw (rowid, title, body, answers, tags) VALUES (?, ?, ?, ?, ?)", rows
    )
    conn.execute("COMMIT")
    index_s, index_cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    plan = scratch.with_suffix(".queries.json")
    plan.write_text(
        json.dumps(
            {
                "keyword": expressions["keyword"],
                "similar": expressions["similar"],
                "keyword_weights": list(FIELD_WEIGHTS),
                "similar_weights": list(SIMILAR_FIELD_WEIGHTS),
                "similar_limit": POOL,
            }
        )
    )
    child = subprocess.run(
        [sys.executable, "-m", "bench.references", "--query-child", str(scratch), str(plan)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    searched: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    plan.unlink()
    out = {
        "index_rate": messages / index_s,
        "index_cpu_rate": messages / index_cpu,
        **searched,
    }
    if live:
        out["live"] = raw_fts5_live(scratch, live, rows[-1][0] if rows else 0)
    for suffix in ("", "-wal", "-shm"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    return out


def query_child(scratch: Path, plan_path: Path) -> dict[str, Any]:
    """Run in a child process: the raw FTS5 queries, wall and CPU, and the peak RSS.

    Only ``sqlite3`` is imported: the process is what a bare engine needs.
    """
    plan = json.loads(plan_path.read_text())
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("PRAGMA cache_size = -32768")  # copbot's page cache

    def timed(
        groups: Sequence[Sequence[str]], weights: Sequence[float], limit: int
    ) -> tuple[list[float], list[float]]:
        sql = (
            f"SELECT rowid, bm25(raw, {', '.join(str(w) for w in weights)}) AS s FROM raw "
            "WHERE raw MATCH ? ORDER BY s LIMIT ?"
        )
        wall: list[float] = []
        cpu: list[float] = []
        for group in groups:
            t0, c0 = time.perf_counter(), time.thread_time()
            for expression in group:  # every word first, any word when nothing matched
                if conn.execute(sql, [expression, limit]).fetchall():
                    break
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        return wall, cpu

    def timed_similar(
        queries: Sequence[Sequence[str]], weights: Sequence[float], limit: int
    ) -> tuple[list[float], list[float]]:
        """The finder's query: ``[every term]``, or ``[every term, gate]`` where the gate's
        rows are the only ones scored (the finder's ``+rowid IN`` filter)."""
        score = f"SELECT rowid, bm25(raw, {', '.join(str(w) for w in weights)}) AS s FROM raw "
        plain = score + "WHERE raw MATCH ? ORDER BY s LIMIT ?"
        gated = (
            score + "WHERE raw MATCH ? AND +rowid IN (SELECT rowid FROM raw WHERE raw MATCH ?) "
            "ORDER BY s LIMIT ?"
        )
        wall: list[float] = []
        cpu: list[float] = []
        for query in queries:
            t0, c0 = time.perf_counter(), time.thread_time()
            if len(query) > 1 and query[1]:
                conn.execute(gated, [query[0], query[1], limit]).fetchall()
            elif query:
                conn.execute(plain, [query[0], limit]).fetchall()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        return wall, cpu

    timed(plan["keyword"][:50], plan["keyword_weights"], 5)  # warm the cache as copbot's does
    keyword, keyword_cpu = timed(plan["keyword"], plan["keyword_weights"], 5)
    similar, similar_cpu = timed_similar(
        plan["similar"], plan["similar_weights"], plan["similar_limit"]
    )
    conn.close()
    return {
        "keyword_wall": percentiles(keyword),
        "keyword": percentiles(keyword_cpu),
        "similar_wall": percentiles(similar),
        "similar": percentiles(similar_cpu),
        "peak_rss_mb": peak_rss_mb(),
    }


def raw_fts5_live(scratch: Path, live: Sequence[tuple[str, bool]], last_id: int) -> dict[str, Any]:
    """The live burst written straight into the loaded raw table: the engine's floor.

    A new question inserts its document; an answer appends its text to its
    question's document (an FTS5 update: the old row out, the new one in), as
    copbot's capture does. Durability as copbot's live file (WAL,
    ``synchronous = NORMAL``). Twice: a transaction per message (beside copbot's
    one by one) and the whole burst in one (beside group commit, whose groups
    can only be smaller).
    """
    out: dict[str, Any] = {"messages": len(live)}
    for mode in ("one_by_one", "one_transaction"):
        conn = sqlite3.connect(scratch, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -32768")
        next_id = last_id + 1_000_000  # above every document, as a new entry's id is
        question = 0
        t0, c0 = time.perf_counter(), time.process_time()
        if mode == "one_transaction":
            conn.execute("BEGIN")
        for text, is_question in live:
            if mode == "one_by_one":
                conn.execute("BEGIN")
            if is_question or not question:
                next_id += 1
                question = next_id
                conn.execute(
                    "INSERT INTO raw (rowid, title, body, answers, tags) VALUES (?, ?, '', '', '')",
                    [question, text],
                )
            else:
                conn.execute(
                    "UPDATE raw SET answers = answers || ' ' || ? WHERE rowid = ?",
                    [text, question],
                )
            if mode == "one_by_one":
                conn.execute("COMMIT")
        if mode == "one_transaction":
            conn.execute("COMMIT")
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        conn.execute("DELETE FROM raw WHERE rowid > ?", [last_id + 1_000_000])
        conn.close()
        out[mode] = {"rate": len(live) / seconds, "cpu_rate": len(live) / cpu}
    return out


#: The engines :func:`references` can run; tantivy and bm25s come with the ``[bench]`` extra.
ENGINES = ("fts5", "tantivy", "bm25s")


def references(
    db_path: Path,
    queries: dict[str, Any],
    messages: int,
    scratch: Path,
    engines: Sequence[str] = ENGINES,
    live: Sequence[tuple[str, bool]] = (),
) -> dict[str, Any]:
    """The reference engines on the documents of ``db_path`` (copbot's imported file).

    An engine whose package is missing gets ``{"skipped": why}``.
    """
    out: dict[str, Any] = {}
    if "fts5" in engines:
        out["fts5"] = raw_fts5(db_path, queries, messages, scratch, live)
    others = [e for e in engines if e != "fts5"]
    docs = [" ".join(r[1:]) for r in _rows(db_path)] if others else []
    runners = {"tantivy": _tantivy, "bm25s": _bm25s}
    for engine in others:
        try:
            out[engine] = runners[engine](docs, queries, messages)
        except ImportError as error:
            out[engine] = {
                "skipped": f"{engine} is not installed ({error}): pip install -e '.[bench]'"
            }
    return out


def _kw_terms(q: str) -> list[str]:
    from knowledge.text import STOPWORDS

    words = re.findall(r"\w+", q.lower())
    return [w for w in words if w not in STOPWORDS] or words


def _tantivy(docs: list[str], queries: dict[str, Any], messages: int) -> dict[str, Any]:
    import tantivy

    schema_builder = tantivy.SchemaBuilder()
    schema_builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    schema_builder.add_integer_field("id", stored=True)
    schema = schema_builder.build()
    index = tantivy.Index(schema)
    t0, c0 = time.perf_counter(), time.process_time()
    writer = index.writer(heap_size=200_000_000, num_threads=2)
    for i, doc in enumerate(docs):
        writer.add_document(tantivy.Document(body=doc, id=i))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    index_s, index_cpu = time.perf_counter() - t0, time.process_time() - c0
    searcher = index.searcher()

    def run(expr: str) -> None:
        searcher.search(index.parse_query(expr, ["body"]), 5)

    kw: list[float] = []
    for q in queries["keyword"]:
        expr = " AND ".join(_kw_terms(q))
        t0 = time.thread_time()
        run(expr)
        kw.append(time.thread_time() - t0)
    sim: list[float] = []
    for q in queries["similar"]:
        t0 = time.thread_time()
        words = list(dict.fromkeys(_kw_terms(q)))
        run(" OR ".join(_top_by_df(words, searcher)[:6]))
        sim.append(time.thread_time() - t0)
    return {
        "index_rate": messages / index_s,
        "index_cpu_rate": messages / index_cpu,
        "keyword": percentiles(kw),
        "similar": percentiles(sim),
    }


def _top_by_df(words: list[str], searcher: Any) -> list[str]:
    """Tantivy side of the MoreLikeThis pick: the rarest terms first, by document frequency.

    ``doc_freq`` looks the term up as written (not stemmed): a word whose stem
    differs is left out, which only makes the reference's query shorter.
    """
    scored = []
    for w in words:
        count = searcher.doc_freq("body", w)
        if count:
            scored.append((count, w))
    scored.sort()
    return [w for _, w in scored]


def _bm25s(docs: list[str], queries: dict[str, Any], messages: int) -> dict[str, Any]:
    import bm25s

    t0, c0 = time.perf_counter(), time.process_time()
    tokens = bm25s.tokenize(docs, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_s, index_cpu = time.perf_counter() - t0, time.process_time() - c0
    out: dict[str, Any] = {
        "index_rate": messages / index_s,
        "index_cpu_rate": messages / index_cpu,
    }
    for kind in ("keyword", "similar"):
        samples: list[float] = []
        for q in queries[kind]:
            t0 = time.thread_time()
            qt = bm25s.tokenize([q], stopwords="en", show_progress=False)
            retriever.retrieve(qt, k=5, show_progress=False, n_threads=0)
            samples.append(time.thread_time() - t0)
        out[kind] = percentiles(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="reference engines (run by bench.scale)")
    parser.add_argument("--query-child", nargs=2, metavar=("SCRATCH", "PLAN"), required=True)
    args = parser.parse_args()
    scratch, plan = args.query_child
    print(json.dumps(query_child(Path(scratch), Path(plan))))


if __name__ == "__main__":
    main()
