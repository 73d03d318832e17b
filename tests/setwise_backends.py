"""The backends the set-wise import's equivalence tests run on, and a repertoire's whole state.

Each case imports the same items into two fresh repertoires of one backend
(set-wise and by replay). On SQLite they are two files; on PostgreSQL two
databases made once per module on the session's real server
(``tests/postgres_cluster.py``) and emptied before each test with
``TRUNCATE ... RESTART IDENTITY``, so both count their ids from 1, as a fresh
database does.

:func:`state` is everything the two must agree on: the JSON export and what
it leaves out (the search documents and the answer counts that ranking reads,
the channels' visibility times, the read marks), and the schema objects the
bulk load sets aside, which must all be back as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bot.app import assemble_core, build_core
from bot.config import Settings
from bot.core import Core
from bot.ports import Services, SystemClock
from knowledge.export import export_json
from knowledge.postgres.repertoire import PostgresRepertoire
from tests.postgres_cluster import PostgresServer
from tests.sqlite_file import sqlite_of

__all__ = ["BACKENDS", "Cores", "exported", "make_cores", "postgres_pair", "state"]

#: SQLite, and PostgreSQL with its marker (``pytest -m postgres``).
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

@dataclass
class Cores:
    """Fresh repertoires of one backend, each with its core (closed by the fixture)."""

    backend: str
    tmp_path: Path
    dsns: dict[str, str] = field(default_factory=dict)
    opened: list[Core] = field(default_factory=list)

    def make(self, role: str, settings: Settings) -> Core:
        """An empty repertoire for ``role`` (``"setwise"`` or ``"replay"``) and its core."""
        if self.backend == "sqlite":
            core = build_core(settings, self.tmp_path / f"{role}-{len(self.opened)}.db")
        else:
            _truncate_all(self.dsns[role])
            repertoire = PostgresRepertoire.connect(self.dsns[role])
            core = assemble_core(Services(repertoire, settings, SystemClock()))
        self.opened.append(core)
        return core

    def close(self) -> None:
        for core in self.opened:
            core.services.repertoire.close()


def _truncate_all(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'schema_migrations' ORDER BY tablename"
            )
        ]
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            )
        )


def postgres_pair(server: PostgresServer, template: str) -> Iterator[dict[str, str]]:
    """Two migrated databases (``setwise`` and ``replay``) for a module; their conninfo."""
    names = {role: server.create_database(template=template) for role in ("setwise", "replay")}
    try:
        yield {role: server.dsn(name) for role, name in names.items()}
    finally:
        for name in names.values():
            server.drop_database(name)


def make_cores(
    backend: str, tmp_path: Path, pair: Callable[[], dict[str, str]]
) -> Iterator[Cores]:
    """:class:`Cores` on ``backend``; every repertoire they opened is closed after."""
    cores = Cores(backend, tmp_path, pair() if backend == "postgres" else {})
    try:
        yield cores
    finally:
        cores.close()


def exported(core: Core) -> dict[str, Any]:
    """The JSON export, without what the wall clock of the import decides."""
    out = StringIO()
    export_json(core.services.repertoire, out)
    data: dict[str, Any] = json.loads(out.getvalue())
    del data["exported_at"]
    for member in data["members"]:
        member["created_at"] = ""  # when the import ran
    for tombstone in data["tombstones"]:
        tombstone["deleted_at"] = ""  # likewise (a delete event carries no time)
    return data


def state(core: Core) -> dict[str, Any]:
    """The export, and what it leaves out, of one repertoire (either backend)."""
    repertoire = core.services.repertoire
    if isinstance(repertoire, PostgresRepertoire):
        return {"export": exported(core), **_postgres_internals(repertoire.conn)}
    db = sqlite_of(repertoire).db
    return {
        "export": exported(core),
        "documents": db.execute(
            "SELECT rowid, title, body, answers, tags FROM search_fts ORDER BY rowid"
        ).fetchall(),
        "counts": db.execute(
            "SELECT id, answer_count, has_accepted FROM entries ORDER BY id"
        ).fetchall(),
        "channels": db.execute("SELECT * FROM channels ORDER BY id").fetchall(),
        "read_marks": db.execute("SELECT * FROM read_marks ORDER BY rowid").fetchall(),
        # Indexes and triggers the bulk load set aside are all back, as they were.
        "schema": db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
    }


def _postgres_internals(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    def rows(statement: str) -> list[tuple[Any, ...]]:
        return conn.execute(statement).fetchall()

    return {
        "documents": rows(
            "SELECT id, search_document::text, answer_count, has_accepted FROM entries "
            "ORDER BY id"
        ),
        "channels": rows("SELECT * FROM channels ORDER BY id"),
        "read_marks": rows("SELECT * FROM read_marks ORDER BY platform, workspace, channel"),
        # Indexes, keys and triggers the bulk load set aside are all back, as they were.
        "indexes": rows(
            "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relkind = 'i' "
            "AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname"
        ),
        "constraints": rows(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid), c.convalidated "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2"
        ),
        "triggers": rows(
            "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE NOT tgisinternal ORDER BY tgname"
        ),
    }
