"""Members and channels as events name them: created on first sight, kept up to date.

Every message names its author and its channel; capture records both before
the entry. A name that changed is refreshed; a channel's visibility changes
only as :meth:`~knowledge.channels.ChannelBook.claim` allows, and the search
documents that borrow an answer from it follow.
"""

from __future__ import annotations

from datetime import UTC, datetime

from knowledge.models import ChannelRef, Member, to_db_time
from knowledge.relational.base import RelationalBase

__all__ = ["MembersSql"]


class MembersSql(RelationalBase):
    """Members by platform identity, and what events say of channels."""

    def upsert_member(
        self,
        platform: str,
        workspace: str,
        user_id: str,
        display_name: str = "",
        handle: str = "",
        at: datetime | None = None,
        *,
        refresh: bool = True,
    ) -> int:
        """The member's id, creating the member or (``refresh``) updating a name that changed."""
        row = self.sql.one(
            "SELECT id, display_name, handle FROM members "
            "WHERE platform = ? AND workspace = ? AND user_id = ?",
            [platform, workspace, user_id],
        )
        if row is not None:
            member_id, old_name, old_handle = row
            changed = (display_name and display_name != old_name) or (
                handle and handle != old_handle
            )
            if refresh and changed:
                self.sql.execute(
                    "UPDATE members SET display_name = ?, handle = ? WHERE id = ?",
                    [display_name or old_name, handle or old_handle, member_id],
                )
            return int(member_id)
        # Another process may add the same member at the same moment: the key decides.
        new_id = self.sql.insert_new(
            "INSERT INTO members (platform, workspace, user_id, handle, display_name, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, user_id) DO NOTHING",
            [platform, workspace, user_id, handle, display_name, to_db_time(at or _now())],
        )
        if new_id is not None:
            return new_id
        return self.upsert_member(
            platform, workspace, user_id, display_name, handle, at, refresh=refresh
        )

    def get_member(self, member_id: int) -> Member | None:
        row = self.sql.one(
            "SELECT id, platform, workspace, user_id, "
            "coalesce(nullif(display_name, ''), nullif(handle, ''), user_id) "
            "FROM members WHERE id = ?",
            [member_id],
        )
        return Member(*row) if row else None

    def find_members(self, name: str) -> list[Member]:
        """Members whose user id, handle or display name is ``name`` (case-insensitive).

        When nobody matches exactly, members whose display name starts with
        ``name`` as a word ("chen" finds "Chen Wei").
        """
        select = (
            "SELECT id, platform, workspace, user_id, "
            "coalesce(nullif(display_name, ''), nullif(handle, ''), user_id) FROM members "
        )
        rows = self.sql.rows(
            select + "WHERE lower(user_id) = lower(?) OR lower(handle) = lower(?) "
            "OR lower(display_name) = lower(?)",
            [name, name, name],
        )
        if not rows and name.strip():
            rows = self.sql.rows(select + "WHERE lower(display_name) LIKE lower(?)", [f"{name} %"])
        return [Member(*r) for r in rows]

    def upsert_channel(
        self,
        platform: str,
        workspace: str,
        channel: str,
        name: str,
        visibility: str,
        *,
        at: datetime | None = None,
        authoritative: bool = True,
    ) -> bool:
        """Record what an event says of a channel (:meth:`ChannelBook.claim`'s rule).

        When the channel's visibility changes, its entries follow in the same
        statement (triggers), and so do the search documents that borrow an
        answer from it. ``True`` when the visibility changed.
        """
        ref = ChannelRef(platform, workspace, channel)
        changed = self.channels.claim(ref, name, visibility, at=at, authoritative=authoritative)
        if changed:
            self.reindex_linking_channel(ref)
        return changed

    def set_capture_stopped(self, ref: ChannelRef, stopped: bool) -> None:
        self.channels.set_capture_stopped(ref, stopped)

    def capture_stopped(self, ref: ChannelRef) -> bool:
        return self.channels.capture_stopped(ref)


def _now() -> datetime:
    return datetime.now(UTC)
