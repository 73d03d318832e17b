"""Keyword search on SQLite: the parsed query as an FTS5 ``MATCH``, ranked by weighted bm25.

FTS5's bm25 with the field weights of :mod:`knowledge.relevance`, times the
boosts (an accepted answer, any answer, know-how). When every word is
required and nothing matches, the search falls back to any word, keeping
only the rarest words within a posting budget. Every word reaches FTS5
re-quoted (:func:`knowledge.query.fts_expression`): never as query syntax.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from sqlite_utils import Database

from knowledge.models import Audience, Entry, Viewer, to_db_time
from knowledge.query import ParsedQuery, fts_expression
from knowledge.relational.rows import entry_columns, row_to_entry
from knowledge.relational.visibility import visibility_clause
from knowledge.relevance import (
    BOOST_ACCEPTED,
    BOOST_ANSWERED,
    BOOST_KNOWHOW,
    FIELD_WEIGHTS,
    KNOWHOW_KINDS,
)
from knowledge.sqlite.visible_match import still_matching
from knowledge.sqlite.vocabulary import (
    VocabularySource,
    document_count,
    document_frequencies,
    stem_words,
)
from knowledge.storage.matches import ScoredEntry
from knowledge.text import fold
from knowledge.visible_document import AnswerSource

__all__ = [
    "FALLBACK_POSTINGS",
    "RERANK_CANDIDATES",
    "SQLITE_ENTRY_COLUMNS",
    "KeywordSource",
    "boost_sql",
    "keyword_matches",
    "matching_ids",
    "rarest_words",
    "read_ranked",
]

#: The entry columns with tags aggregated SQLite's way.
SQLITE_ENTRY_COLUMNS = entry_columns("group_concat(tag, ' ')")
#: The any-word fallback's posting budget: its words' document frequencies added up.
FALLBACK_POSTINGS = 5_000
#: How many documents FTS5 ranks on text alone before boosts and filters re-rank them.
RERANK_CANDIDATES = 100


class KeywordSource(AnswerSource, VocabularySource, Protocol):
    """What keyword search needs of the SQLite repertoire: its database and its answers."""


def boost_sql() -> str:
    """The boosts as a SQL factor on an entry (alias ``e``)."""
    return (
        f"(CASE WHEN e.kind = 'knowhow' THEN {BOOST_KNOWHOW} "
        f"WHEN e.has_accepted = 1 THEN {BOOST_ACCEPTED} "
        f"WHEN e.answer_count > 0 THEN {BOOST_ANSWERED} ELSE 1.0 END)"
    )


def _author_ids(db: Database, authors: tuple[str, ...]) -> list[int]:
    """Members ``from:`` names: user id, handle, display name (with or without spaces) or
    its first word, compared folded ("jose" finds José García)."""
    wanted = set(authors)
    ids: list[int] = []
    for member_id, user_id, handle, display_name in db.execute(
        "SELECT id, user_id, handle, display_name FROM members"
    ).fetchall():
        name = " ".join(fold(display_name).split())
        forms = {fold(user_id), fold(handle), name, name.replace(" ", ""), name.split(" ")[0]}
        if wanted & (forms - {""}):
            ids.append(int(member_id))
    return ids


def _filters(db: Database, query: ParsedQuery) -> tuple[list[str], list[Any]]:
    """SQL conditions (on alias ``e``) for the query's filters."""
    where: list[str] = []
    params: list[Any] = []
    for tag in query.tags:
        where.append("e.id IN (SELECT entry_id FROM entry_tags WHERE tag = ?)")
        params.append(tag)
    if query.authors:
        authors = _author_ids(db, query.authors)
        where.append(f"e.author_id IN ({', '.join('?' for _ in authors) or 'NULL'})")
        params += authors
    if query.channels:
        marks = ", ".join("?" for _ in query.channels)
        where.append(f"(lower(e.channel_name) IN ({marks}) OR lower(e.channel) IN ({marks}))")
        params += list(query.channels) * 2
    if query.kinds:
        base = [k for k in query.kinds if k in {"question", "knowhow", "answer"}]
        sub = [k for k in query.kinds if k in KNOWHOW_KINDS]
        ors: list[str] = []
        if base:
            ors.append("e.kind IN (" + ", ".join("?" for _ in base) + ")")
            params += base
        if sub:
            ors.append(
                "(e.kind = 'knowhow' AND (CASE WHEN e.knowhow_kind = '' THEN 'howto' "
                "ELSE e.knowhow_kind END) IN (" + ", ".join("?" for _ in sub) + "))"
            )
            params += sub
        where.append("(" + " OR ".join(ors) + ")")
    for flag in query.flags:
        if flag == "answered":
            where.append("(e.kind != 'question' OR e.answer_count > 0)")
        elif flag == "unanswered":
            where.append("(e.kind = 'question' AND e.answer_count = 0)")
        elif flag == "accepted":
            where.append("(e.kind = 'question' AND e.has_accepted = 1)")
    if query.before is not None:
        where.append("e.created_at < ?")
        params.append(to_db_time(query.before))
    if query.after is not None:
        where.append("e.created_at >= ?")
        params.append(to_db_time(query.after))
    return where, params


