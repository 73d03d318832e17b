"""Opening the SQLite file: copbot's pragmas, migrations, lock errors and read-only readers.

Durability: WAL journal with ``synchronous=NORMAL``. A committed transaction
survives a crash or SIGKILL of the process; after a power loss the last few
transactions may be rolled back, but the file is never corrupt.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path

from sqlite_utils import Database

from knowledge.sqlite.migrations import migrate
from knowledge.storage.errors import is_transient_conflict

__all__ = ["BUSY_TIMEOUT_MS", "is_lock_error", "open_database", "refuse_writes"]

#: How long a write waits for another writer (another process) before "database is locked".
BUSY_TIMEOUT_MS = 5_000

#: The storage level's classifier, under the name this module gave it first.
is_lock_error = is_transient_conflict


def open_database(path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Database:
    """Open (creating if needed) the SQLite file with copbot's pragmas, migrated.

    ``secure_delete`` is on: deleted content is overwritten, not left in free
    space, so a removed message (or a forgotten member) does not linger in the
    file's bytes. A new file is its owner's alone (``0o600``; SQLite gives its
    WAL and shared-memory files the database file's rights): it holds what was
    said in private channels and DMs. An existing file keeps the rights it has.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    # One connection, used from one thread at a time (the runtime's worker);
    # check_same_thread is off because that thread is not the one that opened it.
    conn = sqlite3.connect(
        str(path),
        check_same_thread=False,
        isolation_level=None,
        timeout=busy_timeout_ms / 1000,
    )
    db = Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db.execute("PRAGMA secure_delete = ON")
    # 32 MiB of page cache (the default is 2 MiB): the B-tree and FTS pages a busy
    # community touches stay in memory; the search process stays well under 200 MB.
    db.execute("PRAGMA cache_size = -32768")
    migrate(db)
    return db


def refuse_writes(db: Database) -> None:
    """Make ``db`` unable to change its file (rows and schema); its ``temp`` schema stays usable."""
    db.conn.set_authorizer(_reads_only)


_SCHEMA_CHANGES = frozenset(
    {
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_CREATE_VTABLE,
        sqlite3.SQLITE_ALTER_TABLE,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_DROP_TRIGGER,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_DROP_VTABLE,
    }
)
_ROW_CHANGES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})


def _reads_only(
    action: int, arg1: str | None, _arg2: str | None, database: str | None, _trigger: str | None
) -> int:
    """SQLite authorizer: no change to the ``main`` database, anything in ``temp``.

    (SQLite itself touches ``sqlite_master`` while declaring a virtual table
    in ``temp``; no schema change reaches ``main``, so that one is let through.)
    """
    if database == "main" and (
        action in _SCHEMA_CHANGES or (action in _ROW_CHANGES and arg1 != "sqlite_master")
    ):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK
