"""Writing entries: capture, edits, titles, tags and deletes, each keeping the index true.

Idempotent on the message key: retries, replays and re-imports never make a
second entry. Every change rebuilds the search documents it touches (through
the backend's hooks), including those of questions that borrow the text
through a "solved it" link.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from knowledge.models import ChannelRef, Entry, EntryKind, NewEntry, SourceKey, to_db_time
from knowledge.relational.threads import EntryReadsSql
from knowledge.text import normalize_tag, title_from

__all__ = ["EntryWritesSql"]


class EntryWritesSql(EntryReadsSql):
    """Create, refresh, retitle, retag, relink and delete entries."""

    def save_entry(self, new: NewEntry) -> tuple[int, bool]:
        """Create the entry, or refresh it when its source key exists: ``(id, created)``.

        Idempotent on (platform, workspace, channel, message id, kind): retries,
        replays and re-imports never make a second entry.
        """
        src = new.source
        existing = self._entry_id_for(new)
        if existing is not None:
            self._refresh_entry(existing, new)
            return existing, False
        # Its channel has a row (unknown means private: the entry's own visibility
        # is the best claim there is); the entry then takes the channel's visibility.
        self.channels.ensure(
            ChannelRef(src.platform, src.workspace, src.channel), new.channel_name, new.visibility
        )
        if new.kind in (EntryKind.QUESTION, EntryKind.ANSWER):
            # A question and an answer to it, said at once, are two messages: both take
            # the question's turn, so the one saved second sees the first (the question
            # counts the answer, the answer's words join the question's document),
            # whichever process saved either.
            thread = new.thread_id if new.kind == EntryKind.ANSWER else None
            self.lock_message(
                SourceKey(src.platform, src.workspace, src.channel, thread or src.message_id)
            )
        now = to_db_time(new.created_at)
        # ON CONFLICT: another process capturing the same message (a retry sent
        # elsewhere, a second import, a catch-up racing live capture) may insert
        # it first; the unique key decides, and the loser refreshes that entry.
        entry_id = self.sql.insert_new(
            "INSERT INTO entries (kind, platform, workspace, channel, message_id, thread_id, "
            "title, "
            "text, author_id, saved_by_id, created_at, updated_at, visibility, channel_name, "
            "permalink, knowhow_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id, kind) DO NOTHING",
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
        if entry_id is None:
            existing = self._entry_id_for(new)
            if existing is None:  # pragma: no cover - inserted, then deleted meanwhile
                raise LookupError(f"the entry of message {src.message_id} vanished while saved")
            self._refresh_entry(existing, new)
            return existing, False
        self._add_tags(entry_id, new.tags)
        if new.kind == EntryKind.ANSWER and not new.tags:
            self.answer_added(entry_id)
        else:
            self.reindex_thread_of(entry_id)
        return entry_id, True

    def _entry_id_for(self, new: NewEntry) -> int | None:
        src = new.source
        row = self.sql.one(
            "SELECT id FROM entries WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND kind = ?",
            [src.platform, src.workspace, src.channel, src.message_id, new.kind.value],
        )
        return int(row[0]) if row is not None else None

    def _refresh_entry(self, entry_id: int, new: NewEntry) -> None:
        """A message seen again: its text and what was given on purpose are refreshed."""
        self.sql.execute(
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

    def _add_tags(self, entry_id: int, tags: Iterable[str]) -> None:
        for tag in tags:
            tag = normalize_tag(tag)
            if tag:
                self.sql.execute(
                    "INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [entry_id, tag],
                )

    def set_tags(self, entry_id: int, tags: Iterable[str]) -> None:
        """Replace an entry's tags (curation)."""
        self.sql.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry_id])
        self._add_tags(entry_id, tags)
        self.reindex_thread_of(entry_id)

    def update_text(self, src: SourceKey, text: str, title: str, at: datetime) -> list[Entry]:
        """An edit in chat: every entry from that message takes the new text."""
        entries = self.entries_for_message(src)
        for entry in entries:
            # A title made from the old text follows the new text; one given on purpose
            # (a forum post's name, a know-how title) stays.
            derived = not entry.title or entry.title == title_from(entry.text)
            new_title = title if derived else entry.title
            self.sql.execute(
                "UPDATE entries SET text = ?, title = ?, updated_at = ? WHERE id = ?",
                [text, new_title, to_db_time(at), entry.id],
            )
            self.reindex_thread_of(entry.id)
        return entries

    def set_title(self, entry_id: int, title: str) -> None:
        """Give an entry a title on purpose (a forum post renamed); later edits keep it."""
        self.sql.execute("UPDATE entries SET title = ? WHERE id = ?", [title, entry_id])
        self.reindex_thread_of(entry_id)

    def delete_message(self, src: SourceKey) -> list[Entry]:
        """A delete in chat: its entries, their index rows, embeddings, edits and reactions go.

        The documents that held its text go too: its question's, and those of
        questions that borrowed it through a "solved it" link.
        """
        entries = self.entries_for_message(src)
        borrowers: set[int] = set()
        for entry in entries:
            borrowers |= self._questions_linking(entry)
            self.drop_search_document(entry.id)
            self.sql.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry.id])
            self.sql.execute("DELETE FROM entry_embeddings WHERE entry_id = ?", [entry.id])
            self.sql.execute("DELETE FROM entries WHERE id = ?", [entry.id])
            if entry.kind == EntryKind.ANSWER:
                root = self.thread_root(entry)
                if root is not None:
                    self.reindex(root.id)
        for question_id in sorted(borrowers):
            self.reindex_thread_of(question_id)
        for table in ("reactions", "message_edits"):  # no trace of the text or its reactions
            self.sql.execute(
                f"DELETE FROM {table} WHERE platform = ? AND workspace = ? AND channel = ? "
                "AND message_id = ?",
                [src.platform, src.workspace, src.channel, src.message_id],
            )
        return entries

    def _questions_linking(self, entry: Entry) -> set[int]:
        """Questions whose document borrows this entry's text through a "solved it" link."""
        targets = [entry.id]
        if entry.kind == EntryKind.ANSWER:
            root = self.thread_root(entry)
            if root is not None:
                targets.append(root.id)
        marks = ", ".join("?" for _ in targets)
        rows = self.sql.rows(
            f"SELECT question_id FROM similar_links WHERE entry_id IN ({marks})", targets
        )
        return {int(r[0]) for r in rows} - {entry.id}

    def relink_message(self, entry_id: int, message_id: str, permalink: str = "") -> None:
        """Point an entry at the chat message that now carries it (``/cop ask`` posts)."""
        self.sql.execute(
            "UPDATE entries SET message_id = ?, "
            "permalink = CASE WHEN ? != '' THEN ? ELSE permalink END WHERE id = ?",
            [message_id, permalink, permalink, entry_id],
        )
        self.reindex_thread_of(entry_id)