def keyword_matches(
    source: KeywordSource, query: ParsedQuery, viewer: Audience, *, limit: int
) -> list[ScoredEntry]:
    """The best ``limit`` entries for ``query`` that ``viewer`` may see (see
    :meth:`knowledge.storage.TextSearch.keyword_matches`)."""
    if query.is_empty:
        return []
    db = source.db
    visible_sql, visible_params = visibility_clause(viewer)
    filter_sql, filter_params = _filters(db, query)
    wants_answers = "answer" in query.kinds
    if not wants_answers:
        filter_sql.append("e.kind IN ('question', 'knowhow')")
    conditions = [visible_sql, *filter_sql]
    params = [*visible_params, *filter_params]

    rows: list[tuple[Any, ...]] = []
    if query.has_match and not wants_answers:
        for mode in ("and", "or"):
            any_word = query if mode == "and" else rarest_words(source, query)
            expression = fts_expression(any_word, mode=mode)
            if expression is None:
                continue
            rows = _fts_rows(db, expression, conditions, params, limit)
            if isinstance(viewer, Viewer) and viewer.is_public_web:
                rows = _matching_what_is_shown(source, rows, expression, viewer)
            if rows:
                break
    else:
        rows = _filtered_rows(db, query, conditions, params, limit)
    # bm25 is negative (lower is better): the interface's scores are higher-is-better.
    return [ScoredEntry(row_to_entry(row), -float(row[-1] or 0.0)) for row in rows]


def matching_ids(db: Database, query: ParsedQuery, viewer: Audience, *, limit: int) -> list[int]:
    """See :meth:`knowledge.storage.TextSearch.matching_ids`."""
    expression = fts_expression(query, mode="and")
    if expression is None:
        return []
    visible_sql, visible_params = visibility_clause(viewer)
    rows = db.execute(
        "SELECT e.id FROM search_fts JOIN entries e ON e.id = search_fts.rowid "
        f"WHERE search_fts MATCH ? AND {visible_sql} LIMIT ?",
        [expression, *visible_params, limit],
    ).fetchall()
    return [int(r[0]) for r in rows]


def rarest_words(source: KeywordSource, query: ParsedQuery) -> ParsedQuery:
    """``query`` for the any-word fallback: its rarest words, within a posting budget.

    FTS5 scores every document that matches: when no document holds all of two or
    three mid-frequency words, any-word matches tens of thousands of documents in
    a big repertoire. So the words go rarest first (document frequency from the
    index's vocabulary) while their frequencies add up to at most
    :data:`FALLBACK_POSTINGS`; the rarest always stays. A common word weighs
    little in bm25 (low idf), and a word no document holds matches nothing, so
    leaving them out changes the ranking little; while the budget holds, the
    query is unchanged.
    """
    words = list(dict.fromkeys(query.terms))
    if len(words) < 2:
        return query
    stems = stem_words(source, words)
    dfs = document_frequencies(source, sorted({s for s in stems if s}), document_count(source))
    known = sorted((dfs.get(s, 0), i) for i, s in enumerate(stems) if s and dfs.get(s, 0))
    if sum(df for df, _ in known) <= FALLBACK_POSTINGS:
        return query
    kept: list[int] = []
    postings = 0
    for df, i in known:
        if kept and postings + df > FALLBACK_POSTINGS:
            break
        kept.append(i)
        postings += df
    return replace(query, terms=tuple(words[i] for i in sorted(kept)))


