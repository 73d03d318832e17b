"""SQLite's side of the repertoire: the :class:`Sql` connection and the pragmas of bulk loads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property

from sqlite_utils import Database

from knowledge.models import SourceKey
from knowledge.relational.digest_log import DigestLog
from knowledge.sqlite.setwise_load import SqliteSetwiseLoader
from knowledge.storage.roles import RoleLock, SoleProcessLock
from knowledge.storage.setwise import SetwiseLoader
from knowledge.storage.sql import Row, Sql

__all__ = ["IMPORT_CACHE_KB", "SqliteBacked", "SqliteSql"]

#: Page cache while an import runs (KiB): the index pages of a big import stay in memory.
IMPORT_CACHE_KB = 64 * 1024


class SqliteSql:
    """:class:`~knowledge.storage.Sql` over one sqlite-utils database (already ``?`` style)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return int(self.db.execute(sql, list(params)).rowcount)

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row = self.db.execute(sql, list(params)).fetchone()
        return tuple(row) if row is not None else None

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return [tuple(row) for row in self.db.execute(sql, list(params)).fetchall()]

    def insert(self, sql: str, params: Sequence[object] = ()) -> int:
        return int(self.db.execute(sql, list(params)).lastrowid or 0)

    def insert_new(self, sql: str, params: Sequence[object] = ()) -> int | None:
        cursor = self.db.execute(sql, list(params))
        return int(cursor.lastrowid or 0) if cursor.rowcount == 1 else None


class SqliteBacked:
    """What the SQLite repertoire adds to the shared relational implementation."""

    db: Database

    #: What the driver raises when a constraint refuses a row (a restore reports it).
    integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)

    @cached_property
    def sql(self) -> Sql:
        """The portable connection, made once (every statement goes through it)."""
        return SqliteSql(self.db)

    @property
    def digest_log(self) -> DigestLog:
        """The digest and follow-up claim log (one row per channel and period, per question)."""
        return DigestLog(self.sql)

    def lock_message(self, src: SourceKey) -> None:
        """Nothing to do: one writer at a time already decides about each message in turn."""

    def take_bulk_turn(self) -> None:
        """Nothing to do: SQLite's one write lock already makes writers take turns."""

    def role_lock(self, role: str) -> RoleLock:
        """Every role is this process's: an SQLite file has one bot process."""
        return SoleProcessLock(role)

    def copy_rows_in(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        """Insert ``rows`` as they are (ids included) into ``table``; how many (``copbot copy``)."""
        count = 0

        def counted() -> Iterator[Row]:
            nonlocal count
            for row in rows:
                count += 1
                yield row

        marks = ", ".join("?" for _ in columns)
        self.db.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", counted()
        )
        return count

    def ids_copied(self) -> None:
        """Nothing to do: SQLite's next id follows the largest one in the table."""

    def unindexed(self, expression: str) -> str:
        """``expression`` kept from choosing an index (SQLite's unary ``+``): the planner
        then takes the index a query means (a thread's) over a column's own."""
        return f"+{expression}"

    # What a forget leaves behind (see knowledge.forget and knowledge.sqlite.scrub).

    def forget_cached_terms(self) -> None:
        """Drop the word-frequency cache (it holds the words of deleted documents too)."""
        self.db.execute("DELETE FROM similar_df")

    def compact_deleted(self) -> str | None:
        """Merge the search index and rewrite the file; why not, when another process writes."""
        from knowledge.sqlite.scrub import compact

        return compact(self.db)

    def flush_deleted(self) -> str | None:
        """Empty the write-ahead log; why not, when another process keeps it open."""
        from knowledge.sqlite.scrub import empty_log

        return empty_log(self.db)

    def setwise_loader(self) -> SetwiseLoader | None:
        """The set-wise path of history imports into an empty file (:mod:`.setwise_load`)."""
        return SqliteSetwiseLoader(self.db)

    @contextmanager
    def bulk_load(self, *, durable: bool = True, lock_wait_ms: int | None = None) -> Iterator[None]:
        """Tune the file for a big import while the block runs; the settings come back after.

        A bigger page cache and fewer WAL checkpoints. ``durable=False`` also sets
        ``synchronous = OFF``: a killed process loses nothing committed, but an OS
        crash or power loss during the import may corrupt the file.
        ``lock_wait_ms`` shortens how long one statement waits for another writer
        (never lengthens it), for an import that retries whole batches itself.
        """
        db = self.db
        before = {
            name: int(db.execute(f"PRAGMA {name}").fetchone()[0])
            for name in ("cache_size", "wal_autocheckpoint", "busy_timeout", "synchronous")
        }
        tuned = {"cache_size": -IMPORT_CACHE_KB, "wal_autocheckpoint": 20_000}
        if not durable:
            tuned["synchronous"] = 0  # OFF
        if lock_wait_ms is not None:
            tuned["busy_timeout"] = min(before["busy_timeout"], max(lock_wait_ms, 0))
        for name, value in tuned.items():
            db.execute(f"PRAGMA {name} = {int(value)}")
        try:
            yield
        finally:
            for name in tuned:
                db.execute(f"PRAGMA {name} = {before[name]}")
