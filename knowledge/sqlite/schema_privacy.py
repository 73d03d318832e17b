"""Schema for privacy on every path: visibility follows the channel; forget finds edits.

Its own sqlite-utils ``Migrations`` set, appended to
:data:`knowledge.sqlite.migrations.MIGRATION_SETS`. Steps are never edited once
released: add a new one. Why the visibility is a trigger-kept copy rather than
a join: see :mod:`knowledge.channels`.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["migrations"]

migrations = Migrations("copbot-privacy")

#: Most closed first: the visibility of a channel whose entries disagree.
_MOST_CLOSED = (
    "CASE max(CASE {col} WHEN 'public' THEN 0 WHEN 'private' THEN 1 ELSE 2 END) "
    "WHEN 0 THEN 'public' WHEN 1 THEN 'private' ELSE 'dm' END"
)

_SAME_CHANNEL = "platform = NEW.platform AND workspace = NEW.workspace AND channel = NEW.channel"
_CHANNEL_OF_NEW = (
    "SELECT c.visibility FROM channels c WHERE c.platform = NEW.platform "
    "AND c.workspace = NEW.workspace AND c.channel = NEW.channel"
)


@migrations()
def m001_visibility_follows_channel(db: Database) -> None:
    # When the visibility last changed, so an old claim cannot reopen a channel.
    db.execute("ALTER TABLE channels ADD COLUMN visibility_at TEXT NOT NULL DEFAULT ''")
    # Every entry's channel has a row; where the row and its entries disagreed (a
    # channel that turned private while its old entries stayed public), the most
    # closed of them is the truth: unknown means private.
    most_closed = _MOST_CLOSED.format(col="visibility")
    db.execute(
        "INSERT INTO channels (platform, workspace, channel, name, visibility) "
        f"SELECT platform, workspace, channel, max(channel_name), {most_closed} "
        "FROM entries e WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.platform = e.platform "
        "AND c.workspace = e.workspace AND c.channel = e.channel) "
        "GROUP BY platform, workspace, channel"
    )
    db.execute(
        "UPDATE channels SET visibility = (SELECT "
        + _MOST_CLOSED.format(col="v")
        + " FROM (SELECT channels.visibility AS v UNION ALL SELECT e.visibility FROM entries e "
        "WHERE e.platform = channels.platform AND e.workspace = channels.workspace "
        "AND e.channel = channels.channel))"
    )
    for table in ("entries", "thanks"):
        db.execute(
            f"UPDATE {table} SET visibility = (SELECT c.visibility FROM channels c "
            f"WHERE c.platform = {table}.platform AND c.workspace = {table}.workspace "
            f"AND c.channel = {table}.channel) WHERE EXISTS (SELECT 1 FROM channels c "
            f"WHERE c.platform = {table}.platform AND c.workspace = {table}.workspace "
            f"AND c.channel = {table}.channel AND c.visibility != {table}.visibility)"
        )
    follow = (
        f"UPDATE entries SET visibility = NEW.visibility WHERE {_SAME_CHANNEL} "
        "AND visibility != NEW.visibility; "
        f"UPDATE thanks SET visibility = NEW.visibility WHERE {_SAME_CHANNEL} "
        "AND visibility != NEW.visibility;"
    )
    db.execute(
        "CREATE TRIGGER channel_visibility_changed AFTER UPDATE OF visibility ON channels "
        f"WHEN NEW.visibility IS NOT OLD.visibility BEGIN {follow} END"
    )
    db.execute(f"CREATE TRIGGER channel_added AFTER INSERT ON channels BEGIN {follow} END")
    for table in ("entries", "thanks"):
        db.execute(
            f"CREATE TRIGGER {table}_take_channel_visibility AFTER INSERT ON {table} "
            f"WHEN ({_CHANNEL_OF_NEW}) != NEW.visibility BEGIN "
            f"UPDATE {table} SET visibility = ({_CHANNEL_OF_NEW}) WHERE rowid = NEW.rowid; END"
        )
        db.execute(
            f"CREATE TRIGGER {table}_visibility_is_the_channels BEFORE UPDATE OF visibility "
            f"ON {table} WHEN NEW.visibility != coalesce(({_CHANNEL_OF_NEW}), NEW.visibility) "
            f"BEGIN SELECT RAISE(ABORT, '{table}.visibility follows its channel: "
            "change the channel instead'); END"
        )


@migrations()
def m002_edit_authors(db: Database) -> None:
    # Who edited a message (a platform user id; '' when unknown), so forgetting a
    # member also removes the text of their edits to messages that made no entry.
    db.execute("ALTER TABLE message_edits ADD COLUMN author TEXT NOT NULL DEFAULT ''")
