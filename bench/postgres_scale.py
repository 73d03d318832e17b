"""The scale benchmark on PostgreSQL: ``python -m bench.scale --db postgresql://...``.

For each size, the same synthetic Slack export as the SQLite run is imported
into a fresh database on that server (``copbot_bench_<size>``, dropped and
made again: the URL's role must be allowed to create databases; the URL's
own database is never touched) through the same importer and core, then the
same keyword and similar-question queries run through the core's real search
and finder (:func:`bench.scale.search_child`, in a child process).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

__all__ = ["bench_database", "run_import_postgres"]


def bench_database(url: str, label: str) -> str:
    """A fresh, migrated database for size ``label`` on ``url``'s server; its URL."""
    from urllib.parse import urlsplit, urlunsplit

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
    t0, c0 = time.perf_counter(), time.process_time()
    summary = run_import(core, SlackExport(export), durable=True)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    row = repertoire.conn.execute("SELECT pg_database_size(current_database())").fetchone()
    repertoire.conn.execute("VACUUM ANALYZE")  # as autovacuum would, soon after a big load
    repertoire.close()
    return {
        "messages": summary.messages_read,
        "seconds": seconds,
        "rate": summary.messages_read / seconds,
        "cpu_rate": summary.messages_read / cpu,
        "db_mb": (int(row[0]) if row else 0) / 1e6,
    }
