"""Schema of the public web view: members' opt-outs, and entries by channel and date.

Its own sqlite-utils ``Migrations`` set, appended to
:data:`knowledge.sqlite.migrations.MIGRATION_SETS`. Steps are never edited once
released: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["migrations"]

migrations = Migrations("copbot-web")


@migrations()
def m001_web_optouts(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE web_optouts (
            member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
            at TEXT NOT NULL
        )
        """
    )
    # The digest archive reads one channel's week: without this it walks either the
    # whole channel or every channel's week. (Queries on a thread by date write
    # ``+a.created_at`` so SQLite keeps using the thread index for them.)
    db.execute(
        "CREATE INDEX entries_channel_created ON entries (platform, workspace, channel, created_at)"
    )
