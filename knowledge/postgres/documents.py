"""Search documents: each question's and know-how's weighted ``tsvector``, rebuilt in one statement.

The document holds what SQLite's ``search_fts`` row holds (``Repertoire.reindex``):
the title (weight ``A``), the tags (``B``), the body without the title it
starts with (``C``) and the answers (``D``): the thread's answers, accepted
first, plus the entry a member said solved the question ("solved it" on a
suggestion). The same statement keeps ``answer_count`` and ``has_accepted``
in step, as ranking boosts on them.

One difference, on purpose: a linked entry joins the question's document only
when the question's channel may see it (it is public, or from that same
channel). Otherwise a public question would be found by the words of a
private answer.

:func:`reindex` takes any entry ids, answers included (their question is
rebuilt), so a bulk import can rebuild everything it touched in one call;
:func:`reindex_all` builds every document in one pass, the same statement
over the whole table (the set-wise import's, so its documents are by
construction the ones the replay makes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import Connection

__all__ = ["MAX_ANSWERS_CHARS", "reindex"]

#: Characters of the answers' text indexed per document: far beyond any real
#: thread, and well inside PostgreSQL's 1 MB limit on one tsvector.
MAX_ANSWERS_CHARS = 200_000

_REINDEX = """
WITH touched AS (
    SELECT id, kind, platform, workspace, channel, thread_id
    FROM entries WHERE {touched}
), roots AS (
    SELECT id FROM touched WHERE kind <> 'answer'
    UNION
    SELECT r.id FROM touched a
    JOIN entries r ON r.platform = a.platform AND r.workspace = a.workspace
        AND r.channel = a.channel AND r.message_id = a.thread_id
        AND r.kind IN ('question', 'knowhow')
    WHERE a.kind = 'answer'
), thread_answers AS (
    SELECT q.id AS root_id, a.text, a.accepted, a.created_at, 0 AS linked
    FROM roots JOIN entries q ON q.id = roots.id AND q.kind = 'question'
    JOIN entries a ON a.platform = q.platform AND a.workspace = q.workspace
        AND a.channel = q.channel AND a.thread_id = q.message_id AND a.kind = 'answer'
), link_targets AS (
    -- the entry that solved the question, when the question's channel may see it
    SELECT q.id AS root_id, t.*
    FROM roots JOIN entries q ON q.id = roots.id AND q.kind = 'question'
    JOIN similar_links l ON l.question_id = q.id
    JOIN entries t ON t.id = l.entry_id AND t.id <> q.id
    WHERE t.visibility = 'public'
        OR (t.platform = q.platform AND t.workspace = q.workspace AND t.channel = q.channel)
), linked_answers AS (
    -- its own text, or when it is a question, its first answer (accepted first, then oldest)
    SELECT root_id, text, true AS accepted, created_at, 1 AS linked
    FROM link_targets WHERE kind <> 'question'
    UNION ALL
    (SELECT DISTINCT ON (t.root_id) t.root_id, a.text, true, a.created_at, 1
    FROM link_targets t
    JOIN entries a ON a.platform = t.platform AND a.workspace = t.workspace
        AND a.channel = t.channel AND a.thread_id = t.message_id AND a.kind = 'answer'
    WHERE t.kind = 'question'
    ORDER BY t.root_id, a.accepted DESC, a.created_at, a.id)
), answers AS (
    SELECT * FROM thread_answers UNION ALL SELECT * FROM linked_answers
), built AS (
    SELECT roots.id,
        count(a.root_id) AS answer_count,
        coalesce(bool_or(a.accepted), false) AS has_accepted,
        left(coalesce(string_agg(a.text, E'\\n'
            ORDER BY a.linked, a.accepted DESC, a.created_at), ''), %(max_answers)s) AS answers,
        (SELECT coalesce(string_agg(tag, ' ' ORDER BY tag), '')
            FROM entry_tags WHERE entry_id = roots.id) AS tags
    FROM roots LEFT JOIN answers a ON a.root_id = roots.id
    GROUP BY roots.id
)
UPDATE entries e SET
    answer_count = b.answer_count,
    has_accepted = b.has_accepted,
    search_document =
        setweight(to_tsvector('copbot', copbot_words(e.title)), 'A')
        || setweight(to_tsvector('copbot', copbot_words(b.tags)), 'B')
        || setweight(to_tsvector('copbot', copbot_words(CASE
            WHEN e.title <> '' AND starts_with(e.text, e.title)
            THEN substr(e.text, length(e.title) + 1) ELSE e.text END)), 'C')
        || setweight(to_tsvector('copbot', copbot_words(b.answers)), 'D')
FROM built b
WHERE e.id = b.id
"""


#: The statement for some entries (an answer's id stands for its question's document).
_REINDEX_SOME = _REINDEX.format(touched="id = ANY(%(ids)s)")
#: The statement for every document at once: one set-wise pass (joins, no id list).
_REINDEX_EVERY = _REINDEX.format(touched="kind <> 'answer'")


def reindex_all(conn: Connection[Any]) -> int:
    """Rebuild every document (after a change to how documents are built, or a bulk load);
    how many."""
    cursor = conn.execute(_REINDEX_EVERY, {"max_answers": MAX_ANSWERS_CHARS})
    return max(cursor.rowcount, 0)


def reindex(conn: Connection[Any], entry_ids: Iterable[int]) -> int:
    """Rebuild the documents of these entries (an answer's question for an answer); how many."""
    ids = sorted(set(entry_ids))
    if not ids:
        return 0
    cursor = conn.execute(_REINDEX_SOME, {"ids": ids, "max_answers": MAX_ANSWERS_CHARS})
    return max(cursor.rowcount, 0)
