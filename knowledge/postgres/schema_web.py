"""The public web view's tables on PostgreSQL: the twin of ``knowledge/sqlite/schema_web.py``."""

from __future__ import annotations

__all__ = ["WEB"]

WEB = (
    # Members who said /cop web off; forgetting a member removes their row with them.
    """
    CREATE TABLE web_optouts (
        member_id bigint PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
        at text NOT NULL
    )
    """,
    # One channel's entries by date (the digest archive reads a channel's week).
    "CREATE INDEX entries_channel_created ON entries (platform, workspace, channel, created_at)",
)
