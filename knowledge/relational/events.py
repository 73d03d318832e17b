"""Event order: which platform events were seen, deleted messages, edits and read marks.

Events arrive late, twice and out of order (retries, redeliveries, a catch-up
after a restart). These tables let capture decide from what it has already
seen: a retried event is dropped, a deleted message stays deleted, the newest
edit wins, and a restart knows where each channel was read up to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from knowledge.models import ChannelRef, SourceKey, from_db_time, to_db_time
from knowledge.relational.base import RelationalBase

__all__ = ["EVENT_ID_MEMORY", "PRUNE_EVERY", "EventOrderSql"]

#: How long an event id is remembered for de-duplication, and how often old ones go.
EVENT_ID_MEMORY = timedelta(days=7)
PRUNE_EVERY = 1_000


class EventOrderSql(RelationalBase):
    """Seen event ids, tombstones, the newest edit of each message, and read marks."""

    #: New event ids recorded by this connection (every :data:`PRUNE_EVERY`, old ones go).
    _new_event_ids = 0

    def mark_event_seen(self, platform: str, event_id: str, at: datetime) -> bool:
        """Record a platform event id; ``False`` when it was already seen (a retry).

        Retries and redeliveries come within minutes (Slack retries for about an
        hour at most), so every :data:`PRUNE_EVERY` new ids the ones older than
        :data:`EVENT_ID_MEMORY` are dropped: the table stays small, and a replay
        older than that is still caught by the message key.
        """
        inserted = self.sql.execute(
            "INSERT INTO processed_events (platform, event_id, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [platform, event_id, to_db_time(at)],
        )
        if inserted != 1:
            return False
        self._new_event_ids += 1
        if self._new_event_ids % PRUNE_EVERY == 0:
            self.sql.execute(
                "DELETE FROM processed_events WHERE seen_at < ?",
                [to_db_time(at - EVENT_ID_MEMORY)],
            )
        return True

    def add_tombstone(self, src: SourceKey, at: datetime) -> None:
        """Remember a deleted message so a late create or reaction cannot revive it."""
        self.lock_message(src)
        self.sql.execute(
            "INSERT INTO message_tombstones (platform, workspace, channel, message_id, "
            "deleted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [src.platform, src.workspace, src.channel, src.message_id, to_db_time(at)],
        )

    def is_tombstoned(self, src: SourceKey) -> bool:
        """Whether ``src`` was deleted; from here to the commit no other process may delete it."""
        self.lock_message(src)
        return (
            self.sql.one(
                "SELECT 1 FROM message_tombstones WHERE platform = ? AND workspace = ? "
                "AND channel = ? AND message_id = ?",
                [src.platform, src.workspace, src.channel, src.message_id],
            )
            is not None
        )

    def record_edit(self, src: SourceKey, text: str, at: datetime, author: str = "") -> bool:
        """Keep the newest edit of a message; ``False`` when a newer one is already known.

        ``author`` (the editor's platform user id) lets forgetting a member find it.
        """
        self.lock_message(src)
        changed = self.sql.execute(
            "INSERT INTO message_edits (platform, workspace, channel, message_id, text, "
            "edited_at, author) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE "
            "SET text = excluded.text, edited_at = excluded.edited_at, "
            "author = CASE WHEN excluded.author != '' THEN excluded.author "
            "ELSE message_edits.author END "
            "WHERE excluded.edited_at >= message_edits.edited_at",
            [
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                text,
                to_db_time(at),
                author,
            ],
        )
        return changed == 1

    def latest_edit(self, src: SourceKey) -> tuple[str, datetime] | None:
        row = self.sql.one(
            "SELECT text, edited_at FROM message_edits WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ?",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return (str(row[0]), from_db_time(row[1])) if row else None

    def advance_read_mark(self, src: SourceKey, at: datetime) -> None:
        """Note that the channel was read up to this message (never moves backwards)."""
        self.sql.execute(
            "INSERT INTO read_marks (platform, workspace, channel, last_message_at, "
            "last_message_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
            "last_message_at = excluded.last_message_at, "
            "last_message_id = excluded.last_message_id "
            "WHERE excluded.last_message_at > read_marks.last_message_at",
            [src.platform, src.workspace, src.channel, to_db_time(at), src.message_id],
        )

    def read_marks(self, platform: str) -> dict[ChannelRef, tuple[datetime, str]]:
        """Per channel of ``platform``: the newest message seen, to catch up from on restart."""
        rows = self.sql.rows(
            "SELECT workspace, channel, last_message_at, last_message_id FROM read_marks "
            "WHERE platform = ?",
            [platform],
        )
        return {
            ChannelRef(platform, str(ws), str(ch)): (from_db_time(at), str(mid))
            for ws, ch, at, mid in rows
        }
