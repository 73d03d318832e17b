"""Forget a member: every row that names or quotes them leaves the repertoire.

What goes: their entries (and the search documents, embeddings, tags, edits
and reactions of those messages), their reactions and edits anywhere, thanks
they gave or received, identity links from or to them, their feedback on
suggestions and the suggestions made for their questions, "solved it" links
to or from their entries, follow-up records, and their member row. What stays,
anonymised: curation changes they made on others' entries (the history must
still add up for undo) now name :data:`FORGOTTEN_NAME`. Answers others gave in
their questions' threads stay (those are the others' words) but lose their
acceptance with the question. Their messages are tombstoned, so a later
re-import or a replayed event cannot bring them back.

Deleting rows is not enough for "no byte remains": FTS5 keeps a deleted
document's words in its segments until they merge, term statistics cache the
words, and SQLite leaves freed bytes in pages and in the WAL. :func:`scrub`
(run after the removal is committed) merges the index, rewrites the file and
empties the WAL.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from knowledge.models import Entry, EntryKind, Member, SourceKey
from knowledge.sqlite.database import is_lock_error
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import EntryFilter, Viewer

__all__ = [
    "CHECKPOINT_WAIT_MS",
    "FORGOTTEN_NAME",
    "FORGOTTEN_PLATFORM",
    "FORGOTTEN_USER",
    "SCRUB_PENDING",
    "ForgetPlan",
    "ScrubIncomplete",
    "forget",
    "is_placeholder",
    "plan_forget",
    "scrub",
    "scrub_pending",
]

#: Who a forgotten member's curation changes are credited to afterwards.
FORGOTTEN_PLATFORM = "copbot"
FORGOTTEN_USER = "forgotten"
FORGOTTEN_NAME = "a forgotten member"


class ScrubIncomplete(RuntimeError):
    """The file could not be rewritten completely (another process keeps it open)."""


@dataclass(frozen=True)
class ForgetPlan:
    member: Member
    entries: tuple[Entry, ...]
    reactions: int
    thanks: int = 0
    curation_changes: int = 0
    identity_links: int = 0


def is_placeholder(member: Member) -> bool:
    """The stand-in that forgotten members' curation changes are credited to."""
    return member.platform == FORGOTTEN_PLATFORM and member.user_id == FORGOTTEN_USER


def _count(repertoire: Repertoire, sql: str, params: list[object]) -> int:
    return int(repertoire.db.execute(sql, params).fetchone()[0])


def plan_forget(repertoire: Repertoire, member: Member) -> ForgetPlan:
    """What forgetting ``member`` would remove (the dry run shows this)."""
    entries = repertoire.entries(
        Viewer.operator_including_private(),
        EntryFilter(authors=(member.id,)),
        order="oldest",
        limit=1_000_000,
    )
    return ForgetPlan(
        member,
        tuple(entries),
        _count(
            repertoire,
            "SELECT count(*) FROM reactions WHERE platform = ? AND workspace = ? AND user_id = ?",
            [member.platform, member.workspace, member.user_id],
        ),
        _count(
            repertoire,
            "SELECT count(*) FROM thanks WHERE giver_id = ? OR receiver_id = ?",
            [member.id, member.id],
        ),
        _count(
            repertoire, "SELECT count(*) FROM curation_changes WHERE member_id = ?", [member.id]
        ),
        _count(
            repertoire,
            "SELECT count(*) FROM identity_links WHERE from_member_id = ? OR to_member_id = ? "
            "OR (to_platform = ? AND to_user_id = ?)",
            [member.id, member.id, member.platform, member.user_id],
        ),
    )


def forget(repertoire: Repertoire, plan: ForgetPlan, at: datetime) -> list[SourceKey]:
    """Carry out ``plan`` (call inside a transaction); the messages they had reacted to.

    The caller re-settles acceptance on those messages: the rule for what an
    accept reaction means lives in ``bot``, not here.
    """
    member = plan.member
    if is_placeholder(member):
        raise ValueError("the stand-in for forgotten members cannot be forgotten")
    db = repertoire.db
    reacted = [
        SourceKey(*row)
        for row in db.execute(
            "SELECT DISTINCT platform, workspace, channel, message_id FROM reactions "
            "WHERE platform = ? AND workspace = ? AND user_id = ?",
            [member.platform, member.workspace, member.user_id],
        ).fetchall()
    ]
    ids = [entry.id for entry in plan.entries]
    for entry in plan.entries:
        orphans = repertoire.answers_for(entry) if entry.kind == EntryKind.QUESTION else []
        repertoire.add_tombstone(entry.source, at)
        repertoire.delete_message(entry.source)
        for answer in orphans:
            repertoire.set_accepted(answer.id, False)
    _forget_suggestions(repertoire, member, ids)
    user = [member.platform, member.workspace, member.user_id]
    db.execute("DELETE FROM reactions WHERE platform = ? AND workspace = ? AND user_id = ?", user)
    db.execute(
        "DELETE FROM message_edits WHERE platform = ? AND workspace = ? AND author = ?", user
    )
    db.execute("DELETE FROM thanks WHERE giver_id = ? OR receiver_id = ?", [member.id, member.id])
    db.execute(
        "DELETE FROM identity_links WHERE from_member_id = ? OR to_member_id = ? "
        "OR (to_platform = ? AND to_user_id = ?)",
        [member.id, member.id, member.platform, member.user_id],
    )
    if db.execute(
        "SELECT 1 FROM curation_changes WHERE member_id = ? LIMIT 1", [member.id]
    ).fetchone():
        stand_in = repertoire.upsert_member(
            FORGOTTEN_PLATFORM, "", FORGOTTEN_USER, FORGOTTEN_NAME, at=at, refresh=False
        )
        db.execute(
            "UPDATE curation_changes SET member_id = ? WHERE member_id = ?",
            [stand_in, member.id],
        )
    db.execute("UPDATE entries SET saved_by_id = NULL WHERE saved_by_id = ?", [member.id])
    db.execute("DELETE FROM members WHERE id = ?", [member.id])
    # Term statistics are a cache of the index's words, theirs among them.
    db.execute("DELETE FROM similar_df")
    return reacted


