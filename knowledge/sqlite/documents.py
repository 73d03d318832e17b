"""The search documents: one FTS5 row per question or know-how entry.

A document holds the entry's title, body and tags, and the text of its
answers, weighted apart by bm25 (``knowledge/search.py``). One document serves
every viewer, so it may only hold what **everyone who may see the entry** may
see: an answer goes into it only when it is at least as visible as its
question (:func:`answer_audience_sql`). Otherwise a search from any channel
would match, and show, words said where that channel cannot look. The same
goes for the answer a "solved it" link borrows from another channel's thread,
and for the counts (answers, accepted) that boosts and ``is:answered`` read.

Entries of one channel share its visibility (:mod:`knowledge.channels`), so
when a channel's visibility changes only the documents that borrow an answer
from it (:meth:`SearchDocuments.reindex_linking`) change with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database

from knowledge.models import ChannelRef, EntryKind

__all__ = ["DOCUMENTS_VERSION", "SearchDocuments", "answer_audience_sql"]

#: Bumped when what a document holds changes; :meth:`SearchDocuments.upgrade` rebuilds.
DOCUMENTS_VERSION = 2
_VERSION_KEY = "search_documents_version"


def answer_audience_sql(answer: str, question: str) -> str:
    """SQL: answer ``answer`` may be seen by everyone who may see question ``question``.

    Public answers always; other answers only under a question that is itself
    not public and in the same channel (so seen by that channel alone).
    """
    return (
        f"({answer}.visibility = 'public' OR ({question}.visibility != 'public' "
        f"AND {answer}.platform = {question}.platform AND {answer}.workspace = "
        f"{question}.workspace AND {answer}.channel = {question}.channel))"
    )


class SearchDocuments:
    """Builds and rebuilds ``search_fts`` rows; bulk mode defers them to one flush."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: Entry ids whose document waits for :meth:`flush` (bulk mode), else ``None``.
        self.deferred: set[int] | None = None

    def _one(self, sql: str, params: Iterable[Any] = ()) -> tuple[Any, ...] | None:
        row = self.db.execute(sql, list(params)).fetchone()
        return tuple(row) if row is not None else None

    def reindex_thread_of(self, entry_id: int) -> None:
        """Refresh the document of the entry, or of the question it answers."""
        if self.deferred is not None:
            self.deferred.add(entry_id)
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

    def answer_added(self, answer_id: int) -> None:
        """A new answer: its text joins its question's document, as a rebuild would put it.

        A rebuild (:meth:`reindex`) reads every answer of the thread and writes
        the whole document again, on every answer of a busy thread. A new answer
        usually comes last in the document's order (accepted first, then by
        time; it is not accepted yet), so its text is appended and the count
        moves by one: the same document and counts as a rebuild. It is as
        visible as its question (a thread's entries share their channel's
        visibility). When it would not be last (an answer as old or newer is
        there already) or the question borrows a linked answer (which comes
        last), the document is rebuilt.
        """
        if self.deferred is not None:
            self.deferred.add(answer_id)
            return
        row = self._one(
            "SELECT q.id, q.kind, a.text, "
            "EXISTS (SELECT 1 FROM similar_links l WHERE l.question_id = q.id), "
            "EXISTS (SELECT 1 FROM entries o WHERE o.platform = q.platform "
            "AND o.workspace = q.workspace AND o.channel = q.channel "
            "AND o.thread_id = q.message_id AND o.kind = 'answer' AND o.id != a.id "
            "AND (o.created_at >= a.created_at OR o.accepted < a.accepted)) "
            "FROM entries a JOIN entries q ON q.platform = a.platform "
            "AND q.workspace = a.workspace AND q.channel = a.channel "
            "AND q.message_id = a.thread_id AND q.kind IN ('question', 'knowhow') "
            "WHERE a.id = ? AND a.kind = 'answer' ORDER BY q.kind DESC LIMIT 1",
            [answer_id],
        )
        if row is None:
            return  # no question (yet): its document is built when it comes
        root_id, kind, text, linked, not_last = row
        if kind != EntryKind.QUESTION or linked or not_last:
            self.reindex(int(root_id))
            return
        self.db.execute(
            "UPDATE search_fts SET answers = CASE answers WHEN '' THEN ? "
            "ELSE answers || char(10) || ? END WHERE rowid = ?",
            [text, text, root_id],
        )
        self.db.execute(
            "UPDATE entries SET answer_count = answer_count + 1 WHERE id = ?", [root_id]
        )

    def reindex(self, entry_id: int) -> None:
        """Rebuild one document: title, body, tags, and the answers as visible as the entry.

        The hot path of capture: plain column reads, no :class:`Entry` building.
        """
        self.db.execute("DELETE FROM search_fts WHERE rowid = ?", [entry_id])
        row = self._one(
            "SELECT kind, title, text, "
            "(SELECT group_concat(tag, ' ') FROM (SELECT tag FROM entry_tags "
            "WHERE entry_id = entries.id ORDER BY tag)) FROM entries WHERE id = ?",
            [entry_id],
        )
        if row is None or row[0] == EntryKind.ANSWER:
            return
        kind, title, body, tags = row
        answers: list[tuple[str, int]] = []
        linked = False
        if kind == EntryKind.QUESTION:
            answers = [
                (str(r[0]), int(r[1]))
                for r in self.db.execute(
                    "SELECT a.text, a.accepted FROM entries q JOIN entries a "
                    "ON a.platform = q.platform AND a.workspace = q.workspace "
                    "AND a.channel = q.channel AND a.thread_id = q.message_id "
                    f"AND a.kind = 'answer' WHERE q.id = ? AND {answer_audience_sql('a', 'q')} "
                    "ORDER BY a.accepted DESC, a.created_at, a.id",
                    [entry_id],
                ).fetchall()
            ]
            # "Solved it" on a suggestion (knowledge/sqlite/schema_similar.py): the older
            # entry's answer counts as this question's accepted answer.
            borrowed = self.linked_answer_text(entry_id)
            if borrowed is not None:
                answers.append((borrowed, 1))
                linked = True
        self.db.execute(
            "UPDATE entries SET answer_count = ?, has_accepted = ? WHERE id = ?",
            [len(answers), int(any(accepted for _, accepted in answers) or linked), entry_id],
        )
        if title and body.startswith(title):
            body = body[len(title) :]
        self.db.execute(
            "INSERT INTO search_fts (rowid, title, body, answers, tags) VALUES (?, ?, ?, ?, ?)",
            [entry_id, title, body, "\n".join(text for text, _ in answers), tags or ""],
        )

    def linked_answer_text(self, question_id: int) -> str | None:
        """The text a "solved it" link lends the question, if everyone who sees it may see it.

        The linked entry's first answer (accepted first) when it is a question,
        else the linked know-how itself; the same choice as
        :meth:`Repertoire.linked_answers`.
        """
        row = self._one(
            "SELECT t.id, t.kind FROM similar_links l JOIN entries t ON t.id = l.entry_id "
            "WHERE l.question_id = ? AND t.id != l.question_id",
            [question_id],
        )
        if row is None:
            return None
        target_id, target_kind = int(row[0]), str(row[1])
        if target_kind == EntryKind.QUESTION:
            chosen = self._one(
                "SELECT a.id FROM entries t JOIN entries a ON a.platform = t.platform "
                "AND a.workspace = t.workspace AND a.channel = t.channel "
                "AND a.thread_id = t.message_id AND a.kind = 'answer' WHERE t.id = ? "
                "ORDER BY a.accepted DESC, a.created_at LIMIT 1",
                [target_id],
            )
            if chosen is None:
                return None
            target_id = int(chosen[0])
        shown = self._one(
            "SELECT a.text FROM entries a JOIN entries q ON q.id = ? WHERE a.id = ? "
            f"AND {answer_audience_sql('a', 'q')}",
            [question_id, target_id],
        )
        return str(shown[0]) if shown else None

    def reindex_linking(self, entry_ids: Iterable[int]) -> None:
        """Rebuild the documents of questions that borrow an answer from these entries.

        A link points at a question (whose answer it lends) or at know-how; so
        the questions linking to an entry, or to the root of a thread it answers.
        """
        ids = sorted(set(entry_ids))
        if not ids:
            return
        marks = ", ".join("?" for _ in ids)
        rows = self.db.execute(
            "SELECT DISTINCT l.question_id FROM similar_links l WHERE l.entry_id IN "
            f"(SELECT id FROM entries WHERE id IN ({marks}) UNION SELECT r.id FROM entries a "
            "JOIN entries r ON r.platform = a.platform AND r.workspace = a.workspace "
            "AND r.channel = a.channel AND r.message_id = a.thread_id "
            f"AND r.kind = 'question' WHERE a.id IN ({marks}) AND a.kind = 'answer')",
            [*ids, *ids],
        ).fetchall()
        for (question_id,) in rows:
            self.reindex_thread_of(int(question_id))

    def reindex_linking_channel(self, ref: ChannelRef) -> None:
        """A channel's visibility changed: the documents that borrow from it follow."""
        rows = self.db.execute(
            "SELECT DISTINCT l.question_id FROM similar_links l JOIN entries t "
            "ON t.id = l.entry_id WHERE t.platform = ? AND t.workspace = ? AND t.channel = ?",
            [ref.platform, ref.workspace, ref.channel],
        ).fetchall()
        for (question_id,) in rows:
            self.reindex_thread_of(int(question_id))

    # ------------------------------------------------------------------ bulk mode

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """Bulk mode: documents are rebuilt by :meth:`flush`, not per write.

        Inside the block, writes that would rebuild a question's document (a new
        answer, an edit, an acceptance) only note the entry; the caller calls
        :meth:`flush` before each commit, so every committed transaction still
        has an index in step with its entries. Searches inside the block (before
        a flush) may not see the newest writes. Leaving the block flushes what is
        left. Used by history imports; live capture never is.
        """
        outer = self.deferred is not None
        if not outer:
            self.deferred = set()
        try:
            yield
            if not outer:
                self.flush()
        finally:
            if not outer:
                self.deferred = None

    def flush(self) -> int:
        """Rebuild the documents bulk mode noted, each once; how many."""
        if not self.deferred:
            return 0
        touched, self.deferred = self.deferred, set()
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _touched (id INTEGER PRIMARY KEY)")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _roots (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM _touched")
        db.execute("DELETE FROM _roots")
        db.conn.executemany("INSERT INTO _touched (id) VALUES (?)", [(i,) for i in touched])
        # The entry itself when it is a question or know-how; its thread's root when an answer.
        # CROSS JOIN keeps the few touched ids as the outer loop: the planner knows
        # nothing of the temp table and would otherwise scan every entry.
        db.execute(
            "INSERT OR IGNORE INTO _roots (id) SELECT e.id FROM _touched t "
            "CROSS JOIN entries e ON e.id = t.id WHERE e.kind != 'answer'"
        )
        db.execute(
            "INSERT OR IGNORE INTO _roots (id) SELECT r.id FROM _touched t "
            "CROSS JOIN entries a ON a.id = t.id AND a.kind = 'answer' "
            "CROSS JOIN entries r ON r.platform = a.platform AND r.workspace = a.workspace "
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

    def upgrade(self) -> None:
        """Rebuild what an older copbot indexed under another rule (once per version).

        Before version 2 a question's document held every answer of its thread
        and the answer its "solved it" link lent, however private. Entries of a
        channel now share its visibility (a migration made them), so only the
        documents that borrow across channels can differ.
        """
        row = self._one("SELECT value FROM meta WHERE key = ?", [_VERSION_KEY])
        if row is not None and int(row[0]) >= DOCUMENTS_VERSION:
            return
        with self.db.atomic():
            for (question_id,) in self.db.execute(
                "SELECT question_id FROM similar_links"
            ).fetchall():
                self.reindex(int(question_id))
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [_VERSION_KEY, str(DOCUMENTS_VERSION)],
            )
