"""A comparable picture of a repertoire's content, free of row ids and wall-clock times."""

from __future__ import annotations

from typing import Any

from knowledge.relational.repertoire import RelationalRepertoire
from tests.sqlite_file import sqlite_of


def snapshot(repertoire: RelationalRepertoire) -> dict[str, Any]:
    """Entries, tags, live reactions and search documents, keyed by source (SQLite's)."""
    db = sqlite_of(repertoire).db
    entries = sorted(
        tuple(r)
        for r in db.execute(
            "SELECT e.kind, e.platform, e.workspace, e.channel, e.message_id, e.thread_id, "
            "e.title, e.text, m.user_id, e.visibility, e.accepted, e.knowhow_kind, "
            "e.answer_count, e.has_accepted, e.created_at, e.updated_at, "
            "(SELECT group_concat(tag, ' ') FROM (SELECT tag FROM entry_tags t "
            "WHERE t.entry_id = e.id ORDER BY tag)) "
            "FROM entries e JOIN members m ON m.id = e.author_id"
        ).fetchall()
    )
    reactions = sorted(
        tuple(r)
        for r in db.execute(
            "SELECT platform, workspace, channel, message_id, user_id, emoji FROM reactions "
            "WHERE present = 1"
        ).fetchall()
    )
    documents = sorted(
        tuple(r)
        for r in db.execute(
            "SELECT e.kind, e.platform, e.workspace, e.channel, e.message_id, f.title, f.body, "
            "f.answers, f.tags FROM search_fts f JOIN entries e ON e.id = f.rowid"
        ).fetchall()
    )
    return {"entries": entries, "reactions": reactions, "documents": documents}
