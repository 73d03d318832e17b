"""The PostgreSQL repertoire's full-text search: the interface's ``TextSearch`` on ``tsvector``.

Two stages, both bounded. First the index finds the candidates and ranks
them cheaply (:mod:`~knowledge.postgres.ranking`: all words, then any word
over the rarest words' documents; :mod:`~knowledge.postgres.similar` for
similar questions), the visibility rule and the filters inside that query.
Then the best :data:`RESCORED` are scored with FTS5's bm25
(:mod:`~knowledge.postgres.bm25`) and the boosts of :mod:`knowledge.relevance`,
so a query ranks as it does on SQLite and the similar finder's scores mean
the same to its confidence model.

For the public web each hit is checked again against the document of what
the web may see (:func:`knowledge.visible_document.visible_document`), as on
SQLite: a word said only in an answer the web may not see finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from psycopg import Connection

from knowledge.models import Audience, Viewer
from knowledge.postgres import bm25, termstats
from knowledge.postgres.filters import query_filters, visibility
from knowledge.postgres.params import Params
from knowledge.postgres.ranking import (
    Ranked,
    WeightedPart,
    boost_sql,
    idf,
    rank_all_words,
    rank_any_word,
)
from knowledge.postgres.schema_search import CONFIG
from knowledge.postgres.similar import similar_candidates as similar_ranked
from knowledge.postgres.tsquery import MatchPart, Mode, compile_tsquery, match_parts
from knowledge.query import ParsedQuery
from knowledge.relational.rows import entry_columns, row_to_entry
from knowledge.relational.visibility import visibility_clause
from knowledge.relevance import FIELD_WEIGHTS
from knowledge.storage.matches import ScoredEntry, SimilarLookup
from knowledge.storage.sql import Sql
from knowledge.visible_document import AnswerSource, visible_document

__all__ = ["RESCORED", "PostgresTextSearch", "TextSource"]

#: Candidates rescored with bm25 (at least; more when more are asked for).
RESCORED = 100
#: The similar finder rescores this many (as SQLite's finder ranks 200 inside FTS5).
SIMILAR_RESCORED = 200
#: Up to this many documents, bm25's document frequencies are counted for each query.
FRESH_COUNTS_BELOW = 20_000

_COLUMNS = entry_columns("string_agg(tag, ' ')")


class TextSource(AnswerSource, Protocol):
    """What text search needs of the PostgreSQL repertoire."""

    conn: Connection[Any]

    @property
    def sql(self) -> Sql: ...


def _scored(
    source: TextSource,
    ranked: Sequence[Ranked],
    text_scores: Mapping[int, float],
    viewer: Audience,
    *,
    boosts: bool,
) -> list[ScoredEntry]:
    """The entries of ``ranked`` that ``viewer`` may still see, each scored bm25 times its
    boost, best first (ties: oldest).

    The visibility rule is applied again: the connection is in autocommit, so
    this read sees the database as it is now, not as the ranking saw it, and a
    channel another process made private in between must not reach the viewer.
    """
    ids = [r.entry_id for r in ranked]
    if not ids:
        return []
    boost = boost_sql() if boosts else "1.0"
    visible_sql, visible_params = visibility_clause(viewer)
    rows = source.sql.rows(
        f"SELECT {_COLUMNS}, e.has_accepted, {boost} FROM entries e "
        f"JOIN members m ON m.id = e.author_id WHERE e.id = ANY(?) AND {visible_sql}",
        [ids, *visible_params],
    )
    scored = [
        ScoredEntry(
            row_to_entry(row), text_scores.get(int(row[0]), 0.0) * float(row[-1]), bool(row[-2])
        )
        for row in rows
    ]
    scored.sort(key=lambda s: (-s.score, s.entry.id))
    return scored


def _parts_with_df(conn: Connection[Any], parts: list[MatchPart]) -> tuple[list[int], int]:
    n_docs = termstats.document_count(conn)
    return _ranking_frequencies(conn, parts, n_docs), n_docs


def _ranking_frequencies(conn: Connection[Any], parts: list[MatchPart], n_docs: int) -> list[int]:
    """Document frequencies for bm25's idf: counted afresh in a repertoire of up to
    :data:`FRESH_COUNTS_BELOW` documents (as FTS5 counts its own, exactly), else through
    the cache (a count within a quarter of the truth moves a log-idf little)."""
    if n_docs <= FRESH_COUNTS_BELOW:
        return termstats.count_matches(conn, parts, termstats.count_cap(n_docs))
    return termstats.document_frequencies(conn, parts, n_docs)


def _matching_what_is_shown(
    source: TextSource, hits: list[ScoredEntry], query: ParsedQuery, mode: Mode, web: Viewer
) -> list[ScoredEntry]:
    """The hits whose document, as the web may see it, still matches ``query``."""
    if not hits:
        return hits
    params = Params()
    tsquery = compile_tsquery(query, params, mode)
    if tsquery is None:
        return []
    docs = [visible_document(source, hit.entry, web) for hit in hits]
    columns = list(zip(*docs, strict=True))
    rows = source.conn.execute(
        f"""
        SELECT u.id FROM unnest({params.add([h.entry.id for h in hits])}::bigint[],
            {params.add(list(columns[0]))}::text[], {params.add(list(columns[1]))}::text[],
            {params.add(list(columns[2]))}::text[], {params.add(list(columns[3]))}::text[])
            AS u(id, title, body, answers, tags)
        WHERE (setweight(to_tsvector('{CONFIG}', copbot_words(u.title)), 'A')
            || setweight(to_tsvector('{CONFIG}', copbot_words(u.tags)), 'B')
            || setweight(to_tsvector('{CONFIG}', copbot_words(u.body)), 'C')
            || setweight(to_tsvector('{CONFIG}', copbot_words(u.answers)), 'D')) @@ {tsquery}
        """,
        params.values,
    ).fetchall()
    keep = {int(r[0]) for r in rows}
    return [hit for hit in hits if hit.entry.id in keep]


def keyword_matches(
    source: TextSource, query: ParsedQuery, viewer: Audience, *, limit: int
) -> list[ScoredEntry]:
    """See :meth:`knowledge.storage.TextSearch.keyword_matches`."""
    if query.is_empty:
        return []
    if not query.has_match or "answer" in query.kinds:
        return _filtered(source, query, viewer, limit=limit)
    conn = source.conn
    window = max(RESCORED, limit)
    or_parts = match_parts(query, "or")
    dfs, n_docs = _parts_with_df(conn, or_parts)
    df_of = {(p.text, p.phrase): df for p, df in zip(or_parts, dfs, strict=True)}
    avgdl = bm25.average_length(conn, n_docs)
    modes: tuple[Mode, ...] = ("and", "or")
    for mode in modes:
        if mode == "and":
            ranked = rank_all_words(conn, query, viewer, limit=window)
            scoring = match_parts(query, "and")
        else:
            weighted = [
                WeightedPart(p, df, idf(n_docs, df))
                for p, df in zip(or_parts, dfs, strict=True)
                if df > 0
            ]
            params = Params()
            conditions = [visibility(viewer, params), *query_filters(query, params)]
            conditions.append("e.kind IN ('question', 'knowhow')")
            ranked = rank_any_word(
                conn, weighted, conditions, params, excluded=_excluded(query), limit=window
            )
            scoring = [w.part for w in weighted]
        parts = [
            bm25.Bm25Part(p.text, bm25.fts5_idf(n_docs, df_of.get((p.text, p.phrase), 0)))
            for p in scoring
        ]
        text_scores = bm25.rescore(conn, [r.entry_id for r in ranked], parts, FIELD_WEIGHTS, avgdl)
        hits = _scored(source, ranked, text_scores, viewer, boosts=True)
        if isinstance(viewer, Viewer) and viewer.is_public_web:
            hits = _matching_what_is_shown(source, hits, query, mode, viewer)
        if hits:
            return hits[:limit]
    return []


def _excluded(query: ParsedQuery) -> list[MatchPart]:
    return [MatchPart(" ".join(tokens), phrase=True) for tokens in query.excluded]


def _filtered(
    source: TextSource, query: ParsedQuery, viewer: Audience, *, limit: int
) -> list[ScoredEntry]:
    """Filters only (``tag:pandas``), or answers asked for: newest first, not ranked by text."""
    params = Params()
    conditions = [visibility(viewer, params), *query_filters(query, params)]
    if "answer" not in query.kinds:
        conditions.append("e.kind IN ('question', 'knowhow')")
    if query.has_match:
        # kind:answer with words: answers whose own text holds each word.
        for word in query.all_words:
            conditions.append(f"lower(e.text) LIKE {params.add(f'%{word}%')}")
    for tokens in query.excluded:
        conditions.append(f"lower(e.text) NOT LIKE {params.add('%' + ' '.join(tokens) + '%')}")
    rows = source.conn.execute(
        f"SELECT e.id FROM entries e WHERE {' AND '.join(conditions)} "
        f"ORDER BY e.created_at DESC, e.id DESC LIMIT {params.add(limit)}",
        params.values,
    ).fetchall()
    ids = [int(r[0]) for r in rows]
    by_id = {
        s.entry.id: s
        for s in _scored(source, [Ranked(i, 0.0) for i in ids], {}, viewer, boosts=False)
    }
    return [ScoredEntry(by_id[i].entry, 0.0) for i in ids if i in by_id]


def matching_ids(
    conn: Connection[Any], query: ParsedQuery, viewer: Audience, *, limit: int
) -> list[int]:
    """See :meth:`knowledge.storage.TextSearch.matching_ids`."""
    params = Params()
    tsquery = compile_tsquery(query, params, "and")
    if tsquery is None:
        return []
    rows = conn.execute(
        f"SELECT e.id FROM entries e WHERE e.search_document @@ {tsquery} "
        f"AND {visibility(viewer, params)} ORDER BY e.id LIMIT {params.add(limit)}",
        params.values,
    ).fetchall()
    return [int(r[0]) for r in rows]


def similar_candidates(source: TextSource, lookup: SimilarLookup) -> list[ScoredEntry]:
    """See :meth:`knowledge.storage.TextSearch.similar_candidates`."""
    terms = lookup.terms
    if not terms:
        return []
    conn = source.conn
    n_docs = termstats.document_count(conn)
    parts = [WeightedPart(MatchPart(t.word), t.df, t.idf * t.repeats) for t in terms if t.df > 0]
    ranked = similar_ranked(
        conn,
        parts,
        lookup.viewer,
        exclude_ids=lookup.exclude_ids,
        answered_only=lookup.answered_only,
        limit=max(SIMILAR_RESCORED, lookup.limit),
        budget=lookup.max_postings,
    )
    dfs = _ranking_frequencies(conn, [MatchPart(t.word) for t in terms], n_docs)
    scoring = [
        bm25.Bm25Part(t.word, bm25.fts5_idf(n_docs, df), t.repeats)
        for t, df in zip(terms, dfs, strict=True)
    ]
    avgdl = bm25.average_length(conn, n_docs)
    ids = [r.entry_id for r in ranked]
    text_scores = bm25.rescore(conn, ids, scoring, lookup.field_weights, avgdl)
    return _scored(source, ranked, text_scores, lookup.viewer, boosts=lookup.boosts)[: lookup.limit]


class PostgresTextSearch:
    """:class:`~knowledge.storage.TextSearch` over ``tsvector`` documents (needs ``conn``)."""

    def keyword_matches(
        self: TextSource, query: ParsedQuery, viewer: Audience, *, limit: int
    ) -> list[ScoredEntry]:
        return keyword_matches(self, query, viewer, limit=limit)

    def matching_ids(
        self: TextSource, query: ParsedQuery, viewer: Audience, *, limit: int
    ) -> list[int]:
        return matching_ids(self.conn, query, viewer, limit=limit)

    def stem_words(self: TextSource, words: Sequence[str]) -> list[str | None]:
        return termstats.lexemes(self.conn, words)

    def document_count(self: TextSource) -> int:
        return termstats.document_count(self.conn)

    def document_frequencies(self: TextSource, stems: Sequence[str], n_docs: int) -> dict[str, int]:
        return termstats.stem_frequencies(self.conn, stems, n_docs)

    def stems_present(
        self: TextSource, texts: Mapping[int, str], stems: Iterable[str]
    ) -> dict[int, frozenset[str]]:
        return termstats.stems_present(self.conn, texts, stems)

    def similar_candidates(self: TextSource, lookup: SimilarLookup) -> list[ScoredEntry]:
        return similar_candidates(self, lookup)
