"""The repertoire's storage: one SQLite file through sqlite-utils.

:class:`Repertoire` is the one small interface the core talks to; it returns
dataclasses from :mod:`knowledge.models`, never rows. A PostgreSQL backend
would implement the same methods.

Durability: WAL journal with ``synchronous=NORMAL``. A committed transaction
survives a crash or SIGKILL of the process; after a power loss the last few
transactions may be rolled back, but the file is never corrupt.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from knowledge.directory import Directory
from knowledge.entry_listing import ORDER_SQL, EntryListings, filter_sql
from knowledge.migrations import migrate
from knowledge.models import (
    ChannelRef,
    Entry,
    EntryKind,
    Member,
    NewEntry,
    SourceKey,
    from_db_time,
    to_db_time,
)
from knowledge.sqlite.connection import SqliteBacked
from knowledge.storage.listing import EntryFilter, EntryOrder
from knowledge.storage.protocols import Storage
from knowledge.storage.viewer import Viewer
from knowledge.text import normalize_tag, title_from

_ENTRY_COLUMNS = (
    "e.id, e.kind, e.platform, e.workspace, e.channel, e.message_id, e.thread_id, e.title, "
    "e.text, e.author_id, e.created_at, e.updated_at, e.visibility, e.channel_name, "
    "e.permalink, e.accepted, e.knowhow_kind, "
    "coalesce(nullif(m.display_name, ''), nullif(m.handle, ''), m.user_id) AS author_name, "
    "(SELECT group_concat(tag, ' ') FROM entry_tags t WHERE t.entry_id = e.id) AS tag_list"
)
ENTRY_SELECT = f"SELECT {_ENTRY_COLUMNS} FROM entries e JOIN members m ON m.id = e.author_id"


#: How long an event id is remembered for de-duplication, and how often old ones go.
EVENT_ID_MEMORY = timedelta(days=7)
PRUNE_EVERY = 1_000


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) the SQLite file with copbot's pragmas, migrated."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # One connection, used from one thread at a time (the runtime's worker);
    # check_same_thread is off because that thread is not the one that opened it.
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db = Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    # 32 MiB of page cache (the default is 2 MiB): the B-tree and FTS pages a busy
    # community touches stay in memory; the search process stays well under 200 MB.
    db.execute("PRAGMA cache_size = -32768")
    migrate(db)
    return db


def row_to_entry(row: sqlite3.Row | tuple[Any, ...]) -> Entry:
    (
        entry_id,
        kind,
        platform,
        workspace,
        channel,
        message_id,
        thread_id,
        title,
        text,
        author_id,
        created_at,
        updated_at,
        visibility,
        channel_name,
        permalink,
        accepted,
        knowhow_kind,
        author_name,
        tag_list,
    ) = tuple(row)[:19]
    return Entry(
        id=entry_id,
        kind=EntryKind(kind),
        source=SourceKey(platform, workspace, channel, message_id),
        title=title,
        text=text,
        author_id=author_id,
        author_name=author_name or "",
        created_at=from_db_time(created_at),
        updated_at=from_db_time(updated_at),
        visibility=visibility,
        channel_name=channel_name,
        thread_id=thread_id,
        permalink=permalink,
        accepted=bool(accepted),
        knowhow_kind=knowhow_kind,
        tags=tuple(sorted(tag_list.split())) if tag_list else (),
    )


def visible_to(entry: Entry, viewer: ChannelRef | None) -> bool:
    """The visibility rule for one entry in Python (:func:`visibility_clause` is its SQL)."""
    return entry.visibility == "public" or entry.channel_ref == viewer


def visibility_clause(viewer: ChannelRef | None, alias: str = "e") -> tuple[str, list[Any]]:
    """SQL for the visibility rule: public entries, plus those from the viewer's own channel."""
    if viewer is None:
        return f"{alias}.visibility = 'public'", []
    return (
        f"({alias}.visibility = 'public' OR ({alias}.platform = ? AND {alias}.workspace = ? "
        f"AND {alias}.channel = ?))",
        [viewer.platform, viewer.workspace, viewer.channel],
    )


