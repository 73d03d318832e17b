"""The terminal chat's transcript: what was said, as a chat server would keep it.

The console has no chat server behind it, so it keeps messages, threads and
the members and channels it made up in two small tables of its own, in the
same SQLite file as the repertoire (threads and saves work across runs). This
is the adapter's own store, not the repertoire: copbot's storage interface is
never reached this way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from knowledge.backends import DatabaseTarget

__all__ = ["CONSOLE_FILE_PREFIX", "ChatMessage", "Transcript", "transcript_file"]

#: The start of the transcript's own file's name when the repertoire is on a server.
CONSOLE_FILE_PREFIX = "console-"


def transcript_file(database: DatabaseTarget) -> Path:
    """Where the transcript lives: in the repertoire's SQLite file, or, when the repertoire
    is on a server (which is the repertoire's, not the terminal's), in a file of its own in
    the repertoire's local folder, named after the server and database.

    Not a file in the current folder: ``copbot forget`` run from any folder, with the
    URL spelled any way, must find and clean the same transcript, and two communities on
    two servers must not share one. That folder (the user's cache) and the file are made
    the user's alone: the transcript holds what was said in private channels.
    """
    if database.sqlite_path is not None:
        return database.sqlite_path
    folder = database.local_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # it may have been made before, by another part, with wider rights
    server = hashlib.sha256(database.identity.encode("utf-8")).hexdigest()[:16]
    path = folder / f"{CONSOLE_FILE_PREFIX}{server}.db"
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)  # SQLite makes its journal files with the database file's rights
    return path


@dataclass(frozen=True)
class ChatMessage:
    message_id: str
    channel: str
    author: str
    text: str
    created_at: datetime
    thread_id: str | None


class Transcript:
    """What was said in the console, as a chat server would keep it."""

    @staticmethod
    def exists_in(path: str | Path) -> bool:
        """Whether the file holds a console transcript (without making one)."""
        if not Path(path).is_file():
            return False
        db = Database(path)
        try:
            return db["console_messages"].exists()
        finally:
            db.conn.close()

    def __init__(self, path: str | Path) -> None:
        self.db = Database(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS console_messages (message_id TEXT PRIMARY KEY, "
            "channel TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, "
            "created_at TEXT NOT NULL, thread_id TEXT, seq INTEGER NOT NULL)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS console_places (kind TEXT NOT NULL, id TEXT NOT NULL, "
            "name TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '', PRIMARY KEY (kind, id))"
        )

    def add(self, message: ChatMessage) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO console_messages VALUES (?, ?, ?, ?, ?, ?, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM console_messages))",
            [
                message.message_id,
                message.channel,
                message.author,
                message.text,
                message.created_at.isoformat(),
                message.thread_id,
            ],
        )
        self.db.conn.commit()

    def write(
        self, channel: str, author: str, text: str, thread_id: str | None = None
    ) -> ChatMessage:
        """Keep a new message said now; it gets the next id."""
        message = ChatMessage(self.next_id(), channel, author, text, datetime.now(UTC), thread_id)
        self.add(message)
        return message

    def next_id(self) -> str:
        row = self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM console_messages").fetchone()
        return f"m{row[0]}"

    def get(self, message_id: str) -> ChatMessage | None:
        row = self.db.execute(
            "SELECT message_id, channel, author, text, created_at, thread_id "
            "FROM console_messages WHERE message_id = ?",
            [message_id],
        ).fetchone()
        return _to_message(row) if row else None

    def edit(self, message_id: str, text: str) -> None:
        self.db.execute(
            "UPDATE console_messages SET text = ? WHERE message_id = ?", [text, message_id]
        )
        self.db.conn.commit()

    def delete(self, message_id: str) -> None:
        self.db.execute("DELETE FROM console_messages WHERE message_id = ?", [message_id])
        self.db.conn.commit()

    def recent(self, channel: str, limit: int) -> list[ChatMessage]:
        rows = self.db.execute(
            "SELECT message_id, channel, author, text, created_at, thread_id FROM console_messages "
            "WHERE channel = ? AND thread_id IS NULL ORDER BY created_at DESC, seq DESC LIMIT ?",
            [channel, limit],
        ).fetchall()
        return [_to_message(r) for r in reversed(rows)]

    def thread(self, root_id: str) -> list[ChatMessage]:
        rows = self.db.execute(
            "SELECT message_id, channel, author, text, created_at, thread_id FROM console_messages "
            "WHERE message_id = ? OR thread_id = ? ORDER BY created_at, seq",
            [root_id, root_id],
        ).fetchall()
        return [_to_message(r) for r in rows]

    def remember_place(self, kind: str, ident: str, name: str, extra: str = "") -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO console_places VALUES (?, ?, ?, ?)", [kind, ident, name, extra]
        )
        self.db.conn.commit()

    def places(self, kind: str) -> list[tuple[str, str, str]]:
        rows = self.db.execute(
            "SELECT id, name, extra FROM console_places WHERE kind = ? ORDER BY rowid", [kind]
        ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def forget(self, user_id: str, name: str, message_ids: Iterable[str]) -> int:
        """Forget a member here too: what they said, copbot's posts of it, their name.

        Their messages and the messages that carried their entries (a ``/cop
        ask`` question is posted by copbot) go; where another message names
        them, the name becomes "a forgotten member". How many rows changed.
        """
        # Deleted rows are overwritten, not left in free pages: when the repertoire is on a
        # server this file is not vacuumed by the repertoire's forget.
        self.db.execute("PRAGMA secure_delete = ON")
        changed = 0
        for message_id in message_ids:
            changed += self.db.execute(
                "DELETE FROM console_messages WHERE message_id = ?", [message_id]
            ).rowcount
        changed += self.db.execute(
            "DELETE FROM console_messages WHERE author = ?", [user_id]
        ).rowcount
        changed += self.db.execute(
            "DELETE FROM console_places WHERE kind = 'member' AND id = ?", [user_id]
        ).rowcount
        if self.db["console_reactions"].exists():
            # Their reactions, and any reaction left on a message that just went.
            changed += self.db.execute(
                "DELETE FROM console_reactions WHERE user_id = ? OR message_id NOT IN "
                "(SELECT message_id FROM console_messages)",
                [user_id],
            ).rowcount
        if len(name.strip()) >= 3:
            pattern = re.compile(re.escape(name.strip()), re.IGNORECASE)
            rows = self.db.execute(
                "SELECT message_id, text FROM console_messages WHERE instr(lower(text), ?) > 0",
                [name.strip().lower()],
            ).fetchall()
            for message_id, text in rows:
                self.db.execute(
                    "UPDATE console_messages SET text = ? WHERE message_id = ?",
                    [pattern.sub("a forgotten member", str(text)), message_id],
                )
                changed += 1
        self.db.conn.commit()
        return changed

    def close(self) -> None:
        self.db.conn.close()


def _to_message(row: Iterable[object]) -> ChatMessage:
    message_id, channel, author, text, created_at, thread_id = tuple(row)
    return ChatMessage(
        str(message_id),
        str(channel),
        str(author),
        str(text),
        datetime.fromisoformat(str(created_at)),
        str(thread_id) if thread_id is not None else None,
    )
