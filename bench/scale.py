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

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.references import percentiles, references
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


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across fork + exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def live_capture(db_path: Path, n: int = 5_000) -> dict[str, Any]:
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


def live_capture_grouped(db_path: Path, n: int = 5_000) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- driver


def _search_in_child(db: str, queries_path: Path, similar: str) -> dict[str, Any]:
    command = ["-m", "bench.scale", "--search-child", db, str(queries_path), "--similar", similar]
    child = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT.parent,
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def run_size(
    label: str,
    data_dir: Path,
    durable: bool,
    skip_refs: bool,
    similar: str = "copbot",
    postgres_url: str = "",
    replay_up_to: int = 100_000,
) -> dict[str, Any]:
    from bench.synth import generate

    n = SIZES[label]
    folder = data_dir / label
    queries_path = folder / "queries.json"
    if not queries_path.exists():
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        generate(n, folder)
        print(f"[{label}] generated in {time.perf_counter() - t0:.0f} s", flush=True)
    db_path = folder / "copbot.db"
    result: dict[str, Any] = {"size": label}
    result["import"] = run_import_phase(folder / "export", db_path, durable)
    print(f"[{label}] import: {json.dumps(result['import'])}", flush=True)
    if n <= replay_up_to:
        replayed = folder / "replayed.db"
        result["import_replay"] = run_import_phase(folder / "export", replayed, durable, False)
        for suffix in ("", "-wal", "-shm"):
            Path(str(replayed) + suffix).unlink(missing_ok=True)
        print(f"[{label}] import one by one: {json.dumps(result['import_replay'])}", flush=True)
    result["search"] = _search_in_child(str(db_path), queries_path, similar)
    print(f"[{label}] search: {json.dumps(result['search'])}", flush=True)
    if postgres_url:
        from bench.postgres_scale import bench_database, run_import_postgres

        url = bench_database(postgres_url, label)
        result["postgres"] = {"import": run_import_postgres(folder / "export", url)}
        result["postgres"]["search"] = _search_in_child(url, queries_path, similar)
        print(f"[{label}] PostgreSQL: {json.dumps(result['postgres'])}", flush=True)
    if not skip_refs:
        queries = json.loads(queries_path.read_text())
        result["refs"] = references(
            db_path, queries, result["import"]["messages"], folder / "raw_fts5.db"
        )
        print(f"[{label}] references: {json.dumps(result['refs'])}", flush=True)
    for key, capture in (("live", live_capture), ("live_grouped", live_capture_grouped)):
        copy = folder / "live.db"
        shutil.copy(db_path, copy)
        result[key] = capture(copy)
        copy.unlink()
        for suffix in ("-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
        print(f"[{label}] {key} capture: {json.dumps(result[key])}", flush=True)
    return result


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:,.1f}×" if theirs else "-"


def _ms(p: dict[str, float]) -> str:
    return f"{p['median_ms']:.2f} / {p['p99_ms']:.2f}"


