"""SQLite tables of the digest and follow-up logs (:mod:`knowledge.relational.digest_log`).

A set of its own in :data:`knowledge.sqlite.migrations.MIGRATION_SETS`. Steps are
never edited once released: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["migrations"]

migrations = Migrations("copbot-digest")


@migrations()
def m001_digest_and_follow_up_logs(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE digest_log (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('claimed', 'posted', 'empty', 'failed')),
            claimed_at TEXT NOT NULL,
            posted_at TEXT,
            message_id TEXT NOT NULL DEFAULT '',
            UNIQUE (channel, period_start, period_end)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE follow_ups (
            entry_id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('claimed', 'posted', 'failed')),
            claimed_at TEXT NOT NULL,
            posted_at TEXT,
            message_id TEXT NOT NULL DEFAULT ''
        )
        """
    )
