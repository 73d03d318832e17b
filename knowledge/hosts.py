"""Session hosts: who could lead a session on a topic the community asks about often.

The members come from the one expertise ranking (:func:`rank_experts`, the
same as ``/cop who``); the need comes from the questions asked on the topic,
newest first, the ones still without an accepted answer marked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from knowledge.expertise import rank_experts, topic_roots
from knowledge.models import ChannelRef, Entry, EntryKind, Expert, to_db_time
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause
from knowledge.storage import EntryFilter, as_viewer

__all__ = ["HostSuggestion", "NeedQuestion", "frequent_topics", "hosts_for_topic"]


@dataclass(frozen=True, slots=True)
class NeedQuestion:
    entry: Entry
    answered: bool
    accepted: bool


@dataclass(frozen=True, slots=True)
class HostSuggestion:
    topic: str
    questions: int
    open_questions: int
    recent: tuple[NeedQuestion, ...]
    hosts: tuple[Expert, ...]


def _topic_questions(
    repertoire: RelationalRepertoire, topic: str, viewer: ChannelRef | None, now: datetime
) -> list[tuple[Entry, int, int]]:
    """Visible questions on the topic: ``(entry, answer_count, has_accepted)``, newest first."""
    roots = topic_roots(repertoire, parse_query(topic, now=now), viewer)
    if not roots:
        return []
    marks = ", ".join("?" for _ in roots)
    # The roots were found for this viewer already; the listing checks again.
    entries = repertoire.entries(
        as_viewer(viewer),
        EntryFilter(ids=tuple(roots), kinds=(EntryKind.QUESTION,)),
        limit=len(roots),
    )
    status = {
        int(r[0]): (int(r[1]), int(r[2]))
        for r in repertoire.sql.rows(
            f"SELECT id, answer_count, has_accepted FROM entries WHERE id IN ({marks})", roots
        )
    }
    return [(e, *status.get(e.id, (0, 0))) for e in entries]


def hosts_for_topic(
    repertoire: RelationalRepertoire,
    topic: str,
    viewer: ChannelRef | None,
    *,
    now: datetime,
    hosts: int = 3,
    questions: int = 5,
) -> HostSuggestion:
    """Who could host a session on ``topic``, and the questions that show the need."""
    asked = _topic_questions(repertoire, topic, viewer, now)
    # The members who asked are the audience, not the hosts, unless they also give.
    experts = rank_experts(repertoire, topic, viewer, now=now, limit=hosts)
    return HostSuggestion(
        topic=topic,
        questions=len(asked),
        open_questions=sum(1 for _e, _n, accepted in asked if not accepted),
        recent=tuple(
            NeedQuestion(e, answered=n > 0, accepted=bool(acc)) for e, n, acc in asked[:questions]
        ),
        hosts=tuple(experts),
    )


def frequent_topics(
    repertoire: RelationalRepertoire,
    viewer: ChannelRef | None,
    *,
    since: datetime,
    min_questions: int = 3,
    limit: int = 5,
) -> list[tuple[str, int]]:
    """Tags the community asked about most since ``since``: ``(tag, questions)``."""
    visible_sql, visible_params = visibility_clause(viewer)
    rows = repertoire.sql.rows(
        "SELECT t.tag FROM entry_tags t JOIN entries e ON e.id = t.entry_id "
        f"WHERE e.kind = 'question' AND e.created_at >= ? AND {visible_sql}",
        [to_db_time(since), *visible_params],
    )
    counts = Counter(str(r[0]) for r in rows)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(tag, n) for tag, n in ranked if n >= min_questions][:limit]