def _forget_suggestions(repertoire: Repertoire, member: Member, entry_ids: list[int]) -> None:
    """Feedback they gave, suggestions for their questions, links to or from their entries."""
    db = repertoire.db
    db.execute(
        "DELETE FROM similar_feedback WHERE user_id = ? AND (question_id NOT IN "
        "(SELECT id FROM entries) OR question_id IN (SELECT id FROM entries "
        "WHERE platform = ? AND workspace = ?))",
        [member.user_id, member.platform, member.workspace],
    )
    for number in range(0, len(entry_ids), 500):
        chunk = entry_ids[number : number + 500]
        marks = ", ".join("?" for _ in chunk)
        db.execute(
            f"DELETE FROM similar_feedback WHERE question_id IN ({marks}) OR entry_id IN ({marks})",
            [*chunk, *chunk],
        )
        db.execute(
            "DELETE FROM similar_items WHERE suggestion_id IN (SELECT id FROM "
            f"similar_suggestions WHERE question_id IN ({marks})) OR entry_id IN ({marks})",
            [*chunk, *chunk],
        )
        db.execute(f"DELETE FROM similar_suggestions WHERE question_id IN ({marks})", chunk)
        borrowers = [
            int(r[0])
            for r in db.execute(
                f"SELECT question_id FROM similar_links WHERE entry_id IN ({marks})", chunk
            ).fetchall()
        ]
        db.execute(
            f"DELETE FROM similar_links WHERE question_id IN ({marks}) OR entry_id IN ({marks})",
            [*chunk, *chunk],
        )
        for question_id in borrowers:
            repertoire.reindex(question_id)
        db.execute(f"DELETE FROM follow_ups WHERE entry_id IN ({marks})", chunk)


#: Set while a forget's scrub could not finish; the next ``copbot forget`` finishes it.
SCRUB_PENDING = "forget_scrub_pending"
#: How long the final checkpoint waits for another process's read to end.
CHECKPOINT_WAIT_MS = 1_000


def scrub_pending(repertoire: Repertoire) -> bool:
    return repertoire.get_meta(SCRUB_PENDING) == "1"


def scrub(repertoire: Repertoire) -> None:
    """Leave no byte of deleted content in the file or its WAL (call outside a transaction).

    FTS5's ``optimize`` merges the index into one segment, dropping the words of
    deleted documents; ``VACUUM`` rewrites every page (``secure_delete`` only
    covers deletes made while it is on); a ``TRUNCATE`` checkpoint copies the
    rewritten pages home and empties the WAL. Raises :class:`ScrubIncomplete`
    when another connection's read keeps the WAL from being emptied; the
    database remembers that (:func:`scrub_pending`) so that the next
    ``copbot forget`` finishes the work.
    """
    db = repertoire.db
    repertoire.set_meta(SCRUB_PENDING, "1")  # until the end, so a crash leaves it known
    try:
        db.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
        db.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        if not is_lock_error(exc):
            raise
        raise ScrubIncomplete(
            "another process is writing to the database, so the file could not be rewritten; "
            "stop copbot, then run `copbot forget` again (with any name) to finish"
        ) from exc
    db.execute("DELETE FROM meta WHERE key = ?", [SCRUB_PENDING])
    waited = int(db.execute("PRAGMA busy_timeout").fetchone()[0])
    db.execute(f"PRAGMA busy_timeout = {min(waited, CHECKPOINT_WAIT_MS)}")
    try:
        busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout = {waited}")
    if busy:
        repertoire.set_meta(SCRUB_PENDING, "1")
        raise ScrubIncomplete(
            "another process has the database open, so the removed bytes may still be in "
            "its write-ahead log; stop copbot, then run `copbot forget` again (with any "
            "name) to finish"
        )