class Repertoire(SqliteBacked, Directory, EntryListings):
    """Entries, members, reactions and the search index of one community."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Channels change rarely and are written on every event: remember what is
        # stored (name, visibility, capture stopped) to skip no-op writes. Only
        # this object writes channels, so the cache cannot go stale in-process.
        self._channels: dict[tuple[str, str, str], tuple[str, str, bool]] = {}
        self._new_event_ids = 0
        #: Entry ids whose search document waits for :meth:`flush_reindex` (bulk mode).
        self._deferred: set[int] | None = None

    @classmethod
    def open(cls, path: str | Path) -> Repertoire:
        return cls(open_database(path))

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; nested uses join the outer one."""
        with self.db.atomic():
            yield

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.db.execute(sql, list(params)).fetchall())

    def _one(self, sql: str, params: Iterable[Any] = ()) -> tuple[Any, ...] | None:
        row = self.db.execute(sql, list(params)).fetchone()
        return tuple(row) if row is not None else None

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", [key])
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    # ------------------------------------------------------------------ events

    def mark_event_seen(self, platform: str, event_id: str, at: datetime) -> bool:
        """Record a platform event id; ``False`` when it was already seen (a retry).

        Retries and redeliveries come within minutes (Slack retries for about an
        hour at most), so every :data:`PRUNE_EVERY` new ids the ones older than
        :data:`EVENT_ID_MEMORY` are dropped: the table stays small, and a replay
        older than that is still caught by the message key.
        """
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO processed_events (platform, event_id, seen_at) VALUES (?, ?, ?)",
            [platform, event_id, to_db_time(at)],
        )
        if cursor.rowcount != 1:
            return False
        self._new_event_ids += 1
        if self._new_event_ids % PRUNE_EVERY == 0:
            self.db.execute(
                "DELETE FROM processed_events WHERE seen_at < ?",
                [to_db_time(at - EVENT_ID_MEMORY)],
            )
        return True

    # ------------------------------------------------------------------ members and channels

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
        row = self._one(
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
                self.db.execute(
                    "UPDATE members SET display_name = ?, handle = ? WHERE id = ?",
                    [display_name or old_name, handle or old_handle, member_id],
                )
            return int(member_id)
        cursor = self.db.execute(
            "INSERT INTO members (platform, workspace, user_id, handle, display_name, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [platform, workspace, user_id, handle, display_name, to_db_time(at or _now())],
        )
        return int(cursor.lastrowid or 0)

    def get_member(self, member_id: int) -> Member | None:
        row = self._one(
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
        rows = self._rows(
            select + "WHERE lower(user_id) = lower(?) OR lower(handle) = lower(?) "
            "OR lower(display_name) = lower(?)",
            [name, name, name],
        )
        if not rows and name.strip():
            rows = self._rows(select + "WHERE lower(display_name) LIKE lower(?)", [f"{name} %"])
        return [Member(*r) for r in rows]

    def upsert_channel(
        self, platform: str, workspace: str, channel: str, name: str, visibility: str
    ) -> None:
        key = (platform, workspace, channel)
        known = self._channels.get(key)
        if known is not None and known[1] == visibility and (not name or known[0] == name):
            return
        self._channels.pop(key, None)
        self.db.execute(
            "INSERT INTO channels (platform, workspace, channel, name, visibility) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
            "name = CASE WHEN excluded.name != '' THEN excluded.name ELSE channels.name END, "
            "visibility = excluded.visibility",
            [platform, workspace, channel, name, visibility],
        )

    def set_capture_stopped(self, ref: ChannelRef, stopped: bool) -> None:
        self._channels.pop((ref.platform, ref.workspace, ref.channel), None)
        self.db.execute(
            "UPDATE channels SET capture_stopped = ? WHERE platform = ? AND workspace = ? "
            "AND channel = ?",
            [int(stopped), ref.platform, ref.workspace, ref.channel],
        )

    def capture_stopped(self, ref: ChannelRef) -> bool:
        key = (ref.platform, ref.workspace, ref.channel)
        known = self._channels.get(key)
        if known is not None:
            return known[2]
        row = self._one(
            "SELECT name, visibility, capture_stopped FROM channels WHERE platform = ? "
            "AND workspace = ? AND channel = ?",
            [ref.platform, ref.workspace, ref.channel],
        )
        if row is None:
            return False
        self._channels[key] = (str(row[0]), str(row[1]), bool(row[2]))
        return bool(row[2])

    # ------------------------------------------------------------------ entries

    def save_entry(self, new: NewEntry) -> tuple[int, bool]:
        """Create the entry, or refresh it when its source key exists: ``(id, created)``.

        Idempotent on (platform, workspace, channel, message id, kind): retries,
        replays and re-imports never make a second entry.
        """
        src = new.source
        existing = self._one(
            "SELECT id FROM entries WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND kind = ?",
            [src.platform, src.workspace, src.channel, src.message_id, new.kind.value],
        )
        now = to_db_time(new.created_at)
        if existing is not None:
            entry_id = int(existing[0])
            self.db.execute(
                "UPDATE entries SET text = ?, title = CASE WHEN ? != '' THEN ? ELSE title END, "
                "permalink = CASE WHEN ? != '' THEN ? ELSE permalink END, "
                "knowhow_kind = CASE WHEN ? != '' THEN ? ELSE knowhow_kind END WHERE id = ?",
                [
                    new.text,
                    new.title,
                    new.title,
                    new.permalink,
                    new.permalink,
                    new.knowhow_kind,
                    new.knowhow_kind,
                    entry_id,
                ],
            )
            if new.tags:
                self._add_tags(entry_id, new.tags)
            self.reindex_thread_of(entry_id)
            return entry_id, False
        cursor = self.db.execute(
            "INSERT INTO entries (kind, platform, workspace, channel, message_id, thread_id, "
            "title, "
            "text, author_id, saved_by_id, created_at, updated_at, visibility, channel_name, "
            "permalink, knowhow_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                new.kind.value,
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                new.thread_id,
                new.title,
                new.text,
                new.author_id,
                new.saved_by_id,
                now,
                now,
                new.visibility,
                new.channel_name,
                new.permalink,
                new.knowhow_kind,
            ],
        )
        entry_id = int(cursor.lastrowid or 0)
        self._add_tags(entry_id, new.tags)
        self.reindex_thread_of(entry_id)
        return entry_id, True

    def _add_tags(self, entry_id: int, tags: Iterable[str]) -> None:
        for tag in tags:
            tag = normalize_tag(tag)
            if tag:
                self.db.execute(
                    "INSERT OR IGNORE INTO entry_tags (entry_id, tag) VALUES (?, ?)",
                    [entry_id, tag],
                )

    def set_tags(self, entry_id: int, tags: Iterable[str]) -> None:
        """Replace an entry's tags (curation)."""
        self.db.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry_id])
        self._add_tags(entry_id, tags)
        self.reindex_thread_of(entry_id)

    def get_entry(self, entry_id: int) -> Entry | None:
        row = self._one(f"{ENTRY_SELECT} WHERE e.id = ?", [entry_id])
        return row_to_entry(row) if row else None

    def entries_for_message(self, src: SourceKey) -> list[Entry]:
        """Every entry made from one chat message (a question may also be saved as know-how)."""
        rows = self._rows(
            f"{ENTRY_SELECT} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? ORDER BY e.id",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return [row_to_entry(r) for r in rows]

    def update_text(self, src: SourceKey, text: str, title: str, at: datetime) -> list[Entry]:
        """An edit in chat: every entry from that message takes the new text."""
        entries = self.entries_for_message(src)
        for entry in entries:
            # A title made from the old text follows the new text; one given on purpose
            # (a forum post's name, a know-how title) stays.
            derived = not entry.title or entry.title == title_from(entry.text)
            new_title = title if derived else entry.title
            self.db.execute(
                "UPDATE entries SET text = ?, title = ?, updated_at = ? WHERE id = ?",
                [text, new_title, to_db_time(at), entry.id],
            )
            self.reindex_thread_of(entry.id)
        return entries

    def set_title(self, entry_id: int, title: str) -> None:
        """Give an entry a title on purpose (a forum post renamed); later edits keep it."""
        self.db.execute("UPDATE entries SET title = ? WHERE id = ?", [title, entry_id])
        self.reindex_thread_of(entry_id)

    def delete_message(self, src: SourceKey) -> list[Entry]:
        """A delete in chat: its entries, their index rows and reactions go."""
        entries = self.entries_for_message(src)
        for entry in entries:
            self.db.execute("DELETE FROM search_fts WHERE rowid = ?", [entry.id])
            self.db.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry.id])
            self.db.execute("DELETE FROM entries WHERE id = ?", [entry.id])
            if entry.kind == EntryKind.ANSWER:
                root = self.thread_root(entry)
                if root is not None:
                    self.reindex(root.id)
        for table in ("reactions", "message_edits"):  # no trace of the text or its reactions
            self.db.execute(
                f"DELETE FROM {table} WHERE platform = ? AND workspace = ? AND channel = ? "
                "AND message_id = ?",
                [src.platform, src.workspace, src.channel, src.message_id],
            )
        return entries

    def relink_message(self, entry_id: int, message_id: str, permalink: str = "") -> None:
        """Point an entry at the chat message that now carries it (``/cop ask`` posts)."""
        self.db.execute(
            "UPDATE entries SET message_id = ?, "
            "permalink = CASE WHEN ? != '' THEN ? ELSE permalink END WHERE id = ?",
            [message_id, permalink, permalink, entry_id],
        )
        self.reindex_thread_of(entry_id)

    def thread_root(self, entry: Entry) -> Entry | None:
        """The question (or know-how) whose thread this answer is in."""
        if entry.thread_id is None:
            return None
        row = self._one(
            f"{ENTRY_SELECT} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? AND e.kind IN ('question', 'knowhow') ORDER BY e.kind DESC",
            [entry.source.platform, entry.source.workspace, entry.source.channel, entry.thread_id],
        )
        return row_to_entry(row) if row else None

    def question_for_thread(self, ref: ChannelRef, thread_id: str) -> Entry | None:
        row = self._one(
            f"{ENTRY_SELECT} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? AND e.kind = 'question'",
            [ref.platform, ref.workspace, ref.channel, thread_id],
        )
        return row_to_entry(row) if row else None

    def answers_for(self, question: Entry) -> list[Entry]:
        """Answers in the question's thread: accepted first, then oldest first."""
        rows = self._rows(
            f"{ENTRY_SELECT} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.thread_id = ? AND e.kind = 'answer' ORDER BY e.accepted DESC, e.created_at",
            [
                question.source.platform,
                question.source.workspace,
                question.source.channel,
                question.source.message_id,
            ],
        )
        return [row_to_entry(r) for r in rows]

    def set_accepted(self, entry_id: int, accepted: bool) -> bool:
        """Mark or unmark an answer as accepted; ``True`` when that changed anything."""
        cursor = self.db.execute(
            "UPDATE entries SET accepted = ? WHERE id = ? AND kind = 'answer' AND accepted != ?",
            [int(accepted), entry_id, int(accepted)],
        )
        if cursor.rowcount:
            self.reindex_thread_of(entry_id)
        return bool(cursor.rowcount)

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
        self.db.execute(
            "INSERT INTO reactions (platform, workspace, channel, message_id, user_id, emoji, "
            "created_at, present) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id, user_id, emoji) DO UPDATE "
            "SET present = excluded.present, created_at = excluded.created_at "
            "WHERE excluded.created_at > reactions.created_at "
            "OR (excluded.created_at = reactions.created_at AND excluded.present = 0)",
            [
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                user_id,
                emoji,
                to_db_time(at),
                int(added),
            ],
        )

    # ------------------------------------------------------------------ event order

    def add_tombstone(self, src: SourceKey, at: datetime) -> None:
        """Remember a deleted message so a late create or reaction cannot revive it."""
        self.db.execute(
            "INSERT OR IGNORE INTO message_tombstones (platform, workspace, channel, message_id, "
            "deleted_at) VALUES (?, ?, ?, ?, ?)",
            [src.platform, src.workspace, src.channel, src.message_id, to_db_time(at)],
        )

    def is_tombstoned(self, src: SourceKey) -> bool:
        return (
            self._one(
                "SELECT 1 FROM message_tombstones WHERE platform = ? AND workspace = ? "
                "AND channel = ? AND message_id = ?",
                [src.platform, src.workspace, src.channel, src.message_id],
            )
            is not None
        )

    def record_edit(self, src: SourceKey, text: str, at: datetime) -> bool:
        """Keep the newest edit of a message; ``False`` when a newer one is already known."""
        cursor = self.db.execute(
            "INSERT INTO message_edits (platform, workspace, channel, message_id, text, "
            "edited_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE "
            "SET text = excluded.text, edited_at = excluded.edited_at "
            "WHERE excluded.edited_at >= message_edits.edited_at",
            [src.platform, src.workspace, src.channel, src.message_id, text, to_db_time(at)],
        )
        return cursor.rowcount == 1

    def latest_edit(self, src: SourceKey) -> tuple[str, datetime] | None:
        row = self._one(
            "SELECT text, edited_at FROM message_edits WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ?",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return (str(row[0]), from_db_time(row[1])) if row else None

    def advance_read_mark(self, src: SourceKey, at: datetime) -> None:
        """Note that the channel was read up to this message (never moves backwards)."""
        self.db.execute(
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
        rows = self._rows(
            "SELECT workspace, channel, last_message_at, last_message_id FROM read_marks "
            "WHERE platform = ?",
            [platform],
        )
        return {
            ChannelRef(platform, str(ws), str(ch)): (from_db_time(at), str(mid))
            for ws, ch, at, mid in rows
        }

    def reactors(self, src: SourceKey, emoji: str) -> set[str]:
        rows = self._rows(
            "SELECT user_id FROM reactions WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND emoji = ? AND present = 1",
            [src.platform, src.workspace, src.channel, src.message_id, emoji],
        )
        return {str(r[0]) for r in rows}

    # ------------------------------------------------------------------ search index

    def reindex_thread_of(self, entry_id: int) -> None:
        """Refresh the search document of the entry or of the question it answers."""
        if self._deferred is not None:
            self._deferred.add(entry_id)
            return
        row = self._one(
            "SELECT kind, platform, workspace, channel, thread_id FROM entries WHERE id = ?",
            [entry_id],
        )
        if row is None:
            return
        kind, platform, workspace, channel, thread_id = row
        if kind != EntryKind.ANSWER:
            self.reindex(entry_id)
            return
        root = self._one(
            "SELECT id FROM entries WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND kind IN ('question', 'knowhow') ORDER BY kind DESC",
            [platform, workspace, channel, thread_id],
        )
        if root is not None:
            self.reindex(int(root[0]))

    def reindex(self, entry_id: int) -> None:
        """Rebuild one search document: title, body, answers and tags of a question or know-how.

        The hot path of capture: plain column reads, no :class:`Entry` building.
        """
        self.db.execute("DELETE FROM search_fts WHERE rowid = ?", [entry_id])
        row = self._one(
            "SELECT kind, title, text, platform, workspace, channel, message_id, "
            "(SELECT group_concat(tag, ' ') FROM (SELECT tag FROM entry_tags "
            "WHERE entry_id = entries.id ORDER BY tag)) FROM entries WHERE id = ?",
            [entry_id],
        )
        if row is None or row[0] == EntryKind.ANSWER:
            return
        kind, title, body, platform, workspace, channel, message_id, tags = row
        answers: list[tuple[str, int]] = []
        if kind == EntryKind.QUESTION:
            answers = [
                (str(r[0]), int(r[1]))
                for r in self._rows(
                    "SELECT text, accepted FROM entries WHERE platform = ? AND workspace = ? "
                    "AND channel = ? AND thread_id = ? AND kind = 'answer' "
                    "ORDER BY accepted DESC, created_at",
                    [platform, workspace, channel, message_id],
                )
            ]
        linked: list[Entry] = []
        if kind == EntryKind.QUESTION:
            # "Solved it" on a suggestion (knowledge/similar_schema.py): the older
            # entry's answer counts as this question's accepted answer.
            linked = self.linked_answers(entry_id)
            answers += [(a.text, 1) for a in linked]
        self.db.execute(
            "UPDATE entries SET answer_count = ?, has_accepted = ? WHERE id = ?",
            [len(answers), int(any(accepted for _, accepted in answers) or bool(linked)), entry_id],
        )
        if title and body.startswith(title):
            body = body[len(title) :]
        self.db.execute(
            "INSERT INTO search_fts (rowid, title, body, answers, tags) VALUES (?, ?, ?, ?, ?)",
            [entry_id, title, body, "\n".join(text for text, _ in answers), tags or ""],
        )

    # ------------------------------------------------------------------ bulk mode

    @contextmanager
    def deferred_reindex(self) -> Iterator[None]:
        """Bulk mode: search documents are rebuilt by :meth:`flush_reindex`, not per write.

        Inside the block, writes that would rebuild a question's search document
        (a new answer, an edit, an acceptance) only note the entry; the caller
        calls :meth:`flush_reindex` before each commit, so every committed
        transaction still has an index in step with its entries. Searches inside
        the block (before a flush) may not see the newest writes. Leaving the
        block flushes what is left. Used by history imports; live capture never is.
        """
        outer = self._deferred is not None
        if not outer:
            self._deferred = set()
        try:
            yield
            if not outer:
                self.flush_reindex()
        finally:
            if not outer:
                self._deferred = None

    def flush_reindex(self) -> int:
        """Rebuild the search documents of what bulk mode noted, each once; how many."""
        if not self._deferred:
            return 0
        touched, self._deferred = self._deferred, set()
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _touched (id INTEGER PRIMARY KEY)")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _roots (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM _touched")
        db.execute("DELETE FROM _roots")
        db.conn.executemany("INSERT INTO _touched (id) VALUES (?)", [(i,) for i in touched])
        # The entry itself when it is a question or know-how; its thread's root when an answer.
        db.execute(
            "INSERT OR IGNORE INTO _roots (id) SELECT e.id FROM _touched t "
            "JOIN entries e ON e.id = t.id WHERE e.kind != 'answer'"
        )
        db.execute(
            "INSERT OR IGNORE INTO _roots (id) SELECT r.id FROM _touched t "
            "JOIN entries a ON a.id = t.id AND a.kind = 'answer' "
            "JOIN entries r ON r.platform = a.platform AND r.workspace = a.workspace "
            "AND r.channel = a.channel AND r.message_id = a.thread_id "
            "AND r.kind IN ('question', 'knowhow')"
        )
        db.execute("DELETE FROM search_fts WHERE rowid IN (SELECT id FROM _touched)")
        # Each root once per batch, through reindex() itself: the same document as live
        # capture builds (answers, tags, linked answers, counts), whatever it comes to hold.
        for (root_id,) in db.execute("SELECT id FROM _roots ORDER BY id").fetchall():
            self.reindex(int(root_id))
        count = self._one("SELECT count(*) FROM _roots")
        return int(count[0]) if count else 0

    def linked_answers(self, question_id: int) -> list[Entry]:
        """The answer (or know-how) of the entry a member said solved this question."""
        row = self._one("SELECT entry_id FROM similar_links WHERE question_id = ?", [question_id])
        target = self.get_entry(int(row[0])) if row else None
        if target is None or target.id == question_id:
            return []
        if target.kind == EntryKind.QUESTION:
            return self.answers_for(target)[:1]
        return [target]

    # ------------------------------------------------------------------ listings

    def entries(
        self,
        viewer: Viewer,
        wanted: EntryFilter | None = None,
        *,
        order: EntryOrder = "newest",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Entry]:
        """The entries ``viewer`` may see that meet ``wanted``: the one generic listing."""
        conditions, params = self._listing(viewer, wanted)
        rows = self._rows(
            f"{ENTRY_SELECT} WHERE {' AND '.join(conditions)} ORDER BY {ORDER_SQL[order]} "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [row_to_entry(r) for r in rows]

    def count_entries(self, viewer: Viewer, wanted: EntryFilter | None = None) -> int:
        """How many entries ``viewer`` may see meet ``wanted``."""
        conditions, params = self._listing(viewer, wanted)
        row = self._one(f"SELECT count(*) FROM entries e WHERE {' AND '.join(conditions)}", params)
        return int(row[0]) if row else 0

    @staticmethod
    def _listing(viewer: Viewer, wanted: EntryFilter | None) -> tuple[list[str], list[Any]]:
        conditions, params = filter_sql(wanted or EntryFilter())
        if not viewer.includes_private:
            visible, visible_params = visibility_clause(viewer.channel)
            conditions, params = [visible, *conditions], [*visible_params, *params]
        return conditions or ["1 = 1"], params


def _now() -> datetime:
    return datetime.now(UTC)


def _conforms(repertoire: Repertoire) -> Storage:
    """mypy checks here that the SQLite repertoire is the whole storage interface."""
    return repertoire
