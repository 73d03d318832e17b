"""Similar-question candidates on SQLite: the chosen terms OR-ed in one FTS5 query, by bm25.

:mod:`knowledge.similar` picks a question's most informative terms; this
module ranks past questions and know-how by them. Each term is re-quoted
(never query syntax) and repeated as often as it counts: FTS5's bm25 adds a
phrase's score once per occurrence in the query, so repetition is its weight.

The candidates are the documents holding a gating term
(:func:`~knowledge.storage.matches.gating_terms`: the rarest within the posting
budget), each scored with every term. FTS5 has no way to score a given list
of rows (a ``rowid`` constraint re-reads every term's whole posting list for
its idf, per row), so the query matches every term and a ``+rowid IN``
filter, which SQLite tests before it computes ``bm25()``, keeps the gated
rows: walking a common term's postings costs little, scoring each of its
matches is what costs (about 1 µs a document: 40 ms for a word in 45,000
documents of a million messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlite_utils import Database

from knowledge.relational.rows import row_to_entry
from knowledge.relational.visibility import visibility_clause
from knowledge.sqlite.keyword_search import SQLITE_ENTRY_COLUMNS, boost_sql
from knowledge.storage.matches import ScoredEntry, SimilarLookup, WeightedTerm, gating_terms

__all__ = [
    "CANDIDATE_WINDOW",
    "CandidateMatch",
    "CandidateSource",
    "best_candidates",
    "candidate_match",
    "mlt_expression",
    "read_candidates",
    "similar_candidates",
]

#: FTS5 ranks this many matches before the visibility filters and boosts apply.
CANDIDATE_WINDOW = 200


class CandidateSource(Protocol):
    """What the finder needs of the SQLite repertoire: its database."""

    db: Database


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def mlt_expression(terms: Sequence[WeightedTerm]) -> str | None:
    """An OR of ``terms``, each quoted and repeated ``repeats`` times: safe for ``MATCH``."""
    chosen: list[str] = []
    for term in terms:
        chosen.extend([_quote(term.word)] * max(1, term.repeats))
    return "(" + " OR ".join(chosen) + ")" if chosen else None


@dataclass(frozen=True, slots=True)
class CandidateMatch:
    """A lookup's FTS5 query: every term (what scores), and the gate (what chooses), if any."""

    expression: str
    #: An OR of the gating terms, ``None`` when every term gates (no filter needed).
    gate: str | None

    def where(self) -> tuple[str, list[str]]:
        """The ``WHERE`` condition on ``search_fts`` and its parameters."""
        if self.gate is None:
            return "search_fts MATCH ?", [self.expression]
        return (
            "search_fts MATCH ? AND +rowid IN "
            "(SELECT rowid FROM search_fts WHERE search_fts MATCH ?)",
            [self.expression, self.gate],
        )


def candidate_match(terms: Sequence[WeightedTerm], max_postings: int) -> CandidateMatch | None:
    """The query of a lookup of ``terms`` within ``max_postings`` (``None``: no terms)."""
    expression = mlt_expression(terms)
    if expression is None:
        return None
    gating = gating_terms(terms, max_postings)
    if {t.word for t in gating} == {t.word for t in terms}:
        return CandidateMatch(expression, None)
    gate = mlt_expression([replace(t, repeats=1) for t in gating])
    return CandidateMatch(expression, gate)


def similar_candidates(source: CandidateSource, lookup: SimilarLookup) -> list[ScoredEntry]:
    """See :meth:`knowledge.storage.TextSearch.similar_candidates`."""
    match = candidate_match(lookup.terms, lookup.max_postings)
    if match is None:
        return []
    best = best_candidates(source.db, match, lookup)
    if not best:
        return []
    return read_candidates(source.db, best, lookup)


def _conditions(lookup: SimilarLookup) -> tuple[list[str], list[Any]]:
    """The lookup's filters on an ``entries`` row ``e``: visibility first, and their parameters."""
    visible_sql, params = visibility_clause(lookup.viewer)
    conditions = [visible_sql, "e.kind IN ('question', 'knowhow')"]
    if lookup.answered_only:
        conditions.append("(e.kind = 'knowhow' OR e.answer_count > 0)")
    excluded = sorted(lookup.exclude_ids)
    if excluded:
        conditions.append("e.id NOT IN (" + ", ".join("?" for _ in excluded) + ")")
        params = [*params, *excluded]
    return conditions, params


def best_candidates(
    db: Database, match: CandidateMatch, lookup: SimilarLookup
) -> list[tuple[Any, ...]]:
    """The best ``lookup.limit`` matches as ``(id, has_accepted, bm25 score)`` rows, best first."""
    match_sql, match_params = match.where()
    limit = lookup.limit
    conditions, params = _conditions(lookup)
    weight_sql = ", ".join(str(w) for w in lookup.field_weights)
    boost = f" * {boost_sql()}" if lookup.boosts else ""
    # Rank inside FTS5 alone first (no join per match), then filter and boost the
    # best few hundred; when filters left too few, rank every match. Only the
    # best ``limit`` are read whole (text, author, tags) afterwards: reading them
    # for every row of the window cost a third of the query's tail.
    inner = max(CANDIDATE_WINDOW, limit * 10)
    best: list[tuple[Any, ...]] = []
    for window in (f"ORDER BY s LIMIT {inner}", ""):
        sql = (
            f"WITH top AS (SELECT rowid AS id, bm25(search_fts, {weight_sql}) AS s "
            f"FROM search_fts WHERE {match_sql} {window}) "
            f"SELECT e.id, e.has_accepted, top.s{boost} AS score FROM top "
            "JOIN entries e ON e.id = top.id "
            f"WHERE {' AND '.join(conditions)} ORDER BY score LIMIT ?"
        )
        best = [tuple(r) for r in db.execute(sql, [*match_params, *params, limit]).fetchall()]
        if len(best) >= limit or not window:
            break
        total = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? "
            f"LIMIT {inner})",
            [match.gate or match.expression],
        ).fetchone()[0]
        if total < inner:  # the window held every match: nothing more to find
            break
    return best


def read_candidates(
    db: Database, best: Sequence[tuple[Any, ...]], lookup: SimilarLookup
) -> list[ScoredEntry]:
    """The entries of :func:`best_candidates`' rows, read whole, in their order.

    The read repeats the lookup's filters, visibility first: outside a
    transaction each statement sees the database as it is then, and a channel
    another process made private after the ranking must not reach a viewer who
    may no longer see it. At most ``limit`` rows by primary key: the repeat
    costs nothing to speak of.
    """
    conditions, params = _conditions(lookup)
    ids = [row[0] for row in best]
    entries = {
        int(row[0]): row_to_entry(row)
        for row in db.execute(
            f"SELECT {SQLITE_ENTRY_COLUMNS} FROM entries e JOIN members m ON m.id = e.author_id "
            f"WHERE e.id IN ({', '.join('?' for _ in ids)}) AND {' AND '.join(conditions)}",
            [*ids, *params],
        ).fetchall()
    }
    return [
        ScoredEntry(entries[int(entry_id)], -float(score or 0.0), bool(accepted))
        for entry_id, accepted, score in best
        if int(entry_id) in entries
    ]
