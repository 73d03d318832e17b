"""Versioned migrations of the PostgreSQL schema, safe when several processes start at once.

``schema_migrations`` holds one row per applied version. :func:`migrate`
applies each missing version in its own transaction, holding a transaction
advisory lock (:data:`LOCK_KEY`) from before it reads what is applied until
it commits: two processes starting together queue on the lock, and the second
finds the work done. DDL is transactional in PostgreSQL, so a step that fails
leaves nothing half made; the versions before it stay applied.

Rules, as for the SQLite sets: a released step is never edited; add a new one.
A database migrated by a newer copbot (versions this one does not know) is
refused with :class:`SchemaTooNew` rather than run against a schema it does
not understand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Connection
from psycopg.pq import TransactionStatus

from knowledge.postgres import (
    documents,
    schema_entries,
    schema_practice,
    schema_privacy,
    schema_search,
    schema_web,
)
from knowledge.storage.errors import StorageUnavailable

__all__ = ["LOCK_KEY", "MIGRATIONS", "Migration", "SchemaTooNew", "migrate", "schema_version"]

#: The advisory lock every migrating process takes ("copbot" in ASCII, as a bigint).
LOCK_KEY = 0x636F70626F74


class SchemaTooNew(StorageUnavailable):
    """The database was migrated by a newer copbot; this one must not touch it."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: a version, a name for people, and what it does."""

    version: int
    name: str
    statements: Sequence[str] = ()
    #: For a step that must look at the database first (runs after ``statements``).
    apply: Callable[[Connection[Any]], object] | None = None

    def run(self, conn: Connection[Any]) -> None:
        for statement in self.statements:
            conn.execute(statement)
        if self.apply is not None:
            self.apply(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "entries", schema_entries.ENTRIES),
    Migration(2, "event order", schema_entries.EVENT_ORDER),
    Migration(3, "digest and follow-up logs", schema_entries.SCHEDULED_LOGS),
    Migration(4, "practice", schema_practice.PRACTICE),
    Migration(5, "similar questions", schema_practice.SIMILAR),
    Migration(
        6, "full-text search", schema_search.DOCUMENTS, apply=schema_search.install_text_search
    ),
    Migration(7, "visibility follows the channel", schema_privacy.PRIVACY),
    Migration(8, "the public web view", schema_web.WEB),
    Migration(
        9,
        "words split as FTS5 splits them",
        (schema_search.WORDS_FUNCTION,),
        apply=documents.reindex_all,
    ),
    Migration(10, "expiry is a day", schema_entries.EXPIRY_IS_A_DAY),
    Migration(
        11,
        "embeddings go with their entry",
        schema_practice.EMBEDDINGS_GO_WITH_THEIR_ENTRY,
    ),
)

_CREATE_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


def _lock(conn: Connection[Any]) -> None:
    # Released by the transaction's end, commit or rollback, or by the session dying.
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _applied(conn: Connection[Any]) -> set[int]:
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations")}


def migrate(conn: Connection[Any], migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Bring the database to the newest schema; the versions this call applied.

    Safe to call at every start and from several processes at once. ``conn``
    must not be inside a transaction (each step commits on its own).
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError("migrate() needs a connection outside any transaction")
    known = {m.version for m in migrations}
    if len(known) != len(migrations):
        raise ValueError("two migrations share a version")
    with conn.transaction():
        _lock(conn)
        conn.execute(_CREATE_TABLE)
        applied = _applied(conn)
    unknown = applied - known
    if unknown:
        raise SchemaTooNew(
            f"the database has schema version {max(unknown)}, newer than this copbot knows "
            f"({max(known, default=0)}): upgrade copbot before pointing it at this database"
        )
    done: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in applied:
            continue
        with conn.transaction():
            _lock(conn)
            if migration.version in _applied(conn):  # another process got here first
                continue
            migration.run(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
        done.append(migration.version)
    return done


def schema_version(conn: Connection[Any]) -> int:
    """The newest applied version (0 for a database copbot never migrated)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0
