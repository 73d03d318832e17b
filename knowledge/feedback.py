"""What the bot suggested at ask time, and what members said about it.

* A **suggestion** is one reply in a question's thread listing up to three
  older entries; the adapter tells us the message id it got, so reactions on
  it can be traced back.
* **Feedback** is one verdict per member, question and suggested entry:
  ``solved_it`` or ``not_related``. A ``not_related`` pair is never suggested
  again; ``solved_it`` links the question to the older entry
  (``similar_links``), which makes it answered (see ``RelationalRepertoire.reindex``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge.models import ChannelRef, SourceKey, to_db_time
from knowledge.relational.repertoire import RelationalRepertoire

__all__ = [
    "NOT_RELATED",
    "SOLVED_IT",
    "VERDICTS",
    "Suggestion",
    "channel_verdicts",
    "get_suggestion",
    "link_solved",
    "linked_entry",
    "not_related_ids",
    "record_feedback",
    "record_suggestion",
    "reset_channel",
    "set_suggestion_message",
    "suggested_before",
    "suggestion_for_message",
    "suggestion_in_thread",
    "unlink_solved",
    "voters",
    "withdraw_feedback",
]

SOLVED_IT = "solved_it"
NOT_RELATED = "not_related"
VERDICTS = (SOLVED_IT, NOT_RELATED)


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    question_id: int
    source: SourceKey  # where the question is; ``message_id`` is the thread it was posted in
    message_id: str | None  # the suggestion's own message, once the adapter posted it
    entry_ids: tuple[int, ...]


def record_suggestion(
    repertoire: RelationalRepertoire,
    question_id: int,
    thread: SourceKey,
    items: list[tuple[int, float]],
    at: datetime,
) -> int:
    """Keep a suggestion made in ``thread`` (its message id is the question's)."""
    suggestion_id = repertoire.sql.insert(
        "INSERT INTO similar_suggestions (question_id, platform, workspace, channel, thread_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            question_id,
            thread.platform,
            thread.workspace,
            thread.channel,
            thread.message_id,
            to_db_time(at),
        ],
    )
    for rank, (entry_id, confidence) in enumerate(items, 1):
        repertoire.sql.execute(
            "INSERT INTO similar_items (suggestion_id, rank, entry_id, confidence) "
            "VALUES (?, ?, ?, ?)",
            [suggestion_id, rank, entry_id, confidence],
        )
    return suggestion_id


def set_suggestion_message(
    repertoire: RelationalRepertoire, suggestion_id: int, message_id: str
) -> None:
    repertoire.sql.execute(
        "UPDATE similar_suggestions SET message_id = ? WHERE id = ?", [message_id, suggestion_id]
    )


def _load(
    repertoire: RelationalRepertoire, where_sql: str, params: list[object]
) -> Suggestion | None:
    row = repertoire.sql.one(
        "SELECT id, question_id, platform, workspace, channel, thread_id, message_id "
        f"FROM similar_suggestions WHERE {where_sql} ORDER BY id DESC LIMIT 1",
        params,
    )
    if row is None:
        return None
    ids = repertoire.sql.rows(
        "SELECT entry_id FROM similar_items WHERE suggestion_id = ? ORDER BY rank", [row[0]]
    )
    return Suggestion(
        id=int(row[0]),
        question_id=int(row[1]),
        source=SourceKey(str(row[2]), str(row[3]), str(row[4]), str(row[5])),
        message_id=str(row[6]) if row[6] is not None else None,
        entry_ids=tuple(int(r[0]) for r in ids),
    )


def get_suggestion(repertoire: RelationalRepertoire, suggestion_id: int) -> Suggestion | None:
    return _load(repertoire, "id = ?", [suggestion_id])


def suggestion_for_message(
    repertoire: RelationalRepertoire, message: SourceKey
) -> Suggestion | None:
    """The suggestion posted as this chat message, if it is one."""
    return _load(
        repertoire,
        "platform = ? AND workspace = ? AND channel = ? AND message_id = ?",
        [message.platform, message.workspace, message.channel, message.message_id],
    )


def suggestion_in_thread(repertoire: RelationalRepertoire, thread: SourceKey) -> Suggestion | None:
    """The latest suggestion made in a question's thread."""
    return _load(
        repertoire,
        "platform = ? AND workspace = ? AND channel = ? AND thread_id = ?",
        [thread.platform, thread.workspace, thread.channel, thread.message_id],
    )


def suggested_before(repertoire: RelationalRepertoire, question_id: int) -> set[int]:
    rows = repertoire.sql.rows(
        "SELECT i.entry_id FROM similar_items i JOIN similar_suggestions s "
        "ON s.id = i.suggestion_id WHERE s.question_id = ?",
        [question_id],
    )
    return {int(r[0]) for r in rows}


