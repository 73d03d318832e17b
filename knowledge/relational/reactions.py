"""Reactions by message key, and acceptance of an answer (often said with a reaction).

A reaction may arrive before its message, twice, or swapped with its removal;
the last event in time wins and a deleted message takes none.
"""

from __future__ import annotations

from datetime import datetime

from knowledge.models import SourceKey, to_db_time
from knowledge.relational.events import EventOrderSql

__all__ = ["ReactionsSql"]


class ReactionsSql(EventOrderSql):
    """Who reacted with what, and which answer is accepted."""

    def set_accepted(self, entry_id: int, accepted: bool) -> bool:
        """Mark or unmark an answer as accepted; ``True`` when that changed anything."""
        changed = self.sql.execute(
            "UPDATE entries SET accepted = ? WHERE id = ? AND kind = 'answer' AND accepted != ?",
            [accepted, entry_id, accepted],
        )
        if changed:
            self.reindex_thread_of(entry_id)
        return bool(changed)

    # ------------------------------------------------------------------ reactions

    def set_reaction(
        self, src: SourceKey, user_id: str, emoji: str, added: bool, at: datetime
    ) -> None:
        """Keep a reaction by message key, last writer (by event time) wins.

        A reaction that comes before its message still counts; an add and a
        remove that arrive swapped end as the later one says (at equal times
        the removal wins, as it would have come second); a reaction on a
        deleted message is dropped.
        """
        if self.is_tombstoned(src):
            return
        self.sql.execute(
            "INSERT INTO reactions (platform, workspace, channel, message_id, user_id, emoji, "
            "created_at, present) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id, user_id, emoji) DO UPDATE "
            "SET present = excluded.present, created_at = excluded.created_at "
            "WHERE excluded.created_at > reactions.created_at "
            "OR (excluded.created_at = reactions.created_at AND excluded.present = FALSE)",
            [
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                user_id,
                emoji,
                to_db_time(at),
                added,
            ],
        )

    def reactors(self, src: SourceKey, emoji: str) -> set[str]:
        rows = self.sql.rows(
            "SELECT user_id FROM reactions WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND emoji = ? AND present = TRUE",
            [src.platform, src.workspace, src.channel, src.message_id, emoji],
        )
        return {str(r[0]) for r in rows}

    def reactions_on(self, src: SourceKey) -> set[tuple[str, str]]:
        rows = self.sql.rows(
            "SELECT user_id, emoji FROM reactions WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ? AND present = TRUE",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return {(str(r[0]), str(r[1])) for r in rows}
