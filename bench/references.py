"""Reference engines for the scale benchmark: the same documents and queries, no copbot.

* ``fts5``: a bare SQLite FTS5 table (same columns, same tokenizer, same bm25
  column weights) bulk-loaded in one transaction, queried with the very MATCH
  expressions copbot builds (keyword: every word, then any word when nothing
  matches; similar: the finder's own term selection). It is the engine under
  copbot, so copbot's figure over its figure is what copbot's own code costs.
* ``tantivy`` and ``bm25s``: what other engines do with the same corpus.

Latencies are CPU time of the querying thread (the machine is shared);
"index_rate" is the export's messages over the time to index the documents.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
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
    db_path: Path, queries: dict[str, Any], messages: int, scratch: Path
) -> dict[str, Any]:
    """A bare FTS5 table with copbot's documents, bulk-inserted, and copbot's queries."""
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
    t0 = time.perf_counter()
    conn.execute(
        f"CREATE VIRTUAL TABLE raw USING fts5({', '.join(COLUMNS)}, tokenize = '{TOKENIZER}')"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO raw (rowid, title, body, answers, tags) VALUES (?, ?, ?, ?, ?)", rows
    )
    conn.execute("COMMIT")
    index_s = time.perf_counter() - t0

    def timed(groups: Sequence[Sequence[str]], weights: Sequence[float], limit: int) -> list[float]:
        sql = (
            f"SELECT rowid, bm25(raw, {', '.join(str(w) for w in weights)}) AS s FROM raw "
            "WHERE raw MATCH ? ORDER BY s LIMIT ?"
        )
        samples: list[float] = []
        for group in groups:
            c0 = time.thread_time()
            for expression in group:  # every word first, any word when nothing matched
                if conn.execute(sql, [expression, limit]).fetchall():
                    break
            samples.append(time.thread_time() - c0)
        return samples

    timed(expressions["keyword"][:50], FIELD_WEIGHTS, 5)  # warm the cache as copbot's child does
    keyword = timed(expressions["keyword"], FIELD_WEIGHTS, 5)
    weights = ", ".join(str(w) for w in SIMILAR_FIELD_WEIGHTS)
    gated_sql = (
        f"SELECT rowid, bm25(raw, {weights}) AS s FROM raw WHERE raw MATCH ? "
        "AND +rowid IN (SELECT rowid FROM raw WHERE raw MATCH ?) ORDER BY s LIMIT ?"
    )
    similar: list[float] = []
    for pair in expressions["similar"]:  # the finder's query: every term, gated rows
        c0 = time.thread_time()
        if pair and pair[1]:
            conn.execute(gated_sql, [pair[0], pair[1], POOL]).fetchall()
        elif pair:
            conn.execute(
                f"SELECT rowid, bm25(raw, {weights}) AS s FROM raw WHERE raw MATCH ? "
                "ORDER BY s LIMIT ?",
                [pair[0], POOL],
            ).fetchall()
        similar.append(time.thread_time() - c0)
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    return {
        "index_rate": messages / index_s,
        "keyword": percentiles(keyword),
        "similar": percentiles(similar),
    }


def references(
    db_path: Path, queries: dict[str, Any], messages: int, scratch: Path
) -> dict[str, Any]:
    """Every reference engine on the documents of ``db_path`` (copbot's imported file)."""
    out: dict[str, Any] = {"fts5": raw_fts5(db_path, queries, messages, scratch)}
    docs = [" ".join(r[1:]) for r in _rows(db_path)]
    out["tantivy"] = _tantivy(docs, queries, messages)
    out["bm25s"] = _bm25s(docs, queries, messages)
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
    t0 = time.perf_counter()
    writer = index.writer(heap_size=200_000_000, num_threads=2)
    for i, doc in enumerate(docs):
        writer.add_document(tantivy.Document(body=doc, id=i))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    index_s = time.perf_counter() - t0
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

    t0 = time.perf_counter()
    tokens = bm25s.tokenize(docs, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - t0
    out: dict[str, Any] = {"index_rate": messages / index_s}
    for kind in ("keyword", "similar"):
        samples: list[float] = []
        for q in queries[kind]:
            t0 = time.thread_time()
            qt = bm25s.tokenize([q], stopwords="en", show_progress=False)
            retriever.retrieve(qt, k=5, show_progress=False, n_threads=0)
            samples.append(time.thread_time() - t0)
        out[kind] = percentiles(samples)
    return out
