"""One run of the scale benchmark: every size, both backends, the references, the semantic stage.

    python -m bench.scale --sizes 100k,1m --db local      # what `make bench` runs

For each size: the synthetic export (written once, cached in
``bench/synthetic/<size>/``), imported into SQLite set-wise (and one by one up
to ``--replay-up-to``), searched in a child process, the reference engines on
the same documents and queries (:mod:`bench.references`), the live bursts
(:mod:`bench.scale`); then the same on PostgreSQL (:mod:`bench.postgres_scale`)
when ``--db`` is given: ``local`` starts a throwaway cluster for the run and
stops it after. Once per run: the semantic stage's documents/s
(:mod:`bench.semantic_bench`, in a child process; a clear line instead when its
optional model is not installed). Then the tables (:mod:`bench.report`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.references import ENGINES, references
from bench.report import print_report
from bench.scale import live_capture, live_capture_grouped, live_messages, run_import_phase

__all__ = ["main", "parse_size", "run_size"]

ROOT = Path(__file__).resolve().parent
_SIZE = re.compile(r"(\d+)([km]?)")


def parse_size(label: str) -> int:
    """``"1k"`` → 1,000, ``"100k"`` → 100,000, ``"1m"`` → 1,000,000, ``"500"`` → 500."""
    match = _SIZE.fullmatch(label.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {label!r} (say 10k, 100k or 1m)")
    return int(match[1]) * {"": 1, "k": 1_000, "m": 1_000_000}[match[2]]


def _search_in_child(db: str, queries_path: Path, similar: str) -> dict[str, Any]:
    command = ["-m", "bench.scale", "--search-child", db, str(queries_path), "--similar", similar]
    child = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, check=True, cwd=ROOT.parent
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _unlink_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def run_size(
    label: str,
    data_dir: Path,
    *,
    durable: bool = False,
    engines: Sequence[str] = ENGINES,
    similar: str = "copbot",
    postgres_url: str = "",
    replay_up_to: int = 100_000,
    live_n: int = 5_000,
    max_queries: int = 0,
) -> dict[str, Any]:
    """Every figure at one size; each phase prints its line as soon as it is measured.

    ``max_queries``: when set, only the first that many keyword and similar queries
    (a quick check; the figures are over 1,000 and 200 otherwise).
    """
    from bench.synth import generate

    n = parse_size(label)
    folder = data_dir / label
    queries_path = folder / "queries.json"
    if not queries_path.exists():
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        generate(n, folder)
        print(f"[{label}] generated in {time.perf_counter() - t0:.0f} s", flush=True)

    if max_queries:
        queries = json.loads(queries_path.read_text())
        queries_path = folder / f"queries-{max_queries}.json"
        trimmed = {kind: queries[kind][:max_queries] for kind in ("keyword", "similar")}
        queries_path.write_text(json.dumps({**queries, **trimmed}))

    def say(what: str, figures: Any) -> None:
        print(f"[{label}] {what}: {json.dumps(figures)}", flush=True)

    db_path = folder / "copbot.db"
    result: dict[str, Any] = {"size": label}
    result["import"] = run_import_phase(folder / "export", db_path, durable)
    say("import", result["import"])
    if n <= replay_up_to:
        replayed = folder / "replayed.db"
        result["import_replay"] = run_import_phase(folder / "export", replayed, durable, False)
        _unlink_db(replayed)
        say("import one by one", result["import_replay"])
    result["search"] = _search_in_child(str(db_path), queries_path, similar)
    say("search", result["search"])
    if engines:
        queries = json.loads(queries_path.read_text())
        live = [(m.text, m.thread_id is None) for m in live_messages(live_n)]
        scratch = folder / "raw_fts5.db"
        result["refs"] = references(db_path, queries, n, scratch, engines, live)
        say("references", result["refs"])
    for key, capture in (("live", live_capture), ("live_grouped", live_capture_grouped)):
        copy = folder / "live.db"
        shutil.copy(db_path, copy)
        result[key] = capture(copy, live_n)
        _unlink_db(copy)
        say(f"{key} capture", result[key])
    if postgres_url:
        result["postgres"] = run_postgres_size(
            label, folder, queries_path, postgres_url, similar=similar, live_n=live_n
        )
        say("PostgreSQL", result["postgres"])
    return result


def run_postgres_size(
    label: str, folder: Path, queries_path: Path, server_url: str, *, similar: str, live_n: int
) -> dict[str, Any]:
    """The same export, queries and live burst through the core on PostgreSQL."""
    from bench.postgres_scale import bench_database, run_import_postgres, server_cpu_seconds

    url = bench_database(server_url, label)
    out: dict[str, Any] = {"import": run_import_postgres(folder / "export", url)}
    out["search"] = _search_in_child(url, queries_path, similar)
    server0 = server_cpu_seconds(server_url)
    grouped = live_capture_grouped(url, live_n)
    server1 = server_cpu_seconds(server_url)
    if server0 is not None and server1 is not None:
        # The server's time over the whole burst (lookups after the last capture
        # included) is added to both CPU rates: the capture one is a lower bound.
        server = server1 - server0
        grouped["client_cpu_rate"] = grouped["cpu_rate"]
        grouped["cpu_rate"] = live_n / (live_n / grouped["cpu_rate"] + server)
        grouped["capture_cpu_rate"] = live_n / (live_n / grouped["capture_cpu_rate"] + server)
    out["live_grouped"] = grouped
    return out


def semantic_figure(documents: int) -> dict[str, Any]:
    """The semantic stage's docs/s through the bot's path (``bench.semantic_bench``), or why not.

    In a child process, for the shipped model (the first figure ``semantic_bench``
    prints; any others, such as a float reference, ride along under ``"others"``);
    ``{"skipped": why}`` when the optional model is not installed or the run fails.
    """
    base = [sys.executable, "-m", "bench.semantic_bench"]
    usage = subprocess.run(
        [*base, "--help"], capture_output=True, text=True, check=False, cwd=ROOT.parent
    ).stdout
    options = ["--documents", str(documents)]
    if "--float-documents" in usage:  # the int8 model ships; the float one is its reference
        options += ["--float-documents", str(min(documents, 64))]
    elif "--tokens" in usage:
        options += ["--tokens", "128"]
    child = subprocess.run(
        [*base, *options], capture_output=True, text=True, check=False, cwd=ROOT.parent
    )
    why = (child.stderr.strip().splitlines() or ["no output"])[-1]
    if child.returncode != 0:
        return {"skipped": f"bench.semantic_bench failed: {why}"}
    try:
        results = json.loads(child.stdout)
    except json.JSONDecodeError:
        return {"skipped": f"bench.semantic_bench printed no figures: {why}"}
    if not results:
        return {"skipped": f"no model to measure: {why.strip('()')}"}
    figure: dict[str, Any] = {**results[0], "others": results[1:]}
    return figure


@contextlib.contextmanager
def postgres_server(db: str) -> Iterator[tuple[str, str]]:
    """``(url, why not)`` for ``--db``: a given URL, a throwaway local cluster, or none."""
    if db != "local":
        yield db, ""
        return
    from bench.postgres_scale import throwaway_server
    from tests.postgres_cluster import PostgresUnavailable

    try:
        with throwaway_server() as url:
            print(f"PostgreSQL: a throwaway local cluster at {url}", flush=True)
            yield url, ""
    except PostgresUnavailable as error:
        yield "", f"could not start a throwaway PostgreSQL: {error}"


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description="copbot scale benchmark")
    parser.add_argument("--sizes", default="100k,1m", help="e.g. 10k,100k,1m (any Nk or Nm)")
    parser.add_argument("--data", type=Path, default=ROOT / "synthetic")
    parser.add_argument(
        "--durable", action="store_true", help="import with synchronous=NORMAL (default OFF)"
    )
    parser.add_argument(
        "--refs",
        default=",".join(ENGINES),
        help=f"reference engines to run, of {','.join(ENGINES)} ('' for none)",
    )
    parser.add_argument("--no-refs", action="store_true", help="the same as --refs ''")
    parser.add_argument(
        "--similar",
        choices=["copbot", "bench"],
        default="copbot",
        help="similar-question lookup: knowledge.similar (default) or the bench's own MLT",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--report", type=Path, help="print the tables of a run saved with --json, and stop"
    )
    parser.add_argument(
        "--db",
        default="",
        help="also measure PostgreSQL: 'local' (a throwaway cluster for the run) or a "
        "postgresql:// URL whose role may create databases",
    )
    parser.add_argument(
        "--replay-up-to",
        default="100k",
        help="also import one by one through the core (the replay the set-wise import must "
        "equal) at sizes up to this one; 0 for never",
    )
    parser.add_argument("--live", type=int, default=5_000, help="messages per live burst")
    parser.add_argument(
        "--queries", type=int, default=0, help="at most this many queries of each kind (quick)"
    )
    parser.add_argument(
        "--semantic-docs",
        type=int,
        default=512,
        help="documents the semantic stage embeds (0: skip it)",
    )
    args = parser.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())
        print_report(saved["sizes"], saved["semantic"])
        return list(saved["sizes"])
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    engines = [] if args.no_refs else [e for e in args.refs.split(",") if e]
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    with postgres_server(args.db) as (url, why_not):
        for label in args.sizes.split(","):
            label = label.strip().lower()
            result = run_size(
                label,
                args.data,
                durable=args.durable,
                engines=engines,
                similar=args.similar,
                postgres_url=url,
                replay_up_to=parse_size(args.replay_up_to),
                live_n=args.live,
                max_queries=args.queries,
            )
            if why_not:
                result["postgres"] = {"skipped": why_not}
            results.append(result)
    semantic = semantic_figure(args.semantic_docs) if args.semantic_docs else None
    if semantic is not None:
        print(f"semantic: {json.dumps(semantic)}", flush=True)
    print_report(results, semantic)
    print(f"\nwhole run: {(time.perf_counter() - started) / 60:.1f} minutes")
    if args.json:
        args.json.write_text(json.dumps({"sizes": results, "semantic": semantic}, indent=2))
    return results
