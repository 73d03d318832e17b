"""Copy a whole community from one repertoire to another, across backends, with nothing lost.

``copbot copy SOURCE TARGET`` moves a community from a SQLite file to a
PostgreSQL server when it outgrows the file (or back). Everything the
repertoire *holds* goes, row for row and with the same ids: members, channels
with their visibility and capture switch, entries with their tags, threads,
acceptance and sources, reactions, deletes and edits (so a re-import cannot
bring a deleted message back), thanks, curation history, identity links, the
digest and follow-up logs (no digest posted twice after the move), read marks
and seen events (no message captured twice), similar-question links and
feedback, web opt-outs (a member who said no stays out), vectors and kept
values. What is *derived* is rebuilt on the target by its own backend: the
search documents (FTS5 rows or ``tsvector`` columns) and the word-frequency caches.

The target must hold no community yet, and the copy is one transaction on it:
it lands whole or not at all. The source is only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import Row

__all__ = ["COPIED_TABLES", "CopyRefused", "Table", "copy_repertoire"]

#: Rows read per statement: a big community is copied a page at a time, never held whole.
PAGE = 5_000


class CopyRefused(ValueError):
    """The copy cannot start (a target that already holds a community); nothing was written."""


@dataclass(frozen=True)
class Table:
    """One table copied as it is, read in pages of its key: its first ``key_width`` columns."""

    name: str
    columns: tuple[str, ...]
    key_width: int = 1

    @property
    def key(self) -> tuple[str, ...]:
        return self.columns[: self.key_width]


#: Every table that holds the community, parents before the rows that refer to them.
COPIED_TABLES = (
    Table("members", ("id", "platform", "workspace", "user_id", "handle", "display_name",
                      "created_at")),
    Table("channels", ("id", "platform", "workspace", "channel", "name", "visibility",
                       "capture_stopped", "visibility_at")),
    Table("entries", ("id", "kind", "platform", "workspace", "channel", "message_id",
                      "thread_id", "title", "text", "author_id", "saved_by_id", "created_at",
                      "updated_at", "visibility", "channel_name", "permalink", "accepted",
                      "knowhow_kind", "answer_count", "has_accepted", "valid_until",
                      "outdated")),
    Table("entry_tags", ("entry_id", "tag"), key_width=2),
    Table("identity_links", ("id", "from_member_id", "to_platform", "to_user_id",
                             "to_member_id", "status", "created_at", "confirmed_at")),
    # undone_by points forward to a later change: set once every change is there.
    Table("curation_changes", ("id", "entry_id", "field", "old_value", "new_value",
                               "member_id", "at", "undoes")),
    Table("thanks", ("id", "giver_id", "receiver_id", "entry_id", "reason", "via", "platform",
                     "workspace", "channel", "visibility", "created_at")),
    Table("reactions", ("platform", "workspace", "channel", "message_id", "user_id", "emoji",
                        "created_at", "present"), key_width=6),
    Table("message_tombstones", ("platform", "workspace", "channel", "message_id",
                                 "deleted_at"), key_width=4),
    Table("message_edits", ("platform", "workspace", "channel", "message_id", "text",
                            "edited_at", "author"), key_width=4),
    Table("processed_events", ("platform", "event_id", "seen_at"), key_width=2),
    Table("read_marks", ("platform", "workspace", "channel", "last_message_at",
                         "last_message_id"), key_width=3),
    Table("digest_log", ("id", "channel", "period_start", "period_end", "status", "claimed_at",
                         "posted_at", "message_id")),
    Table("follow_ups", ("entry_id", "channel", "status", "claimed_at", "posted_at",
                         "message_id")),
    Table("similar_links", ("question_id", "entry_id", "created_at")),
    Table("similar_suggestions", ("id", "question_id", "platform", "workspace", "channel",
                                  "thread_id", "message_id", "created_at")),
    Table("similar_items", ("suggestion_id", "rank", "entry_id", "confidence"), key_width=2),
    Table("similar_feedback", ("question_id", "entry_id", "user_id", "verdict",
                               "created_at"), key_width=3),
    Table("similar_channel_resets", ("platform", "workspace", "channel", "reset_at"), key_width=3),
    Table("web_optouts", ("member_id", "at")),
    Table("entry_embeddings", ("entry_id", "model", "dim", "vector", "updated_at"), key_width=2),
)  # fmt: skip


def _rows(source: RelationalRepertoire, table: Table) -> Iterator[Row]:
    """Every row of ``table``, a page at a time in the order of its key (its primary key)."""
    key = ", ".join(table.key)
    select = f"SELECT {', '.join(table.columns)} FROM {table.name}"
    after: Row | None = None
    while True:
        where = f" WHERE ({key}) > ({', '.join('?' for _ in table.key)})" if after else ""
        page = source.sql.rows(f"{select}{where} ORDER BY {key} LIMIT ?", [*(after or ()), PAGE])
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1][: table.key_width]


def _community_size(repertoire: RelationalRepertoire) -> int:
    row = repertoire.sql.one(
        "SELECT (SELECT count(*) FROM entries) + (SELECT count(*) FROM members) "
        "+ (SELECT count(*) FROM channels)"
    )
    return int(row[0]) if row else 0


def copy_repertoire(source: RelationalRepertoire, target: RelationalRepertoire) -> dict[str, int]:
    """Copy everything ``source`` holds into the empty ``target``; rows copied per table.

    Raises :class:`CopyRefused` when ``target`` already holds members,
    channels or entries.
    """
    if _community_size(target):
        raise CopyRefused(
            "the target already holds a community: copy into a new, empty database "
            "(nothing was written)"
        )
    counts: dict[str, int] = {}
    with source.reading(), target.transaction():
        for table in COPIED_TABLES:
            counts[table.name] = target.copy_rows_in(
                table.name, table.columns, _rows(source, table)
            )
        for change_id, undone_by in source.sql.rows(
            "SELECT id, undone_by FROM curation_changes WHERE undone_by IS NOT NULL"
        ):
            target.sql.execute(
                "UPDATE curation_changes SET undone_by = ? WHERE id = ?", [undone_by, change_id]
            )
        kept_values = source.sql.rows("SELECT key, value FROM meta")
        for key, value in kept_values:
            # The target's own keys (its index versions) stay as its backend set them.
            target.sql.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [key, value],
            )
        counts["meta"] = len(kept_values)
        target.ids_copied()
        documents = [
            int(row[0]) for row in target.sql.rows("SELECT id FROM entries WHERE kind <> 'answer'")
        ]
        with target.deferred_reindex():
            for entry_id in documents:
                target.reindex(entry_id)
    return counts