def print_table(results: list[dict[str, Any]]) -> None:
    """Wall-clock figures, and CPU figures (what the code costs whatever else runs)."""
    print()
    print(
        "| size | messages | import msg/s (CPU) | DB MB | search p50 / p99 ms | (CPU) "
        "| similar p50 / p99 ms | (CPU) | live msg/s (CPU) "
        "| live, group commit msg/s (CPU): all answered; captured "
        "| search RSS MB |"
    )
    print("|" + "---|" * 11)
    for r in results:
        i, s, live, grouped = r["import"], r["search"], r["live"], r.get("live_grouped", {})
        print(
            f"| {r['size']} | {i['messages']:,} | {i['rate']:,.0f} ({i.get('cpu_rate', 0):,.0f}) "
            f"| {i['db_mb']:,.0f} | {_ms(s['keyword'])} "
            f"| {_ms(s.get('keyword_cpu', s['keyword']))} "
            f"| {_ms(s['similar'])} | {_ms(s.get('similar_cpu', s['similar']))} "
            f"| {live['rate']:,.0f} ({live.get('cpu_rate', 0):,.0f}) "
            f"| {grouped.get('rate', 0):,.0f} ({grouped.get('cpu_rate', 0):,.0f}); captured "
            f"{grouped.get('capture_rate', 0):,.0f} ({grouped.get('capture_cpu_rate', 0):,.0f}) "
            f"| {s['peak_rss_mb']:.0f} |"
        )
    replays = [r for r in results if "import_replay" in r]
    if replays:
        print()
        print(
            "| size | import set-wise msg/s (CPU) | one by one msg/s (CPU) "
            "| set-wise ÷ one by one |"
        )
        print("|" + "---|" * 4)
        for r in replays:
            i, o = r["import"], r["import_replay"]
            print(
                f"| {r['size']} | {i['rate']:,.0f} ({i['cpu_rate']:,.0f}) "
                f"| {o['rate']:,.0f} ({o['cpu_rate']:,.0f}) "
                f"| {_ratio(i['rate'], o['rate'])} ({_ratio(i['cpu_rate'], o['cpu_rate'])} CPU) |"
            )
    if any("postgres" in r for r in results):
        print()
        print(
            "| size | backend | import msg/s | DB MB | search p50 / p99 ms | similar p50 / p99 ms "
            "| PostgreSQL ÷ SQLite: search p99, similar p99 |"
        )
        print("|" + "---|" * 7)
        for r in results:
            if "postgres" not in r:
                continue
            lite, pg = r["search"], r["postgres"]["search"]
            for name, i, s in (
                ("SQLite", r["import"], lite),
                ("PostgreSQL", r["postgres"]["import"], pg),
            ):
                print(
                    f"| {r['size']} | {name} | {i['rate']:,.0f} | {i['db_mb']:,.0f} "
                    f"| {_ms(s['keyword'])} | {_ms(s['similar'])} "
                    f"| {_ratio(s['keyword']['p99_ms'], lite['keyword']['p99_ms'])}, "
                    f"{_ratio(s['similar']['p99_ms'], lite['similar']['p99_ms'])} |"
                )
    if not any("refs" in r for r in results):
        return
    print()
    print(
        "| size | engine | index msg/s | search p50 / p99 ms (CPU) | similar p50 / p99 ms (CPU) "
        "| copbot ÷ engine: import, search p99, similar p99 (CPU) |"
    )
    print("|" + "---|" * 6)
    for r in results:
        s = r["search"]
        ours_kw = s.get("keyword_cpu", s["keyword"])["p99_ms"]
        ours_sim = s.get("similar_cpu", s["similar"])["p99_ms"]
        for name, ref in r.get("refs", {}).items():
            print(
                f"| {r['size']} | {name} | {ref['index_rate']:,.0f} | {_ms(ref['keyword'])} "
                f"| {_ms(ref['similar'])} | "
                f"{_ratio(ref['index_rate'], r['import'].get('cpu_rate', r['import']['rate']))} "
                f"slower, {_ratio(ours_kw, ref['keyword']['p99_ms'])}, "
                f"{_ratio(ours_sim, ref['similar']['p99_ms'])} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="copbot scale benchmark")
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--data", type=Path, default=ROOT / "synthetic")
    parser.add_argument(
        "--durable", action="store_true", help="import with synchronous=NORMAL (default OFF)"
    )
    parser.add_argument("--no-refs", action="store_true", help="skip the reference engines")
    parser.add_argument("--search-child", nargs=2, metavar=("DB", "QUERIES"))
    parser.add_argument(
        "--similar",
        choices=["copbot", "bench"],
        default="copbot",
        help="similar-question lookup: knowledge.similar (default) or the bench's own MLT",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--db",
        default="",
        help="also measure PostgreSQL: a postgresql:// URL whose role may create databases",
    )
    parser.add_argument(
        "--replay-up-to",
        default="100k",
        help="also import one by one through the core (the replay the set-wise import must "
        "equal) at sizes up to this one; 0 for never",
    )
    args = parser.parse_args()
    if args.search_child:
        db, queries = args.search_child
        print(json.dumps(search_child(db, Path(queries), args.similar)))
        return
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    replay_up_to = SIZES.get(args.replay_up_to.strip().lower(), 0)
    results = [
        run_size(
            label.strip().lower(),
            args.data,
            args.durable,
            args.no_refs,
            args.similar,
            postgres_url=args.db,
            replay_up_to=replay_up_to,
        )
        for label in args.sizes.split(",")
    ]
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
