"""Lists of the public web view: the home page's sections and the topic pages.

Each takes the public web as its viewer (:meth:`Viewer.public_web`); questions
come with the count of their published answers (never of the others). Lists are
bounded and newest first. Portable SQL: either backend serves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.models import Entry, Viewer
from knowledge.published import NEWEST_FIRST, entries_where
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause

__all__ = [
    "RECENT_TOPIC_WINDOW",
    "EntryPage",
    "QuestionSummary",
    "TopicCount",
    "new_knowhow",
    "open_questions",
    "published_tags",
    "recent_answered",
    "recent_topics",
    "topic_page",
]

#: Joins an answer ``a`` to the entry ``e`` whose thread it is in.
_ANSWER_OF_E = (
    "a.kind = 'answer' AND a.platform = e.platform AND a.workspace = e.workspace "
    "AND a.channel = e.channel AND a.thread_id = e.message_id"
)


@dataclass(frozen=True, slots=True)
class QuestionSummary:
    """A question in a list, with what the web may see of its answers."""

    entry: Entry
    answers: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class TopicCount:
    tag: str
    count: int


@dataclass(frozen=True, slots=True)
class EntryPage:
    """One page of a longer list: whether more follow, and how long it is when that is cheap
    to know exactly (``None``: a long list, counted no further)."""

    entries: tuple[QuestionSummary, ...]
    has_next: bool
    total: int | None


def _summaries(
    repertoire: RelationalRepertoire,
    web: Viewer,
    where: str,
    params: list[Any],
    order: str,
    limit: int,
    offset: int = 0,
    *,
    index: str = "",
) -> tuple[QuestionSummary, ...]:
    """Published entries (alias ``e``) matching ``where``, with their published answer counts.

    ``index`` names the index to walk, where SQLite (which has no statistics here)
    would otherwise pick one that reads far more rows.
    """
    visible_e, vparams_e = visibility_clause(web, "e")
    entries = entries_where(
        repertoire,
        f"{visible_e} AND {where}",
        [*vparams_e, *params],
        order,
        limit,
        offset,
        index=index,
    )
    return tuple(_with_counts(repertoire, web, entries))


def _with_counts(
    repertoire: RelationalRepertoire, web: Viewer, entries: Sequence[Entry]
) -> list[QuestionSummary]:
    if not entries:
        return []
    visible_a, vparams_a = visibility_clause(web, "a")
    marks = ", ".join("?" for _ in entries)
    rows = repertoire.sql.rows(
        f"SELECT e.id, count(a.id), coalesce(sum(CASE WHEN a.accepted THEN 1 ELSE 0 END), 0) "
        f"FROM entries e LEFT JOIN entries a ON {_ANSWER_OF_E} AND {visible_a} "
        f"WHERE e.id IN ({marks}) GROUP BY e.id",
        [*vparams_a, *(e.id for e in entries)],
    )
    counts = {int(i): (int(n), bool(acc)) for i, n, acc in rows}
    return [QuestionSummary(e, *counts.get(e.id, (0, False))) for e in entries]


def _has_published_answer(web: Viewer) -> tuple[str, list[Any]]:
    visible_a, vparams_a = visibility_clause(web, "a")
    return f"EXISTS (SELECT 1 FROM entries a WHERE {_ANSWER_OF_E} AND {visible_a})", vparams_a


def recent_answered(
    repertoire: RelationalRepertoire, web: Viewer, limit: int = 10
) -> tuple[QuestionSummary, ...]:
    """Questions with a published answer, newest question first."""
    answered, params = _has_published_answer(web)
    return _summaries(
        repertoire, web, f"e.kind = 'question' AND {answered}", params, NEWEST_FIRST, limit
    )


def open_questions(
    repertoire: RelationalRepertoire, web: Viewer, limit: int = 10
) -> tuple[QuestionSummary, ...]:
    """Questions nobody has answered where the web can see it, newest first (they need help)."""
    answered, params = _has_published_answer(web)
    where = (
        f"e.kind = 'question' AND NOT {answered} "
        "AND NOT EXISTS (SELECT 1 FROM similar_links l WHERE l.question_id = e.id)"
    )
    return _summaries(repertoire, web, where, params, NEWEST_FIRST, limit)


def new_knowhow(
    repertoire: RelationalRepertoire, web: Viewer, limit: int = 10
) -> tuple[QuestionSummary, ...]:
    """Know-how, newest first."""
    return _summaries(repertoire, web, "e.kind = 'knowhow'", [], NEWEST_FIRST, limit)


#: Home-page topics are counted over this many of the newest published entries:
#: what the community talks about now, at a cost that does not grow with its history.
RECENT_TOPIC_WINDOW = 2_000


def recent_topics(
    repertoire: RelationalRepertoire, web: Viewer, limit: int = 24
) -> list[TopicCount]:
    """The most used tags on the newest published questions and know-how."""
    visible, vparams = visibility_clause(web, "e")
    rows = repertoire.sql.rows(
        "SELECT t.tag, count(*) AS n FROM entry_tags t WHERE t.entry_id IN ("
        f"SELECT e.id FROM entries e WHERE e.kind IN ('question', 'knowhow') AND {visible} "
        f"ORDER BY {NEWEST_FIRST} LIMIT ?) GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT ?",
        [*vparams, RECENT_TOPIC_WINDOW, limit],
    )
    return [TopicCount(str(tag), int(n)) for tag, n in rows]


def published_tags(repertoire: RelationalRepertoire, web: Viewer) -> list[str]:
    """Every tag that has a page: on at least one published question or know-how.

    One existence check per distinct tag (each stops at its first published
    entry), rather than counting every tagged entry.
    """
    visible, vparams = visibility_clause(web, "e")
    tags = [str(r[0]) for r in repertoire.sql.rows("SELECT DISTINCT tag FROM entry_tags")]
    found: list[str] = []
    for tag in tags:
        row = repertoire.sql.one(
            "SELECT 1 FROM entry_tags t JOIN entries e ON e.id = t.entry_id WHERE t.tag = ? "
            f"AND e.kind IN ('question', 'knowhow') AND {visible} LIMIT 1",
            [tag, *vparams],
        )
        if row is not None:
            found.append(tag)
    return sorted(found)


#: Cost model of the two ways to list a tag (measured at 1M messages): walking the
#: tag's rows costs about this many times more per row than walking entries by date.
_TAG_ROW_COST = 4.0


def topic_page(
    repertoire: RelationalRepertoire, web: Viewer, tag: str, offset: int, limit: int
) -> EntryPage:
    """Published questions and know-how tagged ``tag``, newest first, one page of them.

    Two plans, picked by how common the tag is: a rare tag's rows are read
    through the tag index and sorted (cost grows with the tag); a common tag is
    found walking entries newest first until the page is full (cost grows with
    how rare it is). Either stays bounded; the exact total is counted only for
    the rare tag, where it is cheap.
    """
    sql = repertoire.sql
    tagged = _count(sql.one("SELECT count(*) FROM entry_tags WHERE tag = ?", [tag]))
    if tagged == 0:
        return EntryPage((), False, 0)
    entries = _count(sql.one("SELECT coalesce(max(id), 0) FROM entries"))
    by_date = (offset + limit + 1) * entries / tagged
    kinds = "e.kind IN ('question', 'knowhow')"
    if by_date < _TAG_ROW_COST * tagged:
        where = (
            f"{kinds} AND EXISTS (SELECT 1 FROM entry_tags t WHERE t.entry_id = e.id AND t.tag = ?)"
        )
        order = NEWEST_FIRST
        found = _summaries(
            repertoire, web, where, [tag], order, limit + 1, offset, index="entries_created"
        )
        return EntryPage(found[:limit], len(found) > limit, None)
    where = f"{kinds} AND e.id IN (SELECT entry_id FROM entry_tags WHERE tag = ?)"
    found = _summaries(repertoire, web, where, [tag], NEWEST_FIRST, limit + 1, offset)
    visible, vparams = visibility_clause(web, "e")
    total = _count(
        sql.one(f"SELECT count(*) FROM entries e WHERE {visible} AND {where}", [*vparams, tag])
    )
    return EntryPage(found[:limit], len(found) > limit, total)


def _count(row: tuple[Any, ...] | None) -> int:
    return int(row[0]) if row else 0