def read_ranked(
    db: Database, scores: dict[int, float], conditions: list[str], params: list[Any]
) -> list[tuple[Any, ...]]:
    """The entries of ``scores`` read whole, each row ending with its score, best first.

    The filters (visibility first) are applied again: outside a transaction this
    read sees the database as it is now, and a channel another process made
    private since the ranking must not reach a viewer who may no longer see it.
    """
    rows = db.execute(
        f"SELECT {SQLITE_ENTRY_COLUMNS} FROM entries e JOIN members m ON m.id = e.author_id "
        f"WHERE e.id IN ({', '.join('?' for _ in scores)}) AND {' AND '.join(conditions)}",
        [*scores, *params],
    ).fetchall()
    ranked = [(*row, scores[int(row[0])]) for row in rows]
    ranked.sort(key=lambda row: (row[-1], row[0]))
    return ranked


def _fts_rows(
    db: Database,
    expression: str,
    conditions: list[str],
    params: list[Any],
    limit: int,
) -> list[tuple[Any, ...]]:
    """The ``limit`` best rows: bm25 over the index alone, then boosts and filters.

    Joining every match to ``entries`` before sorting costs about ten times the
    ranking itself on a large repertoire (a common word matches tens of
    thousands of documents), so FTS5 first ranks by text alone and keeps the
    best :data:`RERANK_CANDIDATES`; only those are joined, filtered and boosted
    (a rescoring of the top documents, as Lucene's rescorers do). When the
    filters leave fewer than ``limit`` of them and there may be more matches,
    the whole match set is ranked the exact way.
    """
    weights = ", ".join(str(w) for w in FIELD_WEIGHTS)
    candidates = db.execute(
        f"SELECT rowid, bm25(search_fts, {weights}) AS s FROM search_fts "
        "WHERE search_fts MATCH ? ORDER BY s LIMIT ?",
        [expression, max(RERANK_CANDIDATES, limit)],
    ).fetchall()
    if not candidates:
        return []
    text_score = {int(rowid): float(score) for rowid, score in candidates}
    marks = ", ".join("?" for _ in text_score)
    kept = db.execute(
        f"SELECT e.id, {boost_sql()} FROM entries e WHERE e.id IN ({marks}) "
        f"AND {' AND '.join(conditions)}",
        [*text_score, *params],
    ).fetchall()
    if len(kept) >= limit or len(candidates) < max(RERANK_CANDIDATES, limit):
        best = sorted((text_score[int(i)] * float(boost), int(i)) for i, boost in kept)[:limit]
        if not best:
            return []
        return read_ranked(db, {entry_id: score for score, entry_id in best}, conditions, params)
    sql = (
        f"SELECT {SQLITE_ENTRY_COLUMNS}, bm25(search_fts, {weights}) * {boost_sql()} AS score "
        "FROM search_fts JOIN entries e ON e.id = search_fts.rowid "
        "JOIN members m ON m.id = e.author_id "
        f"WHERE search_fts MATCH ? AND {' AND '.join(conditions)} "
        "ORDER BY score LIMIT ?"
    )
    return [tuple(r) for r in db.execute(sql, [expression, *params, limit]).fetchall()]


def _matching_what_is_shown(
    source: AnswerSource, rows: list[tuple[Any, ...]], expression: str, viewer: Viewer
) -> list[tuple[Any, ...]]:
    """Drop hits that matched only through answers the public web may not see.

    The search document of a question holds every answer in its thread; on the
    web, a word said only by a member who opted out (or in an answer given after
    the channel turned private) must not bring the question up.
    """
    entries: list[Entry] = [row_to_entry(row) for row in rows]
    keep = still_matching(source, entries, expression, viewer)
    return [row for row, entry in zip(rows, entries, strict=True) if entry.id in keep]


def _filtered_rows(
    db: Database,
    query: ParsedQuery,
    conditions: list[str],
    params: list[Any],
    limit: int,
) -> list[tuple[Any, ...]]:
    """Filters only (``tag:pandas``), or answers asked for: newest first, no bm25."""
    extra: list[Any] = []
    if query.has_match:
        # kind:answer with words: match answers' own text with a LIKE on each word.
        for word in query.all_words:
            conditions = [*conditions, "lower(e.text) LIKE ?"]
            extra.append(f"%{word}%")
    if query.excluded:
        for tokens in query.excluded:
            conditions = [*conditions, "lower(e.text) NOT LIKE ?"]
            extra.append(f"%{' '.join(tokens)}%")
    sql = (
        f"SELECT {SQLITE_ENTRY_COLUMNS}, 0.0 AS score FROM entries e JOIN members m "
        f"ON m.id = e.author_id WHERE {' AND '.join(conditions)} "
        "ORDER BY e.created_at DESC, e.id DESC LIMIT ?"
    )
    return [tuple(r) for r in db.execute(sql, [*params, *extra, limit]).fetchall()]
