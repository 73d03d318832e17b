"""Ranked search on PostgreSQL: all words first, then any word over a bounded candidate set.

What it mirrors (``knowledge/search.py`` on SQLite):

* field weights title 8, tags 5, body 3, answers 1.5, as ``ts_rank``'s
  weights for classes ``A``, ``B``, ``C``, ``D`` (scaled so the title is 1);
* no length normalisation: bm25 on SQLite normalises each column by its own
  length, so a question's answers never dilute a match in its title or body;
  ``ts_rank`` can only normalise by the whole document, where every answer
  would push an answered question down. Its own term frequency saturates
  (each further occurrence adds less), as bm25's does;
* the same boosts: know-how x1.20, an accepted answer x1.30, any answer x1.15;
* all words first; when nothing matches, any word.

``ts_rank`` has no idf, which matters most when any word will do (a document
with a rare word should beat one with a common word). So an any-word query
scores each candidate as the sum over the query's parts of
``idf(part) * ts_rank(weights, document, part)``: bm25's shape, with the
document frequencies of :mod:`knowledge.postgres.termstats`.

Bounded cost (``ts_rank`` scores every row it is given; on a million
documents an OR of common words takes a third of a second): the candidates
of an any-word query are the documents holding its *rarest* parts, taken
while their frequencies add up to at most :data:`ANY_WORD_BUDGET`, and never
more than :data:`CANDIDATE_CAP` documents (the newest, should the rarest
part alone hold more). All parts still count in the score. An all-words
query ranks at most :data:`CANDIDATE_CAP` matches likewise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Connection

from knowledge.models import Audience
from knowledge.postgres.filters import query_filters, visibility
from knowledge.postgres.params import Params
from knowledge.postgres.schema_search import CONFIG
from knowledge.postgres.tsquery import (
    MatchPart,
    combine,
    compile_tsquery,
    exclusion,
)
from knowledge.query import ParsedQuery
from knowledge.relevance import BOOST_ACCEPTED, BOOST_ANSWERED, BOOST_KNOWHOW, FIELD_WEIGHTS
from knowledge.storage.matches import gating_terms

#: ts_rank normalisation: none (see above).
NORMALISATION = 0
#: Most documents an all-words or any-word query ranks.
CANDIDATE_CAP = 2_000
#: Document frequencies of an any-word query's gating parts add up to at most this.
ANY_WORD_BUDGET = 2_000


@dataclass(frozen=True, slots=True)
class Ranked:
    """One hit: the entry's id and its score (higher is better)."""

    entry_id: int
    score: float


@dataclass(frozen=True, slots=True)
class WeightedPart:
    """A part of an any-word query with its document frequency and its weight in the score."""

    part: MatchPart
    df: int
    weight: float

    @property
    def gate_weight(self) -> float:
        return self.weight

    @property
    def gate_name(self) -> str:
        return self.part.text


def rank_weights(field_weights: Sequence[float] = FIELD_WEIGHTS) -> list[float]:
    """``ts_rank``'s weight array ``{D, C, B, A}`` from (title, body, answers, tags)."""
    title, body, answers, tags = field_weights
    top = max(field_weights)
    return [answers / top, body / top, tags / top, title / top]


def boost_sql(alias: str = "e") -> str:
    return (
        f"(CASE WHEN {alias}.kind = 'knowhow' THEN {BOOST_KNOWHOW} "
        f"WHEN {alias}.has_accepted THEN {BOOST_ACCEPTED} "
        f"WHEN {alias}.answer_count > 0 THEN {BOOST_ANSWERED} ELSE 1.0 END)"
    )


def idf(n_docs: int, df: int) -> float:
    """bm25's idf, kept positive (as the SQLite backend's similar finder does)."""
    n_docs = max(n_docs, df)
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _conditions(query: ParsedQuery, viewer: Audience, params: Params) -> list[str]:
    where = [visibility(viewer, params), *query_filters(query, params)]
    if "answer" not in query.kinds:
        where.append("e.kind IN ('question', 'knowhow')")
    return where


def rank_all_words(
    conn: Connection[Any], query: ParsedQuery, viewer: Audience, *, limit: int = 5
) -> list[Ranked]:
    """Entries holding every word (common words dropped, as on SQLite), best first."""
    params = Params()
    tsquery = compile_tsquery(query, params, "and")
    if tsquery is None:
        return []
    conditions = _conditions(query, viewer, params)
    rows = conn.execute(
        f"""
        WITH q AS NOT MATERIALIZED (SELECT {tsquery} AS q),
        matches AS (
            SELECT e.id, e.search_document, {boost_sql()} AS boost FROM entries e, q
            WHERE e.search_document @@ q.q AND {" AND ".join(conditions)}
            ORDER BY e.id DESC LIMIT {params.add(CANDIDATE_CAP)}
        )
        SELECT m.id, ts_rank({params.add(rank_weights())}::float4[], m.search_document, q.q,
            {NORMALISATION}) * m.boost AS score
        FROM matches m, q ORDER BY score DESC, m.id DESC LIMIT {params.add(limit)}
        """,
        params.values,
    ).fetchall()
    return [Ranked(int(entry_id), float(score)) for entry_id, score in rows]


def rank_any_word(
    conn: Connection[Any],
    parts: Sequence[WeightedPart],
    conditions: Iterable[str],
    params: Params,
    *,
    excluded: Sequence[MatchPart] = (),
    field_weights: Sequence[float] = FIELD_WEIGHTS,
    boosts: bool = True,
    limit: int = 5,
    budget: int = ANY_WORD_BUDGET,
    cap: int = CANDIDATE_CAP,
) -> list[Ranked]:
    """Documents holding any of ``parts``, scored by sum of ``weight * ts_rank`` per part.

    Candidates come from the rarest parts only (the rule of both backends:
    :func:`~knowledge.storage.matches.gating_terms`), at most ``cap`` of them;
    ``conditions`` (SQL on alias ``e``, values in ``params``) filter them.
    Shared by the search fallback and the similar-question finder.
    """
    gating = gating_terms(parts, budget)
    gate_sql = combine([p.part for p in gating], params, "or")
    if gate_sql is None:
        return []
    boost = boost_sql() if boosts else "1.0"
    rows = conn.execute(
        f"""
        WITH parts AS (
            SELECT CASE WHEN u.phrase THEN phraseto_tsquery('{CONFIG}', u.text)
                ELSE plainto_tsquery('{CONFIG}', u.text) END AS q, u.weight
            FROM unnest({params.add([p.part.text for p in parts])}::text[],
                {params.add([p.part.phrase for p in parts])}::boolean[],
                {params.add([p.weight for p in parts])}::float8[]) AS u(text, phrase, weight)
        ), candidates AS (
            SELECT e.id, e.search_document, {boost} AS boost FROM entries e
            WHERE e.search_document @@ ({gate_sql}{exclusion(list(excluded), params)})
                AND {" AND ".join([*conditions, "true"])}
            ORDER BY e.id DESC LIMIT {params.add(cap)}
        )
        SELECT c.id, sum(p.weight * ts_rank({params.add(rank_weights(field_weights))}::float4[],
            c.search_document, p.q, {NORMALISATION})) * c.boost AS score
        FROM candidates c CROSS JOIN parts p
        GROUP BY c.id, c.boost
        ORDER BY score DESC, c.id DESC LIMIT {params.add(limit)}
        """,
        params.values,
    ).fetchall()
    return [Ranked(int(entry_id), float(score)) for entry_id, score in rows]
