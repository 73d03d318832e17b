"""Ranking by stored vectors: the nearest entries a viewer may see, and cosines.

A query is compared with every vector in memory (brute force with numpy; fine
for tens of thousands of entries), then the visibility rule is applied to the
nearest in SQL; :mod:`knowledge.similar` scores the candidates of both rankings
(words and vectors) with the semantic confidence model. :func:`fuse`
(reciprocal rank fusion) stays for the benchmark's references.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from knowledge.models import ChannelRef
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause
from knowledge.semantic.encoders import Embedder, QueryEncoder
from knowledge.semantic.memory import vectors_of
from knowledge.semantic.stored import MAX_EMBED_CHARS

__all__ = ["RRF_K", "cosines", "fuse", "query_vector", "semantic_ranking"]

#: Reciprocal-rank-fusion constant of :func:`fuse`. 60 is the classic (Cormack
#: et al. 2009); a smaller one trusts the first places more.
RRF_K = 10


def _visible(
    repertoire: RelationalRepertoire,
    ids: list[int],
    viewer: ChannelRef | None,
    answered_only: bool,
) -> set[int]:
    """Which of ``ids`` are questions or know-how ``viewer`` may see (answered, if asked)."""
    if not ids:
        return set()
    visible_sql, params = visibility_clause(viewer)
    answered = " AND (e.kind = 'knowhow' OR e.answer_count > 0)" if answered_only else ""
    marks = ", ".join("?" for _ in ids)
    rows = repertoire.sql.rows(
        f"SELECT e.id FROM entries e WHERE e.id IN ({marks}) "
        f"AND e.kind IN ('question', 'knowhow') AND {visible_sql}{answered}",
        [*ids, *params],
    )
    return {int(r[0]) for r in rows}


def query_vector(embedder: Embedder, text: str) -> Any:
    """The question's vector: its start matters most, read as the embedder reads questions."""
    if isinstance(embedder, QueryEncoder):
        return embedder.encode_query(text[:MAX_EMBED_CHARS])
    return embedder.encode([text[:MAX_EMBED_CHARS]])[0]


def cosines(
    repertoire: RelationalRepertoire, model: str, vector: Any, ids: Iterable[int]
) -> dict[int, float]:
    """The cosine of ``vector`` with each of ``ids`` that has a vector (others are left out)."""
    held = vectors_of(repertoire, model).load(repertoire, model)
    rows = [(entry_id, held.rows[entry_id]) for entry_id in ids if entry_id in held.rows]
    if not rows:
        return {}
    scores = held.matrix[[row for _, row in rows]] @ vector
    return {entry_id: float(score) for (entry_id, _), score in zip(rows, scores, strict=True)}


def semantic_ranking(
    repertoire: RelationalRepertoire,
    embedder: Embedder,
    text: str,
    viewer: ChannelRef | None,
    *,
    exclude_ids: Iterable[int] = (),
    answered_only: bool = True,
    limit: int = 20,
    vector: Any = None,
) -> list[tuple[int, float]]:
    """``(entry id, cosine)`` nearest to ``text`` first, only what ``viewer`` may see.

    Brute force over the vectors kept in memory; the visibility rule is then
    checked in SQL on the nearest few (more when many of them may not be seen).
    Entries are embedded in the background (:func:`embed_missing`, or the bot's
    job): one not embedded yet is found by words only.
    """
    import numpy as np

    held = vectors_of(repertoire, embedder.name).load(repertoire, embedder.name)
    if not held.ids:
        return []
    query = query_vector(embedder, text) if vector is None else vector
    scores = held.matrix @ query
    order = np.argsort(-scores)
    excluded = set(exclude_ids)
    out: list[tuple[int, float]] = []
    start, window = 0, max(limit * 4, 50)
    while len(out) < limit and start < len(order):
        chunk = [held.ids[int(i)] for i in order[start : start + window]]
        allowed = _visible(repertoire, chunk, viewer, answered_only) - excluded
        for index in order[start : start + window]:
            entry_id = held.ids[int(index)]
            if entry_id in allowed:
                out.append((entry_id, float(scores[int(index)])))
                if len(out) >= limit:
                    break
        start += window
        window *= 4
    return out


def fuse(
    rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] = ()
) -> list[int]:
    """Weighted reciprocal rank fusion: ``sum w / (k + rank)`` over the rankings, best first."""
    score: dict[int, float] = {}
    for index, ranking in enumerate(rankings):
        weight = weights[index] if index < len(weights) else 1.0
        for rank, entry_id in enumerate(ranking, 1):
            score[entry_id] = score.get(entry_id, 0.0) + weight / (k + rank)
    return sorted(score, key=lambda i: (-score[i], i))
