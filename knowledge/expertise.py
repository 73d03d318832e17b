"""Who knows a topic: members ranked by what they gave the repertoire on it.

One ranking serves ``/cop who``, digests and follow-ups, so they never
disagree. An accepted answer counts most, know-how next, any other answer
least; each contribution fades with age (half-life :data:`HALF_LIFE_DAYS`),
so the member who helped last month ranks above one who helped years ago.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from knowledge.models import ChannelRef, EntryKind, Expert, from_db_time
from knowledge.query import ParsedQuery, parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause

__all__ = [
    "HALF_LIFE_DAYS",
    "TOPIC_MATCHES",
    "WEIGHT_ACCEPTED",
    "WEIGHT_ANSWER",
    "WEIGHT_KNOWHOW",
    "rank_experts",
    "topic_roots",
]

WEIGHT_ACCEPTED = 3.0
WEIGHT_KNOWHOW = 2.0
WEIGHT_ANSWER = 1.0
HALF_LIFE_DAYS = 180.0
#: Entries on a topic found by its words (beyond its tag) at most.
TOPIC_MATCHES = 500


def topic_roots(
    repertoire: RelationalRepertoire, query: ParsedQuery, viewer: ChannelRef | None
) -> list[int]:
    """Ids of visible questions and know-how on the topic (tag or text match)."""
    visible_sql, visible_params = visibility_clause(viewer)
    ids: set[int] = set()
    words = query.terms + tuple(query.tags)
    for tag in words:
        rows = repertoire.sql.rows(
            f"SELECT e.id FROM entry_tags t JOIN entries e ON e.id = t.entry_id "
            f"WHERE t.tag = ? AND {visible_sql}",
            [tag, *visible_params],
        )
        ids.update(int(r[0]) for r in rows)
    if query.has_match:
        ids.update(repertoire.matching_ids(query, viewer, limit=TOPIC_MATCHES))
    return sorted(ids)


def rank_experts(
    repertoire: RelationalRepertoire,
    topic: str,
    viewer: ChannelRef | None,
    *,
    now: datetime | None = None,
    limit: int = 5,
) -> list[Expert]:
    """Members who know ``topic``, best first, counting only what ``viewer`` may see."""
    now = now or datetime.now(UTC)
    query = parse_query(topic, now=now)
    roots = topic_roots(repertoire, query, viewer)
    if not roots:
        return []
    visible_sql, visible_params = visibility_clause(viewer)
    marks = ", ".join("?" for _ in roots)
    rows = repertoire.sql.rows(
        f"""
        SELECT e.author_id, e.kind, e.accepted, e.created_at FROM entries e
        WHERE e.id IN ({marks}) AND e.kind = 'knowhow'
        UNION ALL
        SELECT e.author_id, e.kind, e.accepted, e.created_at FROM entries e
        JOIN entries q ON q.id IN ({marks}) AND q.kind = 'question'
            AND e.platform = q.platform AND e.workspace = q.workspace
            AND e.channel = q.channel AND e.thread_id = q.message_id
        WHERE e.kind = 'answer' AND e.author_id != q.author_id AND {visible_sql}
        """,
        [*roots, *roots, *visible_params],
    )
    score: dict[int, float] = defaultdict(float)
    accepted: dict[int, int] = defaultdict(int)
    answers: dict[int, int] = defaultdict(int)
    knowhow: dict[int, int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    for author_id, kind, is_accepted, created_at in rows:
        when = from_db_time(created_at)
        age_days = max(0.0, (now - when).total_seconds() / 86400)
        fade = 0.5 ** (age_days / HALF_LIFE_DAYS)
        if kind == EntryKind.KNOWHOW:
            weight = WEIGHT_KNOWHOW
            knowhow[author_id] += 1
        elif is_accepted:
            weight = WEIGHT_ACCEPTED
            accepted[author_id] += 1
            answers[author_id] += 1
        else:
            weight = WEIGHT_ANSWER
            answers[author_id] += 1
        score[author_id] += weight * fade
        if author_id not in latest or when > latest[author_id]:
            latest[author_id] = when
    experts: list[Expert] = []
    for author_id, value in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        member = repertoire.get_member(author_id)
        if member is None:
            continue
        experts.append(
            Expert(
                member=member,
                score=round(value, 3),
                accepted_answers=accepted[author_id],
                answers=answers[author_id],
                knowhow=knowhow[author_id],
                latest=latest.get(author_id),
            )
        )
    return experts
