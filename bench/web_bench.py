"""The web view at scale: latency per page over HTTP, on the synthetic community.

    .venv/bin/python -m bench.web_bench --sizes 100k,1m

For each size it takes ``bench/synthetic/<size>/copbot.db`` (made by
:mod:`bench.synth` and the real importer, as ``bench.scale`` does, if missing),
publishes every public channel, starts the real ``copbot web`` in its own
process, and fetches each kind of page sequentially from this process over
keep-alive HTTP: ids, tags, members, queries and weeks sampled with a fixed
seed. Reported per page: median, p99 and max wall-clock latency (request sent
to last byte), and the server process's CPU time per request (from
``/proc``), which is what the code costs whatever else the machine runs.

References in the same run, with ratios: the same server sending its static
stylesheet (aiohttp and our headers, no database: the floor of this stack),
and, when ``nginx`` is installed, nginx sending a saved copy of a question page
from disk (a static site's floor) and proxying to ``copbot web`` as the README's
reverse-proxy snippet does.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TICKS = os.sysconf("SC_CLK_TCK")


def ensure_database(label: str, data: Path) -> Path:
    """The synthetic community of ``label``, generated and imported once."""
    folder = data / label
    db = folder / "copbot.db"
    if db.exists():
        return db
    from bench.scale import run_import_phase
    from bench.synth import generate

    if not (folder / "queries.json").exists():
        generate(SIZES[label], folder)
    run_import_phase(folder / "export", db, durable=False)
    return db


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Server:
    """``copbot web`` in a child process, on a free port."""

    def __init__(self, db: Path, config: Path) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from adapters.cli import main; main()",
                "web",
                "--db",
                str(db),
                "--config",
                str(config),
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT.parent,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)/", line)
        if match is None:
            self.stop()
            raise RuntimeError(f"copbot web did not start: {line!r}")
        self.host, self.port = match.group(1), int(match.group(2))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(
    host: str, port: int, paths: list[str], pid: int | None, warmup: int = 10
) -> dict[str, Any]:
    """Sequential GETs over one keep-alive connection: latency and server CPU per request."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    statuses: dict[int, int] = {}
    server: list[float] = []

    def get(path: str) -> int:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        timing = response.getheader("Server-Timing") or ""
        steps = [float(part.split("dur=")[1]) for part in timing.split(",") if "dur=" in part]
        server.append(sum(steps))
        return len(body)

    for path in paths[: min(warmup, len(paths) // 2)]:
        get(path)
    statuses.clear()
    server.clear()
    samples: list[float] = []
    sizes: list[int] = []
    cpu0 = cpu_seconds(pid) if pid else 0.0
    for path in paths:
        start = time.perf_counter()
        sizes.append(get(path))
        samples.append((time.perf_counter() - start) * 1000)
    cpu = (cpu_seconds(pid) - cpu0) if pid else 0.0
    conn.close()
    samples.sort()
    server.sort()
    return {
        "n": len(samples),
        "p50_ms": statistics.median(samples),
        "p99_ms": _p99(samples),
        "max_ms": samples[-1],
        # CPU of the page's read and render (Server-Timing), and of the whole process
        "cpu_p50_ms": statistics.median(server),
        "cpu_p99_ms": _p99(server),
        "server_cpu_ms": cpu * 1000 / len(samples) if pid else None,
        "kb": statistics.mean(sizes) / 1024,
        "statuses": statuses,
    }


def _p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def sample_paths(db: Path, queries: Path, n: int, seed: int = 7) -> dict[str, list[str]]:
    """What each page kind is fetched with: real ids, tags, members and queries."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    public = "visibility = 'public'"

    def ids(sql: str) -> list[int]:
        return [int(r[0]) for r in conn.execute(sql)]

    questions = ids(f"SELECT id FROM entries WHERE kind = 'question' AND {public}")
    knowhow = ids(f"SELECT id FROM entries WHERE kind = 'knowhow' AND {public}")
    members = ids("SELECT DISTINCT author_id FROM entries WHERE visibility = 'public'")
    tags = [str(r[0]) for r in conn.execute("SELECT DISTINCT tag FROM entry_tags")]
    conn.close()
    words = json.loads(queries.read_text())["keyword"]

    def pick(values: list[Any], k: int = n) -> list[Any]:
        return [rng.choice(values) for _ in range(k)]

    return {
        "home": ["/"] * n,
        "question": [f"/q/{i}" for i in pick(questions)],
        "knowhow": [f"/k/{i}" for i in pick(knowhow)],
        "search": [f"/search?q={quote_plus(q)}" for q in pick(words)],
        "search p2": [f"/search?q={quote_plus(q)}&page=2" for q in pick(words)],
        "topic": [f"/t/{t}" for t in pick(tags)],
        "topic p5": [f"/t/{t}?page=5" for t in pick(tags)],
        "member": [f"/m/{i}" for i in pick(members)],
        "digests": ["/digests"] * n,
    }


def canonical(host: str, port: int, paths: list[str]) -> list[str]:
    """Follow the one redirect of /q/<id> and /m/<id> once, so each sample is one request."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    out: list[str] = []
    for path in paths:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        out.append(response.getheader("Location") or path if response.status == 301 else path)
    conn.close()
    return out


def archive_paths(host: str, port: int, n: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """Channel archives and week pages, read off the digest index as a visitor would."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", "/digests")
    index = conn.getresponse().read().decode()
    channels = sorted(set(re.findall(r'href="(/digests/[^"/]+)"', index)))
    weeks: list[str] = []
    for channel in channels:
        conn.request("GET", channel)
        weeks += re.findall(
            r'href="(/digests/[^"]+/\d{4}-W\d{2})"', conn.getresponse().read().decode()
        )
    conn.close()
    return [rng.choice(channels) for _ in range(n)], [rng.choice(weeks) for _ in range(n)]


def nginx_reference(
    host: str, port: int, page_path: str, n: int, folder: Path
) -> dict[str, dict[str, Any]]:
    """nginx sending a saved question page from disk, and proxying to copbot web."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        return {}
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", page_path)
    (folder / "page.html").write_bytes(conn.getresponse().read())
    conn.close()
    folder.chmod(0o755)  # nginx's workers run as another user
    (folder / "page.html").chmod(0o644)
    static_port, proxy_port = port + 101, port + 102
    config = folder / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  server {{ listen 127.0.0.1:{static_port}; root {folder}; location / {{ }} }}
  upstream copbot {{ server {host}:{port}; keepalive 4; }}
  server {{
    listen 127.0.0.1:{proxy_port};
    location / {{
      proxy_pass http://copbot;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
    )
    started = subprocess.run([nginx, "-c", str(config), "-p", str(folder)], check=False)
    if started.returncode != 0:
        return {}
    try:
        time.sleep(0.3)
        return {
            "nginx static file": measure("127.0.0.1", static_port, ["/page.html"] * n, None),
            "question via nginx proxy": measure("127.0.0.1", proxy_port, [page_path] * n, None),
        }
    finally:
        subprocess.run([nginx, "-c", str(config), "-p", str(folder), "-s", "stop"], check=False)


def run_size(label: str, data: Path, n: int) -> dict[str, Any]:
    db = ensure_database(label, data)
    conn = sqlite3.connect(db)
    names = [r[0] for r in conn.execute("SELECT name FROM channels WHERE visibility = 'public'")]
    messages = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    conn.close()
    results: dict[str, Any] = {"size": label, "entries": messages, "pages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "copbot.toml"
        channels = ", ".join(json.dumps(f"slack:#{name}") for name in names)
        config.write_text(f"[web]\nserver_timing = true\nchannels = [{channels}]\n")
        server = Server(db, config)
        pid = server.process.pid
        try:
            paths = sample_paths(db, db.parent / "queries.json", n)
            for kind in ("question", "knowhow", "member"):
                paths[kind] = canonical(server.host, server.port, paths[kind])
            paths["channel archive"], paths["week"] = archive_paths(server.host, server.port, n)
            paths["stylesheet (floor)"] = ["/static/style.css"] * n
            # For crawlers, not people: a few requests (a part is 10,000 URLs).
            paths["sitemap index"] = ["/sitemap.xml"] * 5
            paths["sitemap part"] = [f"/sitemap-{k}.xml" for k in (1, 2, 3, 4, 5)]
            for kind, kind_paths in paths.items():
                result = measure(server.host, server.port, kind_paths, pid)
                results["pages"][kind] = result
                print(f"[{label}] {kind}: {json.dumps(result)}", flush=True)
            refs = nginx_reference(server.host, server.port, paths["question"][0], n, folder)
            results["pages"].update(refs)
            for kind, result in refs.items():
                print(f"[{label}] {kind}: {json.dumps(result)}", flush=True)
        finally:
            server.stop()
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| size | page | wall p50 / p99 / max ms | page CPU p50 / p99 ms "
        "| process CPU ms/req | KB | wall p99 ÷ floor |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        floor = r["pages"]["stylesheet (floor)"]["p99_ms"]
        for kind, p in r["pages"].items():
            cpu = "" if p["server_cpu_ms"] is None else f"{p['server_cpu_ms']:.1f}"
            page_cpu = f"{p['cpu_p50_ms']:.1f} / {p['cpu_p99_ms']:.1f}" if p["cpu_p99_ms"] else ""
            print(
                f"| {r['size']} | {kind} | {p['p50_ms']:.1f} / {p['p99_ms']:.1f} / "
                f"{p['max_ms']:.1f} | {page_cpu} | {cpu} | {p['kb']:.1f} "
                f"| {p['p99_ms'] / floor:.1f}× |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="copbot web view benchmark")
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--data", type=Path, default=ROOT / "synthetic")
    parser.add_argument("--requests", type=int, default=300, help="per page kind")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = [run_size(s.strip().lower(), args.data, args.requests) for s in args.sizes.split(",")]
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
