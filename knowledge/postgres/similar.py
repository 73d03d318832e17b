"""The lexical stage of similar questions on PostgreSQL: a question's terms in, candidates out.

The SQLite finder (``knowledge/similar.py``) picks a question's most
informative terms (tf-idf, quoted and first-line words weighted up, within a
posting budget) and ranks past entries with an OR of them through bm25 with
flatter field weights. That choice of terms is plain Python over stems and
document frequencies; this module supplies those from PostgreSQL
(:func:`question_parts`) and the ranking (:func:`similar_candidates`).

The candidates are the documents holding the question's rarest parts (the
gate of :func:`knowledge.storage.matches.gating_terms`, within the finder's posting
budget), and *every* one of them is scored, as SQLite's FTS5 ranks every
match: one index lookup per gating part, each scoring only the documents that
hold it (``weight * ts_rank``, the similar finder's field weights), summed per
document, the best ``limit`` kept. Taking a fixed number of matches first (the
newest, say) lost the question's own document on a big repertoire whenever a
common gating word matched more documents than that number. The cost is
bounded by the budget (one ``ts_rank`` per posting); only when the rarest part
alone holds more than the budget are its matches cut, to the newest
:data:`CANDIDATE_CAP` (and a part whose frequency was under-counted, capped
or stale, brings at most ``budget`` documents). Parts outside the gate do not choose candidates; the
bm25 rescoring (:mod:`knowledge.postgres.text_search`) counts every term.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Connection

from knowledge.models import ChannelRef
from knowledge.postgres.filters import visibility
from knowledge.postgres.params import Params
from knowledge.postgres.ranking import (
    NORMALISATION,
    Ranked,
    WeightedPart,
    boost_sql,
    idf,
    rank_weights,
)
from knowledge.postgres.termstats import document_count, document_frequencies
from knowledge.postgres.tsquery import MatchPart
from knowledge.relevance import SIMILAR_MAX_POSTINGS
from knowledge.storage.matches import gating_terms

__all__ = [
    "CANDIDATE_CAP",
    "MAX_POSTINGS",
    "SIMILAR_FIELD_WEIGHTS",
    "question_parts",
    "similar_candidates",
]

#: Field weights for question-to-question matching (title, body, answers, tags), as on SQLite.
SIMILAR_FIELD_WEIGHTS = (2.0, 1.0, 0.5, 2.0)
#: Postings the gating terms of one lookup may add up to (the finder's budget, as on SQLite).
MAX_POSTINGS = SIMILAR_MAX_POSTINGS
#: When the rarest part alone holds more documents than the budget, only its newest this many.
CANDIDATE_CAP = 1_000


def question_parts(
    conn: Connection[Any], words: Sequence[str], boosts: Sequence[float] | None = None
) -> list[WeightedPart]:
    """Each distinct word with its document frequency and ``idf * boost`` as its weight.

    Words the index has never seen are left out: they can neither match nor
    tell candidates apart. ``boosts`` (one per word, default 1) carry the
    finder's emphasis on quoted or first-line words.
    """
    factors = list(boosts) if boosts is not None else [1.0] * len(words)
    best: dict[str, float] = {}
    for word, factor in zip(words, factors, strict=True):
        best[word] = max(best.get(word, 0.0), factor)
    parts = [MatchPart(word) for word in best]
    n_docs = document_count(conn)
    frequencies = document_frequencies(conn, parts, n_docs)
    return [
        WeightedPart(part, df, idf(n_docs, df) * best[word])
        for (word, part), df in zip(zip(best, parts, strict=True), frequencies, strict=True)
        if df > 0
    ]


def similar_candidates(
    conn: Connection[Any],
    parts: Sequence[WeightedPart],
    viewer: ChannelRef | None,
    *,
    exclude_ids: Iterable[int] = (),
    answered_only: bool = True,
    limit: int = 20,
    budget: int = MAX_POSTINGS,
    cap: int = CANDIDATE_CAP,
) -> list[Ranked]:
    """Past questions and know-how sharing the most informative of ``parts``, best first.

    Only what ``viewer`` may see; only answered questions (and know-how)
    unless ``answered_only`` is off; never the ids in ``exclude_ids``.
    """
    gating = gating_terms(parts, budget)
    if not gating:
        return []
    params = Params()
    conditions = [visibility(viewer, params), "e.kind IN ('question', 'knowhow')"]
    if answered_only:
        conditions.append("(e.kind = 'knowhow' OR e.answer_count > 0)")
    excluded = sorted(set(exclude_ids))
    if excluded:
        conditions.append(f"NOT (e.id = ANY({params.add(excluded)}))")
    where = " AND ".join(conditions)
    weights = f"{params.add(rank_weights(SIMILAR_FIELD_WEIGHTS))}::float4[]"
    over_budget = sum(p.df for p in gating) > budget  # the rarest part alone
    branches = []
    for part in gating:
        query = part.part.sql(params)
        branch = (
            f"SELECT e.id, {params.add(part.weight)}::float8 * ts_rank({weights}, "
            f"e.search_document, {query}, {NORMALISATION}) AS score, {boost_sql()} AS boost "
            f"FROM entries e WHERE e.search_document @@ {query} AND {where}"
        )
        if over_budget:
            branch += f" ORDER BY e.id DESC LIMIT {params.add(cap)}"
        else:  # a count that stopped at its cap, or a stale one, must not unbound the work
            branch += f" LIMIT {params.add(budget)}"
        branches.append(f"({branch})")
    rows = conn.execute(
        f"""
        SELECT m.id, sum(m.score) * m.boost AS score
        FROM ({" UNION ALL ".join(branches)}) m
        GROUP BY m.id, m.boost
        ORDER BY score DESC, m.id DESC LIMIT {params.add(limit)}
        """,
        params.values,
    ).fetchall()
    return [Ranked(int(entry_id), float(score)) for entry_id, score in rows]
