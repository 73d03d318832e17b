"""Reading entries back: by id, by chat message, and a question's thread.

Every read here returns what the database holds, unfiltered, for the capture
rules (acceptance, deletes, edits); whatever is shown to someone goes through
:meth:`EntryReadsSql.visible_answers` or a listing that takes the viewer.
"""

from __future__ import annotations

from knowledge.models import Audience, ChannelRef, Entry, EntryKind, SourceKey
from knowledge.relational.base import RelationalBase
from knowledge.relational.rows import row_to_entry
from knowledge.relational.visibility import visible_to

__all__ = ["EntryReadsSql"]


class EntryReadsSql(RelationalBase):
    """Entries by id or message, a thread's question and answers, and borrowed answers."""

    def get_entry(self, entry_id: int) -> Entry | None:
        row = self.sql.one(f"{self.entry_select} WHERE e.id = ?", [entry_id])
        return row_to_entry(row) if row else None

    def entries_for_message(self, src: SourceKey) -> list[Entry]:
        """Every entry made from one chat message (a question may also be saved as know-how)."""
        rows = self.sql.rows(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? ORDER BY e.id",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return [row_to_entry(r) for r in rows]

    def thread_root(self, entry: Entry) -> Entry | None:
        """The question (or know-how) whose thread this answer is in."""
        if entry.thread_id is None:
            return None
        row = self.sql.one(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? AND e.kind IN ('question', 'knowhow') ORDER BY e.kind DESC",
            [entry.source.platform, entry.source.workspace, entry.source.channel, entry.thread_id],
        )
        return row_to_entry(row) if row else None

    def question_for_thread(self, ref: ChannelRef, thread_id: str) -> Entry | None:
        row = self.sql.one(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? AND e.kind = 'question'",
            [ref.platform, ref.workspace, ref.channel, thread_id],
        )
        return row_to_entry(row) if row else None

    def answers_for(self, question: Entry) -> list[Entry]:
        """Every answer in the question's thread: accepted first, then oldest first.

        Unfiltered: for the capture rules (acceptance, deletes). Anything shown
        or indexed goes through :meth:`visible_answers`.
        """
        rows = self.sql.rows(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.thread_id = ? AND e.kind = 'answer' ORDER BY e.accepted DESC, e.created_at",
            [
                question.source.platform,
                question.source.workspace,
                question.source.channel,
                question.source.message_id,
            ],
        )
        return [row_to_entry(r) for r in rows]

    def visible_answers(
        self, question: Entry, viewer: Audience, *, borrowed: bool = True
    ) -> list[Entry]:
        """The answers ``viewer`` may see, each by its own visibility: the one place for it.

        The thread's answers (accepted first), or else (``borrowed``) the answer
        a "solved it" link lends the question. Whatever shows a question with
        its answers (search, similar, share, digests, export, profiles) reads
        them here.
        """
        answers = [a for a in self.answers_for(question) if visible_to(a, viewer)]
        if answers or not borrowed or question.kind != EntryKind.QUESTION:
            return answers
        return [a for a in self.linked_answers(question.id) if visible_to(a, viewer)]

    def linked_answers(self, question_id: int) -> list[Entry]:
        """The answer (or know-how) of the entry a member said solved this question."""
        row = self.sql.one(
            "SELECT entry_id FROM similar_links WHERE question_id = ?", [question_id]
        )
        target = self.get_entry(int(row[0])) if row else None
        if target is None or target.id == question_id:
            return []
        if target.kind == EntryKind.QUESTION:
            return self.answers_for(target)[:1]
        return [target]
