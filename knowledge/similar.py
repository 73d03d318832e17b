"""Similar questions: past answered questions and know-how close to a new question.

MoreLikeThis over the repertoire's index, cut by concern:

* :mod:`knowledge.similar_terms`: the question's terms, stemmed as the index
  stems them, weighed by tf-idf, chosen within a posting budget;
* the backend's :class:`~knowledge.storage.TextSearch` ranks past entries by
  them (:mod:`knowledge.sqlite.similar_candidates` on SQLite: one any-word FTS5
  query; PostgreSQL ranks a ``tsvector``);
* :mod:`knowledge.similar_ranking`: each candidate's calibrated confidence;
* here: :func:`find_similar`, what the bot calls, with snippets and answers.

One threshold (:data:`SUGGEST_THRESHOLD`, chosen on the evaluation sets, see
``bench/README.md``) decides when the bot speaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from knowledge.confidence import SEMANTIC_SPEAK_THRESHOLD, SPEAK_THRESHOLD
from knowledge.models import ChannelRef, Entry, EntryKind, SearchHit
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relevance import SIMILAR_FIELD_WEIGHTS
from knowledge.search import SearchOptions
from knowledge.similar_ranking import (
    CALIBRATED,
    CROWD_RANK,
    POOL,
    Ranked,
    margin_confidence,
    rank_similar,
)
from knowledge.similar_terms import (
    DEFAULT_CONFIG,
    MAX_POSTINGS,
    MAX_QUERY_TERMS,
    MAX_WORDS,
    MIN_CAPPED_DF,
    WORD,
    MltConfig,
    Term,
    idf,
    query_weight,
    question_terms,
    select_terms,
    weighted_terms,
)
from knowledge.text import STOPWORDS, fold, highlight

if TYPE_CHECKING:
    from knowledge.semantic import Embedder

__all__ = [
    "CALIBRATED",
    "CROWD_RANK",
    "DEFAULT_CONFIG",
    "MAX_POSTINGS",
    "MAX_QUERY_TERMS",
    "MAX_WORDS",
    "MIN_CAPPED_DF",
    "POOL",
    "SEMANTIC_SUGGEST_THRESHOLD",
    "SIMILAR_FIELD_WEIGHTS",
    "SUGGEST_THRESHOLD",
    "MltConfig",
    "Ranked",
    "Term",
    "find_similar",
    "idf",
    "margin_confidence",
    "query_weight",
    "question_terms",
    "rank_similar",
    "select_terms",
    "weighted_terms",
]

#: The confidence (a calibrated probability) from which the bot speaks up at ask time.
SUGGEST_THRESHOLD = SPEAK_THRESHOLD
#: The same with the semantic stage on (its model also sees the cosines).
SEMANTIC_SUGGEST_THRESHOLD = SEMANTIC_SPEAK_THRESHOLD


def find_similar(
    repertoire: RelationalRepertoire,
    text: str,
    viewer: ChannelRef | None,
    *,
    exclude_entry_id: int | None = None,
    limit: int = 3,
    exclude_ids: Iterable[int] = (),
    answered_only: bool = True,
    min_confidence: float = 0.0,
    options: SearchOptions | None = None,
    embedder: Embedder | None = None,
) -> list[SearchHit]:
    """Past questions (answered ones, unless ``answered_only=False``) and know-how like ``text``.

    Only what ``viewer``'s channel may see (the visibility rule). Each hit's
    ``score`` is its confidence in ``[0, 1]``; hits below ``min_confidence``
    are left out. Order: :func:`rank_similar`.
    """
    excluded = set(exclude_ids)
    if exclude_entry_id is not None:
        excluded.add(exclude_entry_id)
    ranked = rank_similar(
        repertoire,
        text,
        viewer,
        exclude_ids=excluded,
        answered_only=answered_only,
        pool=max(POOL, limit),
        embedder=embedder,
    )
    opts = options or SearchOptions()
    words = [t for t in dict.fromkeys(WORD.findall(fold(text))) if t not in STOPWORDS]
    hits: list[SearchHit] = []
    for candidate in ranked:
        if candidate.confidence < min_confidence:
            continue
        hit = _hit(repertoire, candidate.entry, candidate.confidence, words, opts, viewer)
        hits.append(replace(hit, matched=candidate.matched))
        if len(hits) >= limit:
            break
    return hits


def _hit(
    repertoire: RelationalRepertoire,
    entry: Entry,
    conf: float,
    words: list[str],
    options: SearchOptions,
    viewer: ChannelRef | None,
) -> SearchHit:
    body = entry.text
    if entry.title and body.startswith(entry.title) and len(body) > len(entry.title) + 20:
        body = body[len(entry.title) :]
    snippet = highlight(body, words, options.mark_start, options.mark_end, options.snippet_chars)
    answers: list[Entry] = []
    if entry.kind == EntryKind.QUESTION:
        answers = repertoire.visible_answers(entry, viewer)
    answer = answers[0] if answers else None
    answer_snippet = (
        highlight(answer.text, words, options.mark_start, options.mark_end, options.snippet_chars)
        if answer
        else ""
    )
    return SearchHit(
        entry=entry,
        score=round(conf, 4),
        snippet=snippet,
        answer=answer,
        answer_snippet=answer_snippet,
        answer_count=len(answers),
    )
