"""Schema of the public web view: members' opt-outs.

Its own sqlite-utils ``Migrations`` set, appended to
:data:`knowledge.migrations.MIGRATION_SETS`. Steps are never edited once
released: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

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
