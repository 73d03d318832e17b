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

Deleting rows is not enough for "no byte remains": a search index keeps a
deleted document's words until it merges, term statistics cache the words,
and the database leaves freed bytes in pages and in its log. :func:`scrub`
(run after the removal is committed) asks the backend to compact what was
deleted and empty its log (SQLite: FTS5 ``optimize``, ``VACUUM``, a
``TRUNCATE`` checkpoint, in :mod:`knowledge.sqlite.scrub`; PostgreSQL:
``VACUUM`` of the tables it deleted from).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge.models import Entry, EntryKind, Member, SourceKey
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import EntryFilter, Viewer

__all__ = [
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


def _count(repertoire: RelationalRepertoire, sql: str, params: list[object]) -> int:
    row = repertoire.sql.one(sql, params)
    return int(row[0]) if row else 0


def plan_forget(repertoire: RelationalRepertoire, member: Member) -> ForgetPlan:
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


def forget(repertoire: RelationalRepertoire, plan: ForgetPlan, at: datetime) -> list[SourceKey]:
    """Carry out ``plan`` (call inside a transaction); the messages they had reacted to.

    The caller re-settles acceptance on those messages: the rule for what an
    accept reaction means lives in ``bot``, not here.
    """
    member = plan.member
    if is_placeholder(member):
        raise ValueError("the stand-in for forgotten members cannot be forgotten")
    db = repertoire.sql
    reacted = [
        SourceKey(*row)
        for row in db.rows(
            "SELECT DISTINCT platform, workspace, channel, message_id FROM reactions "
            "WHERE platform = ? AND workspace = ? AND user_id = ?",
            [member.platform, member.workspace, member.user_id],
        )
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
    if db.one("SELECT 1 FROM curation_changes WHERE member_id = ? LIMIT 1", [member.id]):
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
    repertoire.forget_cached_terms()
    return reacted


def _forget_suggestions(
    repertoire: RelationalRepertoire, member: Member, entry_ids: list[int]
) -> None:
    """Feedback they gave, suggestions for their questions, links to or from their entries."""
    db = repertoire.sql
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
            for r in db.rows(
                f"SELECT question_id FROM similar_links WHERE entry_id IN ({marks})", chunk
            )
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


def scrub_pending(repertoire: RelationalRepertoire) -> bool:
    return repertoire.get_meta(SCRUB_PENDING) == "1"


def scrub(repertoire: RelationalRepertoire) -> None:
    """Leave no byte of deleted content in the database or its log (call outside a transaction).

    The backend compacts what was deleted, then empties its log. Raises
    :class:`ScrubIncomplete` when another process keeps it from finishing; the
    database remembers that (:func:`scrub_pending`) so that the next
    ``copbot forget`` finishes the work.
    """
    repertoire.set_meta(SCRUB_PENDING, "1")  # until the end, so a crash leaves it known
    problem = repertoire.compact_deleted()
    if problem is not None:
        raise ScrubIncomplete(problem)
    repertoire.sql.execute("DELETE FROM meta WHERE key = ?", [SCRUB_PENDING])
    problem = repertoire.flush_deleted()
    if problem is not None:
        repertoire.set_meta(SCRUB_PENDING, "1")
        raise ScrubIncomplete(problem)