def record_feedback(
    repertoire: RelationalRepertoire,
    question_id: int,
    entry_id: int,
    user_id: str,
    verdict: str,
    at: datetime,
) -> None:
    """One member's verdict on one suggested entry; a new verdict replaces theirs."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    repertoire.sql.execute(
        "INSERT INTO similar_feedback (question_id, entry_id, user_id, verdict, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (question_id, entry_id, user_id) DO UPDATE SET "
        "verdict = excluded.verdict, created_at = excluded.created_at",
        [question_id, entry_id, user_id, verdict, to_db_time(at)],
    )


def withdraw_feedback(
    repertoire: RelationalRepertoire, question_id: int, entry_id: int, user_id: str, verdict: str
) -> None:
    repertoire.sql.execute(
        "DELETE FROM similar_feedback WHERE question_id = ? AND entry_id = ? AND user_id = ? "
        "AND verdict = ?",
        [question_id, entry_id, user_id, verdict],
    )


def voters(
    repertoire: RelationalRepertoire, question_id: int, entry_id: int, verdict: str
) -> set[str]:
    rows = repertoire.sql.rows(
        "SELECT user_id FROM similar_feedback WHERE question_id = ? AND entry_id = ? "
        "AND verdict = ?",
        [question_id, entry_id, verdict],
    )
    return {str(r[0]) for r in rows}


def not_related_ids(repertoire: RelationalRepertoire, question_id: int) -> set[int]:
    """Entries that members said are not related to this question: never suggest them again."""
    rows = repertoire.sql.rows(
        "SELECT DISTINCT entry_id FROM similar_feedback WHERE question_id = ? "
        "AND verdict = 'not_related'",
        [question_id],
    )
    return {int(r[0]) for r in rows}


def link_solved(
    repertoire: RelationalRepertoire, question_id: int, entry_id: int, at: datetime
) -> bool:
    """The question was solved by an older entry: link them; ``True`` when that is new."""
    row = repertoire.sql.one(
        "SELECT entry_id FROM similar_links WHERE question_id = ?", [question_id]
    )
    if row is not None and int(row[0]) == entry_id:
        return False
    repertoire.sql.execute(
        "INSERT INTO similar_links (question_id, entry_id, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (question_id) DO UPDATE SET entry_id = excluded.entry_id, "
        "created_at = excluded.created_at",
        [question_id, entry_id, to_db_time(at)],
    )
    repertoire.reindex(question_id)
    return True


def unlink_solved(repertoire: RelationalRepertoire, question_id: int, entry_id: int) -> bool:
    removed = repertoire.sql.execute(
        "DELETE FROM similar_links WHERE question_id = ? AND entry_id = ?", [question_id, entry_id]
    )
    if removed:
        repertoire.reindex(question_id)
    return bool(removed)


def linked_entry(repertoire: RelationalRepertoire, question_id: int) -> int | None:
    row = repertoire.sql.one(
        "SELECT entry_id FROM similar_links WHERE question_id = ?", [question_id]
    )
    return int(row[0]) if row else None


def channel_verdicts(repertoire: RelationalRepertoire, channel: ChannelRef) -> tuple[int, int]:
    """``(solved_it, not_related)`` verdicts on suggestions made in a channel since its reset.

    One per member, question and suggested entry (the feedback table's key), so a
    member cannot move a channel's threshold twice with the same verdict.
    """
    rows = repertoire.sql.rows(
        "SELECT f.verdict, count(*) FROM similar_feedback f WHERE EXISTS (SELECT 1 FROM "
        "similar_suggestions s JOIN similar_items i ON i.suggestion_id = s.id "
        "WHERE s.question_id = f.question_id AND i.entry_id = f.entry_id "
        "AND s.platform = ? AND s.workspace = ? AND s.channel = ?) "
        "AND NOT EXISTS (SELECT 1 FROM similar_channel_resets r WHERE r.platform = ? "
        "AND r.workspace = ? AND r.channel = ? AND r.reset_at >= f.created_at) "
        "GROUP BY f.verdict",
        [channel.platform, channel.workspace, channel.channel] * 2,
    )
    counts = {str(verdict): int(n) for verdict, n in rows}
    return counts.get(SOLVED_IT, 0), counts.get(NOT_RELATED, 0)


def reset_channel(repertoire: RelationalRepertoire, channel: ChannelRef, at: datetime) -> None:
    """Forget what a channel's feedback taught: its threshold is the shipped one again."""
    repertoire.sql.execute(
        "INSERT INTO similar_channel_resets (platform, workspace, channel, reset_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (platform, workspace, channel) "
        "DO UPDATE SET reset_at = excluded.reset_at",
        [channel.platform, channel.workspace, channel.channel, to_db_time(at)],
    )
