"""A member's public page: what they gave where the public web can see it.

Only published contributions count (:func:`knowledge.relational.visibility.visibility_clause` with
the public web as the viewer, :meth:`Viewer.public_web`): an answer counts when it is published and
so is the question it answers (the page it is shown on). A member with nothing published, who opted
out (``/cop web off``), or who was forgotten has no page at all, so the web never lists people who
only spoke in private.

Every linked identity of the person counts as one member (as ``/cop profile`` does); the page lives
at the smallest member id of the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from knowledge.identity import identity_group
from knowledge.models import Entry, Member, Viewer
from knowledge.published import NEWEST_FIRST, entries_where
from knowledge.published_lists import TopicCount
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause

__all__ = ["Contribution", "MemberPage", "member_page"]

#: Joins an answer ``a`` to its question ``q``.
_ANSWER_OF_Q = (
    "a.kind = 'answer' AND q.kind = 'question' AND a.platform = q.platform "
    "AND a.workspace = q.workspace AND a.channel = q.channel AND a.thread_id = q.message_id"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Contribution:
    """An answer (shown on its question's page) or a know-how entry (its own page)."""

    entry: Entry
    page: Entry


@dataclass(frozen=True, slots=True)
class MemberPage:
    member: Member
    #: The member id the page lives at (the smallest of the person's linked identities).
    canonical_id: int
    questions: int
    answers: int
    accepted: int
    knowhow: int
    thanks: int
    topics: tuple[TopicCount, ...]
    contributions: tuple[Contribution, ...]
    asked: tuple[Entry, ...]
    last_modified: datetime


def member_page(
    repertoire: RelationalRepertoire, web: Viewer, member_id: int, limit: int = 20
) -> MemberPage | None:
    """The public page of ``member_id``; ``None`` when there must be none."""
    member = repertoire.get_member(member_id)
    if member is None:
        return None
    ids = identity_group(repertoire, member_id)
    if web.hidden_authors & set(ids):
        return None
    marks = ", ".join("?" for _ in ids)
    visible_e, vp_e = visibility_clause(web, "e")
    visible_a, vp_a = visibility_clause(web, "a")
    visible_q, vp_q = visibility_clause(web, "q")
    mine_e = f"e.author_id IN ({marks}) AND {visible_e}"
    own = [*ids, *vp_e]
    answers_sql = f"FROM entries a JOIN entries q ON {_ANSWER_OF_Q} AND {visible_q} "
    answers_where = f"WHERE a.author_id IN ({marks}) AND {visible_a}"
    answers_params = [*vp_q, *ids, *vp_a]

    sql = repertoire.sql
    counts = {
        str(kind): int(n)
        for kind, n in sql.rows(
            f"SELECT e.kind, count(*) FROM entries e WHERE {mine_e} "
            "AND e.kind IN ('question', 'knowhow') GROUP BY e.kind",
            own,
        )
    }
    answered = sql.one(
        "SELECT count(*), coalesce(sum(CASE WHEN a.accepted THEN 1 ELSE 0 END), 0) "
        f"{answers_sql}{answers_where}",
        answers_params,
    ) or (0, 0)
    questions, knowhow = counts.get("question", 0), counts.get("knowhow", 0)
    answers, accepted = int(answered[0]), int(answered[1])
    if not (questions or knowhow or answers):
        return None

    topics = sql.rows(
        "SELECT tag, count(*) AS n FROM entry_tags WHERE entry_id IN ("
        f"SELECT e.id FROM entries e WHERE {mine_e} AND e.kind = 'knowhow' "
        f"UNION SELECT q.id {answers_sql}{answers_where}) "
        "GROUP BY tag ORDER BY n DESC, tag LIMIT 12",
        [*own, *answers_params],
    )
    thanks = sql.one(
        f"SELECT count(*) FROM thanks t JOIN entries e ON e.id = t.entry_id "
        f"WHERE t.receiver_id IN ({marks}) AND {visible_e}",
        [*ids, *vp_e],
    ) or (0,)

    recent = sql.rows(
        f"SELECT a.id, q.id, a.created_at {answers_sql}{answers_where} "
        f"UNION ALL SELECT e.id, e.id, e.created_at FROM entries e WHERE {mine_e} "
        "AND e.kind = 'knowhow' ORDER BY 3 DESC, 1 DESC LIMIT ?",
        [*answers_params, *own, limit],
    )
    contributions = _contributions(repertoire, recent)
    asked = entries_where(repertoire, f"{mine_e} AND e.kind = 'question'", own, NEWEST_FIRST, limit)
    latest = [c.entry for c in contributions] + list(asked)
    last_modified = max((max(e.created_at, e.updated_at) for e in latest), default=_EPOCH)
    return MemberPage(
        member=repertoire.get_member(min(ids)) or member,
        canonical_id=min(ids),
        questions=questions,
        answers=answers,
        accepted=accepted,
        knowhow=knowhow,
        thanks=int(thanks[0]),
        topics=tuple(TopicCount(str(tag), int(n)) for tag, n in topics),
        contributions=tuple(contributions),
        asked=tuple(asked),
        last_modified=last_modified,
    )


def _contributions(repertoire: RelationalRepertoire, rows: list[Any]) -> list[Contribution]:
    out: list[Contribution] = []
    for entry_id, page_id, _at in rows:
        entry = repertoire.get_entry(int(entry_id))
        page = entry if page_id == entry_id else repertoire.get_entry(int(page_id))
        if entry is not None and page is not None:
            out.append(Contribution(entry, page))
    return out
