"""Looking up members and channels by what a command or a config names.

Shared by every backend (portable SQL over :class:`~knowledge.storage.Sql`).
"""

from __future__ import annotations

from knowledge.models import ChannelRef, KnownChannel, Member
from knowledge.relational.base import RelationalBase

__all__ = ["MEMBER_SELECT", "Directory"]

#: A member row as :class:`Member` takes it: the shown name falls back to handle, then id.
MEMBER_SELECT = (
    "SELECT id, platform, workspace, user_id, "
    "coalesce(nullif(display_name, ''), nullif(handle, ''), user_id) FROM members"
)


class Directory(RelationalBase):
    """Members by platform id, every member, and a channel by id or name."""

    def members_with_user_id(self, platform: str, user_id: str) -> list[Member]:
        """The member(s) a platform user id names (one per workspace of that platform)."""
        rows = self.sql.rows(
            f"{MEMBER_SELECT} WHERE platform = ? AND user_id = ? ORDER BY id", [platform, user_id]
        )
        return [Member(*row) for row in rows]

    def all_members(self) -> list[Member]:
        """Every member, oldest first (a fuzzy name match looks through them)."""
        return [Member(*row) for row in self.sql.rows(f"{MEMBER_SELECT} ORDER BY id")]

    def find_channel(
        self,
        platform: str,
        *,
        channel_id: str | None = None,
        name: str | None = None,
        workspace: str = "",
    ) -> KnownChannel | None:
        """The channel copbot knows by its id, or else by its name (any case); the oldest wins."""
        if channel_id is not None:
            condition, value = "channel = ?", channel_id
        elif name is not None:
            condition, value = "lower(name) = lower(?)", name
        else:
            return None
        sql = (
            "SELECT workspace, channel, name, visibility FROM channels "
            f"WHERE platform = ? AND {condition}"
        )
        params = [platform, value]
        if workspace:
            sql += " AND workspace = ?"
            params.append(workspace)
        row = self.sql.one(sql + " ORDER BY id LIMIT 1", params)
        if row is None:
            return None
        ws, channel, channel_name, visibility = (str(v) for v in row)
        return KnownChannel(ChannelRef(platform, ws, channel), channel_name, visibility)
