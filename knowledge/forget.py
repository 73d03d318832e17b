"""Forget a member: their entries, reactions and profile leave the repertoire.

Their messages are tombstoned too, so a later re-import or a replayed event
cannot bring them back. Answers others gave in their questions' threads stay
(those are the others' words) but lose their acceptance with the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge.models import Entry, EntryKind, Member, SourceKey
from knowledge.storage import EntryFilter, Viewer
from knowledge.store import Repertoire


@dataclass(frozen=True)
class ForgetPlan:
    member: Member
    entries: tuple[Entry, ...]
    reactions: int


def plan_forget(repertoire: Repertoire, member: Member) -> ForgetPlan:
    """What forgetting ``member`` would remove (the dry run shows this)."""
    entries = repertoire.entries(
        Viewer.operator_including_private(),
        EntryFilter(authors=(member.id,)),
        order="oldest",
        limit=1_000_000,
    )
    reactions = repertoire.db.execute(
        "SELECT count(*) FROM reactions WHERE platform = ? AND workspace = ? AND user_id = ?",
        [member.platform, member.workspace, member.user_id],
    ).fetchone()[0]
    return ForgetPlan(member, tuple(entries), int(reactions))


def forget(repertoire: Repertoire, plan: ForgetPlan, at: datetime) -> list[SourceKey]:
    """Carry out ``plan`` (call inside a transaction); the messages they had reacted to.

    The caller re-settles acceptance on those messages: the rule for what an
    accept reaction means lives in ``bot``, not here.
    """
    member = plan.member
    reacted = [
        SourceKey(*row)
        for row in repertoire.db.execute(
            "SELECT DISTINCT platform, workspace, channel, message_id FROM reactions "
            "WHERE platform = ? AND workspace = ? AND user_id = ?",
            [member.platform, member.workspace, member.user_id],
        ).fetchall()
    ]
    for entry in plan.entries:
        orphans = repertoire.answers_for(entry) if entry.kind == EntryKind.QUESTION else []
        repertoire.add_tombstone(entry.source, at)
        repertoire.delete_message(entry.source)
        for answer in orphans:
            repertoire.set_accepted(answer.id, False)
    repertoire.db.execute(
        "DELETE FROM reactions WHERE platform = ? AND workspace = ? AND user_id = ?",
        [member.platform, member.workspace, member.user_id],
    )
    repertoire.db.execute(
        "UPDATE entries SET saved_by_id = NULL WHERE saved_by_id = ?", [member.id]
    )
    repertoire.db.execute("DELETE FROM members WHERE id = ?", [member.id])
    return reacted
