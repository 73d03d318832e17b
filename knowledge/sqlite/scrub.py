"""SQLite's side of "no byte remains" after a forget: the index merged, the file and WAL rewritten.

Deleting rows is not enough in SQLite: FTS5 keeps a deleted document's words
in its segments until they merge, and freed bytes stay in pages and in the
write-ahead log. :func:`compact` merges the index (``optimize``) and rewrites
every page (``VACUUM``; ``secure_delete`` only covers deletes made while it is
on); :func:`empty_log` copies the rewritten pages home and empties the WAL
(a ``TRUNCATE`` checkpoint). Each returns why it could not finish (another
process holds the file), or ``None``.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from knowledge.storage.errors import is_transient_conflict

__all__ = ["CHECKPOINT_WAIT_MS", "compact", "empty_log"]

#: How long the final checkpoint waits for another process's read to end.
CHECKPOINT_WAIT_MS = 1_000


def compact(db: Database) -> str | None:
    try:
        db.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
        db.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        if not is_transient_conflict(exc):
            raise
        return (
            "another process is writing to the database, so the file could not be rewritten; "
            "stop copbot, then run `copbot forget` again (with any name) to finish"
        )
    return None


def empty_log(db: Database) -> str | None:
    waited = int(db.execute("PRAGMA busy_timeout").fetchone()[0])
    db.execute(f"PRAGMA busy_timeout = {min(waited, CHECKPOINT_WAIT_MS)}")
    try:
        busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout = {waited}")
    if busy:
        return (
            "another process has the database open, so the removed bytes may still be in "
            "its write-ahead log; stop copbot, then run `copbot forget` again (with any "
            "name) to finish"
        )
    return None
