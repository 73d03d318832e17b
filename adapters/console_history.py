"""The terminal chat's history, read back for the shared catch-up (:mod:`adapters.catchup`).

The transcript is the console's chat server: what was said (and reacted)
while copbot was not running, by another console or a script writing to the
same file, is read back when the chat starts, page by page and oldest first,
exactly as Slack's and Discord's histories are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.catchup import Page, ReadMessage
from adapters.console_output import permalink
from bot.events import Actor, IncomingMessage, ReactionChange, Where
from bot.read_marks import Mark
from knowledge.models import ChannelRef

if TYPE_CHECKING:
    from adapters.console_transcript import Transcript

#: Messages per page: small, as the chat server is local.
PAGE_SIZE = 50

_REACTIONS = (
    "CREATE TABLE IF NOT EXISTS console_reactions (message_id TEXT NOT NULL, "
    "user_id TEXT NOT NULL, emoji TEXT NOT NULL, PRIMARY KEY (message_id, user_id, emoji))"
)
_COLUMNS = "message_id, channel, author, text, created_at, thread_id, seq"


def record_reaction(
    transcript: Transcript, message_id: str, user_id: str, emoji: str, added: bool
) -> None:
    """Keep a reaction in the transcript, as a chat server keeps the reactions on a message."""
    transcript.db.execute(_REACTIONS)
    if added:
        transcript.db.execute(
            "INSERT OR IGNORE INTO console_reactions VALUES (?, ?, ?)", [message_id, user_id, emoji]
        )
    else:
        transcript.db.execute(
            "DELETE FROM console_reactions WHERE message_id = ? AND user_id = ? AND emoji = ?",
            [message_id, user_id, emoji],
        )
    transcript.db.conn.commit()


class ConsoleHistory:
    """A ``HistoryReader`` over the console's transcript."""

    platform = "console"

    def __init__(
        self,
        transcript: Transcript,
        where_of: Callable[[str], Where],
        author: Callable[[str], Actor],
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.transcript = transcript
        self.where_of = where_of
        self.author = author
        self.page_size = page_size
        transcript.db.execute(_REACTIONS)

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.transcript.db.execute(sql, list(params)).fetchall()]

    def _seq(self, mark: Mark) -> int:
        """The transcript position of a read mark's message (by time when it is gone)."""
        found = self._rows("SELECT seq FROM console_messages WHERE message_id = ?", [mark[1]])
        if found:
            return int(found[0][0])
        before = self._rows(
            "SELECT coalesce(max(seq), 0) FROM console_messages WHERE created_at <= ?",
            [mark[0].isoformat()],
        )
        return int(before[0][0])

    async def channel_pages(self, ref: ChannelRef, after: Mark) -> AsyncIterator[Page]:
        last = seq = self._seq(after)
        while True:
            rows = self._rows(
                f"SELECT {_COLUMNS} FROM console_messages WHERE channel = ? "
                "AND thread_id IS NULL AND seq > ? ORDER BY seq LIMIT ?",
                [ref.channel, last, self.page_size],
            )
            if not rows:
                return
            yield [self._read(row, seq, after) for row in rows]
            last = int(rows[-1][6])
            if len(rows) < self.page_size:
                return

    async def thread_pages(
        self, ref: ChannelRef, thread_id: str, after: Mark
    ) -> AsyncIterator[Page]:
        mark_seq, last = self._seq(after), 0
        while True:
            rows = self._rows(
                f"SELECT {_COLUMNS} FROM console_messages WHERE channel = ? "
                "AND (message_id = ? OR thread_id = ?) AND seq > ? ORDER BY seq LIMIT ?",
                [ref.channel, thread_id, thread_id, last, self.page_size],
            )
            if not rows:
                return
            yield [self._read(row, mark_seq, after) for row in rows]
            last = int(rows[-1][6])
            if len(rows) < self.page_size:
                return

    async def moved_threads(self, ref: ChannelRef, after: Mark) -> set[str]:
        rows = self._rows(
            "SELECT DISTINCT thread_id FROM console_messages WHERE channel = ? "
            "AND thread_id IS NOT NULL AND seq > ?",
            [ref.channel, self._seq(after)],
        )
        return {str(row[0]) for row in rows}

    def _read(self, row: tuple[Any, ...], mark_seq: int, mark: Mark) -> ReadMessage:
        """A transcript row; new when written after the mark (a seeded sample, written in
        another order than its times, is not)."""
        message_id, channel, author, text, created_at, thread_id, seq = row
        where = self.where_of(str(channel))
        at = datetime.fromisoformat(str(created_at))
        event = IncomingMessage(
            where,
            self.author(str(author)),
            str(message_id),
            str(text),
            at,
            thread_id=str(thread_id) if thread_id else None,
            permalink=permalink(str(message_id)),
        )
        read_at = datetime.now(UTC)  # before its reactions are read: ``ReadMessage.read_at``
        reactions = tuple(
            ReactionChange(where, str(message_id), self.author(str(user)), str(emoji), at=read_at)
            for user, emoji in self._rows(
                "SELECT user_id, emoji FROM console_reactions WHERE message_id = ? ORDER BY rowid",
                [message_id],
            )
        )
        opens = not thread_id and bool(
            self._rows("SELECT 1 FROM console_messages WHERE thread_id = ? LIMIT 1", [message_id])
        )
        return ReadMessage(
            message_id=str(message_id),
            at=at,
            event=event,
            read_at=read_at,
            new=int(seq) > mark_seq and at > mark[0],
            reactions=reactions,
            opens_thread=opens,
        )
