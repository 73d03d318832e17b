"""The scale benchmark: run on demand, prints its figures (not a timed test).

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python -m bench.scale --sizes 10k,100k,1m

For each size it writes (once, cached in ``bench/synthetic/<size>/``) a synthetic
community as a Slack export (:mod:`bench.synth`), then measures:

* import throughput: the real Slack importer through ``run_import`` into a fresh
  file, which takes the set-wise path (the capture rules applied in memory, one
  bulk write, search documents built once); at sizes up to ``--replay-up-to``
  also one by one through the core (one transaction per 5,000 events), the
  path the set-wise one must equal;
* database size after a WAL checkpoint;
* keyword search latency through the core (``parse_query`` + ``search``: parsed
  query to ready result list with snippets), median and p99 over 1,000 queries
  of 1-3 words, in a child process whose peak RSS is the "search process" RSS;
* similar-question lookup latency: a whole question as the query, reduced to its
  most informative terms (lowest document frequency, from an ``fts5vocab``
  table) and searched through ``knowledge.search`` (:func:`similar_lookup`, the
  one place to switch to ``knowledge.similar.find_similar``);
* live capture throughput: one message per transaction through ``Core.handle``,
  and the same messages as a burst through the runtime (``bot.runtime.AsyncCore``:
  group commit, each message answered after its group's commit);
* the same corpus (the search documents) and queries through reference engines
  (:mod:`bench.references`): a bare FTS5 table (the engine under copbot, asked
  the very MATCH expressions copbot builds), ``tantivy`` and ``bm25s``; each
  copbot figure is also printed as a ratio to each of them.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.references import peak_rss_mb, percentiles
from tests.sqlite_file import sqlite_of

ROOT = Path(__file__).resolve().parent
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TOKENIZER = "porter unicode61 remove_diacritics 2"


# --------------------------------------------------------------------------- copbot side


def _prepare_similar(repertoire: Any) -> None:
    db = repertoire.db
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocab USING fts5vocab(main, search_fts, row)"
    )
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_q USING fts5(t, tokenize = '{TOKENIZER}')"
    )
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_qv USING fts5vocab(temp, bench_q, row)"
    )


def informative_terms(repertoire: Any, text: str, k: int = 5, max_df: float = 0.02) -> list[str]:
    """The ``k`` terms of ``text`` with the lowest document frequency (MoreLikeThis-style).

    SQLite tokenizes (and stems) the text itself through a one-row temp FTS5
    table, so the terms are exactly the index's; their document frequencies
    come from an ``fts5vocab`` view of the index. As Lucene's MoreLikeThis
    (``maxDocFreqPct``), terms in more than ``max_df`` of the documents are
    left out: they say little and their posting lists are what makes an OR
    query slow. If every term is that common, the two rarest are kept.
    """
    from knowledge.text import STOPWORDS

    db = repertoire.db
    db.execute("DELETE FROM temp.bench_q")
    db.execute("INSERT INTO temp.bench_q (t) VALUES (?)", [text])
    terms = [str(r[0]) for r in db.execute("SELECT term FROM temp.bench_qv").fetchall()]
    total = db.execute("SELECT count(*) FROM search_fts_docsize").fetchone()[0] or 1
    scored: list[tuple[int, str]] = []
    for term in terms:
        if term in STOPWORDS or len(term) < 2:
            continue
        row = db.execute("SELECT doc FROM temp.bench_vocab WHERE term = ?", [term]).fetchone()
        if row is not None:
            scored.append((int(row[0]), term))
    scored.sort()
    informative = [t for df, t in scored if df <= max_df * total][:k]
    return informative or [t for _, t in scored[:2]]


SIMILAR_IMPL = "copbot"


def similar_lookup(repertoire: Any, text: str, limit: int = 5) -> list[Any]:
    """Questions like ``text``: ``knowledge.similar.find_similar`` (the bot's own finder), or
    with ``--similar bench`` the benchmark's plain MoreLikeThis through ``knowledge.search``."""
    if SIMILAR_IMPL == "copbot":
        from knowledge.similar import find_similar

        return find_similar(repertoire, text, None, limit=limit, answered_only=False)
    from knowledge.query import ParsedQuery
    from knowledge.search import SearchOptions, search

    terms = informative_terms(repertoire, text)
    return search(repertoire, ParsedQuery(terms=tuple(terms)), None, SearchOptions(limit=limit))


def search_child(db_path: str, queries_path: Path, impl: str = "copbot") -> dict[str, Any]:
    """Run in a child process: keyword and similar latencies, and this process's peak RSS.

    ``db_path`` is a SQLite file, or a ``postgresql://`` URL (``--db``)."""
    from knowledge.query import parse_query
    from knowledge.search import SearchOptions, search
    from knowledge.sqlite.repertoire import Repertoire

    global SIMILAR_IMPL
    SIMILAR_IMPL = impl
    queries = json.loads(queries_path.read_text())
    if db_path.startswith("postgresql://"):
        from knowledge.postgres.repertoire import PostgresRepertoire

        repertoire: Any = PostgresRepertoire.connect(db_path)
    else:
        repertoire = Repertoire.open(db_path)
    now = datetime.now(UTC)
    for q in queries["keyword"][:50]:  # warm the page cache as a running bot would be
        search(repertoire, parse_query(q, now=now), None, SearchOptions(limit=5))
    keyword: list[float] = []
    keyword_cpu: list[float] = []
    hits = 0
    for q in queries["keyword"]:
        t0, c0 = time.perf_counter(), time.thread_time()
        result = search(repertoire, parse_query(q, now=now), None, SearchOptions(limit=5))
        keyword.append(time.perf_counter() - t0)
        keyword_cpu.append(time.thread_time() - c0)
        hits += bool(result)
    if SIMILAR_IMPL == "bench":
        _prepare_similar(repertoire)
    similar: list[float] = []
    similar_cpu: list[float] = []
    found = 0
    itself = 0
    for q in queries["similar"]:
        t0, c0 = time.perf_counter(), time.thread_time()
        result = similar_lookup(repertoire, q)
        similar.append(time.perf_counter() - t0)
        similar_cpu.append(time.thread_time() - c0)
        found += bool(result)
        itself += any(hit.entry.text == q for hit in result)  # the question finds itself
    return {
        "keyword": percentiles(keyword),
        "keyword_cpu": percentiles(keyword_cpu),
        "keyword_hit_rate": hits / len(keyword),
        "similar": percentiles(similar),
        "similar_cpu": percentiles(similar_cpu),
        "similar_hit_rate": found / max(1, len(similar)),
        "similar_finds_itself": itself / max(1, len(similar)),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_import_phase(
    export: Path, db_path: Path, durable: bool, setwise: bool = True
) -> dict[str, Any]:
    """Import the export into a fresh file: set-wise (the default path), or one by one."""
    from adapters.importers.slack_export import SlackExport
    from bot.app import build_core
    from bot.config import Settings
    from bot.import_replay import run_import

    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    core = build_core(Settings(), db_path)
    t0, c0 = time.perf_counter(), time.process_time()
    summary = run_import(core, SlackExport(export), durable=durable, setwise=setwise)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    sqlite_of(core.services.repertoire).db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    core.services.repertoire.close()
    return {
        "messages": summary.messages_read,
        "seconds": seconds,
        "rate": summary.messages_read / seconds,
        "cpu_rate": summary.messages_read / cpu,
        "entries": sum(summary.entries_after.get(k, 0) for k in ("question", "answer", "knowhow")),
        "made": summary.made,
        "db_mb": db_path.stat().st_size / 1e6,
        "peak_rss_mb": peak_rss_mb(),
    }


def live_messages(n: int) -> list[Any]:
    """Live traffic: a question, then three answers in its thread, over and over."""
    from bot.events import Actor, IncomingMessage, Visibility, Where

    # chan-0 is a public channel of the export: said as such (a Where's default is
    # private, which would turn the channel and its 40,000 entries private first).
    where = Where("slack", "TSYNTH", "C00000000", Visibility.PUBLIC, channel_name="chan-0")
    base = datetime(2030, 1, 1, tzinfo=UTC)
    root = ""
    out: list[Any] = []
    for i in range(n):
        ts = f"{1_900_000_000 + i}.000100"
        actor = Actor("slack", f"U{i % 300:07d}", f"user{i % 300}", "TSYNTH")
        if i % 4 == 0:
            root = ts
            text = f"how do I tune the live capture benchmark number {i} with sqlite?"
            msg = IncomingMessage(where, actor, ts, text, base + timedelta(seconds=i))
        else:
            text = f"try batching the writes, and check the pragma settings for run {i}"
            msg = IncomingMessage(where, actor, ts, text, base + timedelta(seconds=i), root)
        out.append(msg)
    return out


def live_capture(db_path: Path | str, n: int = 5_000) -> dict[str, Any]:
    """One message per transaction through Core.handle: questions and thread answers."""
    from bot.app import build_core
    from bot.config import Settings

    core = build_core(Settings(), db_path)
    messages = live_messages(n)
    t0, c0 = time.perf_counter(), time.process_time()
    for msg in messages:
        core.handle(msg)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    core.services.repertoire.close()
    return {"messages": n, "rate": n / seconds, "cpu_rate": n / cpu}


def live_capture_grouped(db_path: Path | str, n: int = 5_000) -> dict[str, Any]:
    """The same traffic as a burst through the runtime (``AsyncCore``): group commit.

    Every message is awaited by its own task, as adapters do; each returns once
    its group's transaction has committed, a new question once its similar-question
    lookup has run too (after the commit, when no event waits). ``rate`` counts
    until every message has been answered, lookups included; ``capture_rate``
    (and ``capture_cpu_rate``, in the process's CPU time) until every message
    other than a new question has returned (by then every message is
    committed: capture comes before lookups).
    """
    import asyncio

    from bot.app import build_core
    from bot.config import Settings
    from bot.runtime import AsyncCore

    runtime = AsyncCore(build_core(Settings(), db_path))
    messages = live_messages(n)
    captured_at: list[tuple[float, float]] = []

    async def send(msg: Any) -> None:
        await runtime.handle(msg)
        if msg.thread_id is not None:
            captured_at.append((time.perf_counter(), time.process_time()))

    async def burst() -> None:
        await asyncio.gather(*(send(msg) for msg in messages))

    t0, c0 = time.perf_counter(), time.process_time()
    asyncio.run(burst())
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    runtime.close()
    runtime.core.services.repertoire.close()
    return {
        "messages": n,
        "rate": n / seconds,
        "cpu_rate": n / cpu,
        "capture_rate": n / (max(w for w, _ in captured_at) - t0),
        "capture_cpu_rate": n / (max(c for _, c in captured_at) - c0),
    }


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """``--search-child`` (this module's measurement in a child process), else a whole run."""
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--search-child":
        db, queries, *rest = argv[1:]
        impl = rest[rest.index("--similar") + 1] if "--similar" in rest else "copbot"
        print(json.dumps(search_child(db, Path(queries), impl)))
        return
    from bench.scale_run import main as run

    run(argv)


if __name__ == "__main__":
    main()
