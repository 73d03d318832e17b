"""The finder's candidates: one any-word FTS5 query, ranked by weighted bm25, then filtered.

MoreLikeThis in SQLite, second half: the chosen terms (:mod:`knowledge.similar_terms`)
go into one OR query, each re-quoted (the text is data, never raw ``MATCH``
syntax) and repeated by its weight, through FTS5's bm25 with the finder's
field weights. FTS5 ranks the matches on the index alone; only the best
:data:`CANDIDATE_WINDOW` are joined to their entries, filtered by the
visibility rule and boosted (answered, accepted, know-how).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from knowledge.models import ChannelRef
from knowledge.relational.visibility import visibility_clause
from knowledge.search import boost_sql
from knowledge.similar_terms import MAX_QUERY_TERMS, Term, repeats
from knowledge.sqlite.repertoire import ENTRY_COLUMNS, Repertoire

__all__ = ["CANDIDATE_WINDOW", "candidates", "mlt_expression", "quoted"]

#: FTS5 ranks this many matches before the visibility filters and boosts apply.
CANDIDATE_WINDOW = 200


def quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def mlt_expression(terms: Sequence[Term], max_terms: int = MAX_QUERY_TERMS) -> str | None:
    """An OR of the most informative terms, each quoted: safe for ``MATCH``.

    A boosted term is repeated (up to 3 times): FTS5's bm25 adds a term's
    score once per occurrence in the query, so repetition is its query weight.
    """
    chosen: list[str] = []
    for term in terms[:max_terms]:
        chosen.extend([quoted(term.word)] * repeats(term))
    return "(" + " OR ".join(chosen) + ")" if chosen else None


def candidates(
    repertoire: Repertoire,
    expression: str,
    viewer: ChannelRef | None,
    *,
    exclude_ids: Iterable[int],
    answered_only: bool,
    limit: int,
    weights: Sequence[float],
    boosts: bool,
) -> list[tuple[Any, ...]]:
    visible_sql, params = visibility_clause(viewer)
    conditions = [visible_sql, "e.kind IN ('question', 'knowhow')"]
    if answered_only:
        conditions.append("(e.kind = 'knowhow' OR e.answer_count > 0)")
    excluded = sorted(set(exclude_ids))
    if excluded:
        conditions.append("e.id NOT IN (" + ", ".join("?" for _ in excluded) + ")")
        params = [*params, *excluded]
    weight_sql = ", ".join(str(w) for w in weights)
    boost = f" * {boost_sql()}" if boosts else ""
    # Rank inside FTS5 alone first (no join per match), then filter and boost the
    # best few hundred; when filters left too few, rank every match.
    inner = max(CANDIDATE_WINDOW, limit * 10)
    for window in (f"ORDER BY s LIMIT {inner}", ""):
        sql = (
            f"WITH top AS (SELECT rowid AS id, bm25(search_fts, {weight_sql}) AS s "
            f"FROM search_fts WHERE search_fts MATCH ? {window}) "
            f"SELECT {ENTRY_COLUMNS}, e.has_accepted, top.s{boost} AS score FROM top "
            "JOIN entries e ON e.id = top.id JOIN members m ON m.id = e.author_id "
            f"WHERE {' AND '.join(conditions)} ORDER BY score LIMIT ?"
        )
        rows = [
            tuple(r) for r in repertoire.db.execute(sql, [expression, *params, limit]).fetchall()
        ]
        if len(rows) >= limit or not window:
            return rows
        total = repertoire.db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? "
            f"LIMIT {inner})",
            [expression],
        ).fetchone()[0]
        if total < inner:  # the window held every match: nothing more to find
            return rows
    return rows
