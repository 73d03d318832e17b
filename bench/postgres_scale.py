"""The scale benchmark on PostgreSQL: ``python -m bench.scale --db local|postgresql://...``.

``--db local`` (what ``make bench`` passes) starts a throwaway cluster for the run
with the test suite's own code (:class:`tests.postgres_cluster.LocalCluster`: the
machine's ``initdb`` and ``pg_ctl``, a unix socket only, run as the ``postgres``
user through ``runuser`` when we are root, ``fsync`` off) and stops it at the
end; ``--db postgresql://...`` uses a server you give (its role must be allowed
to create databases; the URL's own database is never touched).

For each size, the same synthetic Slack export as the SQLite run is imported
into a fresh database on that server (``copbot_bench_<size>``, dropped and made
again) through the same importer and core, then the same keyword and
similar-question queries run through the core's real search and finder
(:func:`bench.scale.search_child`, in a child process), then the same live
capture bursts as on SQLite.

CPU time on PostgreSQL is the client's plus the server's: the server's is read
from its processes (the postmaster's own time, its reaped backends' and its live
children's, through ``psutil``) when the server runs on this machine and we may
read them; otherwise the figures say "client CPU".
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "bench_database",
    "conninfo_url",
    "run_import_postgres",
    "server_cpu_seconds",
    "throwaway_server",
]


def conninfo_url(conninfo: str) -> str:
    """A ``postgresql://`` URL for a libpq conninfo (what ``copbot --db`` and the core take)."""
    from psycopg.conninfo import conninfo_to_dict

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    user = quote(params.pop("user", ""), safe="")
    dbname = quote(params.pop("dbname", "postgres"), safe="")
    host = params.pop("host", "")
    netloc = f"{user}@" if user else ""
    if host.startswith("/"):  # a unix socket directory goes in the query string
        params["host"] = host
    else:
        netloc += host + (f":{params.pop('port')}" if "port" in params else "")
    query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in sorted(params.items()))
    return f"postgresql://{netloc}/{dbname}" + (f"?{query}" if query else "")


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """A local cluster for this run, stopped and deleted on the way out; its admin URL.

    Raises :class:`tests.postgres_cluster.PostgresUnavailable` (its message says why, in
    one line) when PostgreSQL is not installed or cannot start.
    """
    from tests.postgres_cluster import LocalCluster, PostgresUnavailable, server_binaries

    bindir = server_binaries()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH)"
        )
    cluster = LocalCluster(bindir)
    try:
        yield conninfo_url(cluster.start())
    finally:
        cluster.stop()


def bench_database(url: str, label: str) -> str:
    """A fresh, migrated database for size ``label`` on ``url``'s server; its URL."""
    import psycopg
    from psycopg import sql

    name = f"copbot_bench_{label}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def server_cpu_seconds(url: str) -> float | None:
    """CPU seconds the server at ``url`` has used so far, or ``None`` if we cannot tell.

    The postmaster's pid is the first line of ``postmaster.pid`` in its data
    directory (``SHOW data_directory``: a superuser's or ``pg_read_all_settings``'
    right). A backend that ended was reaped by the postmaster, so its time is in
    the postmaster's children times; live backends are counted one by one.
    """
    import psutil
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        pid = int((Path(str(row[0])) / "postmaster.pid").read_text().split()[0]) if row else 0
        postmaster = psutil.Process(pid)
        total = sum(postmaster.cpu_times()[:4])  # user, system, children's user and system
        for child in postmaster.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return float(total)
    except (OSError, ValueError, IndexError, psycopg.Error, psutil.Error):
        return None


def run_import_postgres(export: Path, url: str) -> dict[str, Any]:
    """Import ``export`` into the database at ``url`` through the core; the figures."""
    from adapters.importers.slack_export import SlackExport
    from bot.app import assemble_core
    from bot.config import Settings
    from bot.import_replay import run_import
    from bot.ports import Services, SystemClock
    from knowledge.postgres.repertoire import PostgresRepertoire

    repertoire = PostgresRepertoire.connect(url)
    core = assemble_core(Services(repertoire, Settings(), SystemClock()))
    server0 = server_cpu_seconds(url)
    t0, c0 = time.perf_counter(), time.process_time()
    summary = run_import(core, SlackExport(export), durable=True)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    server1 = server_cpu_seconds(url)
    row = repertoire.conn.execute("SELECT pg_database_size(current_database())").fetchone()
    repertoire.conn.execute("VACUUM ANALYZE")  # as autovacuum would, soon after a big load
    repertoire.close()
    server = server1 - server0 if server0 is not None and server1 is not None else None
    return {
        "messages": summary.messages_read,
        "seconds": seconds,
        "rate": summary.messages_read / seconds,
        "client_cpu_rate": summary.messages_read / cpu,
        # Client and server together when the server's time is known, else the client's.
        "cpu_rate": summary.messages_read / (cpu + (server or 0.0)),
        "server_cpu_known": server is not None,
        "db_mb": (int(row[0]) if row else 0) / 1e6,
    }
