"""Schema for the practice: know-how expiry, curation history, thanks, identity links.

Its own sqlite-utils ``Migrations`` set, appended to
:data:`knowledge.sqlite.migrations.MIGRATION_SETS`. Steps are never edited once
released: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["practice"]

practice = Migrations("copbot-practice")


@practice()
def m001_practice(db: Database) -> None:
    # An `update` may say until when it holds; after that it shows as possibly outdated.
    db.execute("ALTER TABLE entries ADD COLUMN valid_until TEXT")
    # Any member may flag an entry as outdated (curation; undoable).
    db.execute("ALTER TABLE entries ADD COLUMN outdated INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE curation_changes (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            field TEXT NOT NULL CHECK (field IN ('tags', 'title', 'outdated')),
            old_value TEXT NOT NULL,
            new_value TEXT NOT NULL,
            member_id INTEGER NOT NULL REFERENCES members(id),
            at TEXT NOT NULL,
            undoes INTEGER REFERENCES curation_changes(id),
            undone_by INTEGER REFERENCES curation_changes(id)
        )
        """
    )
    db.execute("CREATE INDEX curation_changes_entry ON curation_changes (entry_id, id)")
    db.execute(
        """
        CREATE TABLE thanks (
            id INTEGER PRIMARY KEY,
            giver_id INTEGER NOT NULL REFERENCES members(id),
            receiver_id INTEGER NOT NULL REFERENCES members(id),
            entry_id INTEGER REFERENCES entries(id) ON DELETE CASCADE,
            reason TEXT NOT NULL DEFAULT '',
            via TEXT NOT NULL CHECK (via IN ('command', 'reaction')),
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            visibility TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    # Counted once per member and entry (or once per member for a thank-you without entry).
    db.execute(
        "CREATE UNIQUE INDEX thanks_once ON thanks (giver_id, receiver_id, ifnull(entry_id, 0))"
    )
    db.execute("CREATE INDEX thanks_receiver ON thanks (receiver_id, created_at)")
    db.execute(
        """
        CREATE TABLE identity_links (
            id INTEGER PRIMARY KEY,
            from_member_id INTEGER NOT NULL REFERENCES members(id),
            to_platform TEXT NOT NULL,
            to_user_id TEXT NOT NULL,
            to_member_id INTEGER REFERENCES members(id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
            created_at TEXT NOT NULL,
            confirmed_at TEXT,
            UNIQUE (from_member_id, to_platform, to_user_id)
        )
        """
    )
