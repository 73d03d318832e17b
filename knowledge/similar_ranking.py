"""Ranking the finder's candidates: each with a calibrated confidence, and why.

Each candidate gets a **confidence** in ``[0, 1]``: the probability that it
is a real duplicate, from the logistic model of :mod:`knowledge.confidence`
over why it matched: how far its score stands above the crowd (the
:data:`CROWD_RANK`-th candidate's score) and above the next one, as shares of
the question's own weight; the share of the question's words it holds; tags,
an accepted answer, age; and with the semantic stage, the cosines. A
duplicate stands out from the other candidates; a question merely on the same
topic does not. Unlike a raw bm25 score this is comparable across questions
and corpus sizes, so one threshold decides when the bot speaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from knowledge.confidence import LEXICAL_MODEL, SEMANTIC_MODEL, ConfidenceModel, QueryTerm, features
from knowledge.models import ChannelRef, Entry
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visible_to
from knowledge.similar_terms import (
    DEFAULT_CONFIG,
    MltConfig,
    Term,
    query_weight,
    question_terms,
    select_terms,
    weighted_terms,
)
from knowledge.storage.matches import SimilarLookup

if TYPE_CHECKING:
    from knowledge.semantic import Embedder

__all__ = ["CALIBRATED", "CROWD_RANK", "POOL", "Ranked", "margin_confidence", "rank_similar"]

#: Candidates fetched by bm25 and scored for confidence.
POOL = 20
#: Confidence compares a candidate's score with the score at this rank.
CROWD_RANK = 5
#: Candidates that get a calibrated confidence (and are returned): a reply shows
#: three, ``/cop similar`` five, the benchmark ten; stemming each candidate is the cost.
CALIBRATED = 10


@dataclass(frozen=True, slots=True)
class Ranked:
    """One candidate of :func:`rank_similar`: the entry, its confidence, and why.

    ``confidence`` is the calibrated probability that the candidate is a real
    duplicate (:mod:`knowledge.confidence`); ``matched`` the question's words it
    shares, rarest first; ``features`` what the model saw.
    """

    entry: Entry
    confidence: float
    matched: tuple[str, ...] = ()
    features: Mapping[str, float] = field(default_factory=dict)


def rank_similar(
    repertoire: RelationalRepertoire,
    text: str,
    viewer: ChannelRef | None,
    *,
    exclude_ids: Iterable[int] = (),
    answered_only: bool = True,
    pool: int = POOL,
    config: MltConfig = DEFAULT_CONFIG,
    embedder: Embedder | None = None,
) -> list[Ranked]:
    """Candidates like ``text``, best first, each with its confidence.

    Lexical: the ``max_terms`` most informative terms, OR-ed, ranked by the
    weighted bm25 (with boosts). With an ``embedder`` (the optional semantic
    stage), the ``pool`` best by words and the ``pool`` nearest by cosine are
    each scored by the semantic confidence model, which sees the words' evidence
    and the cosines: its probability is the order and the confidence (compare it
    with :data:`SEMANTIC_SUGGEST_THRESHOLD`).
    """
    max_terms = config.max_terms
    terms = question_terms(repertoire, text, config=config)
    selected = select_terms(terms, max_terms, config.max_postings)
    excluded = set(exclude_ids)
    matches = repertoire.similar_candidates(
        SimilarLookup(
            tuple(weighted_terms(selected)),
            viewer,
            exclude_ids=frozenset(excluded),
            answered_only=answered_only,
            limit=max(pool, CROWD_RANK),
            field_weights=config.weights,
            boosts=config.boosts,
            max_postings=config.max_postings,
        )
    )
    entries = [m.entry for m in matches]
    scores = {m.entry.id: m.score for m in matches}
    solved = {m.entry.id for m in matches if m.solved}
    crowd = (
        sorted(scores.values(), reverse=True)[CROWD_RANK - 1] if len(scores) >= CROWD_RANK else 0.0
    )
    own_weight = query_weight(selected)
    if embedder is None:
        return calibrated(
            repertoire, selected, entries[:pool], scores, solved, crowd, own_weight, LEXICAL_MODEL
        )
    from knowledge.semantic import cosines, query_vector, semantic_ranking

    vector = query_vector(embedder, text)
    semantic = semantic_ranking(
        repertoire,
        embedder,
        text,
        viewer,
        exclude_ids=excluded,
        answered_only=answered_only,
        limit=pool,
        vector=vector,
    )
    # The candidates of both rankings, each scored by the semantic model, which
    # sees words and embeddings alike: it is the ranking as well as the confidence.
    # The semantic ranking checked visibility in a statement of its own: an entry read
    # after it is checked again, as it is now (its channel may have turned private since).
    known = {e.id: e for e in entries[:pool]}
    for entry_id, _ in semantic:
        if entry_id not in known:
            entry = repertoire.get_entry(entry_id)
            if entry is not None and visible_to(entry, viewer):
                known[entry_id] = entry
    ranked_cosines = [c for _, c in semantic]
    cos_crowd = ranked_cosines[CROWD_RANK - 1] if len(ranked_cosines) >= CROWD_RANK else 0.0
    similarity = cosines(repertoire, embedder.name, vector, known)
    scored = calibrated(
        repertoire,
        selected,
        list(known.values()),
        scores,
        solved,
        crowd,
        own_weight,
        SEMANTIC_MODEL,
        cosines=similarity,
        cosine_crowd=cos_crowd,
        cosine_best=ranked_cosines[0] if ranked_cosines else 0.0,
        limit=len(known),
    )
    scored.sort(key=lambda r: -r.confidence)
    return scored[:pool]


def calibrated(
    repertoire: RelationalRepertoire,
    selected: Sequence[Term],
    entries: Sequence[Entry],
    scores: Mapping[int, float],
    solved: set[int],
    crowd: float,
    own_weight: float,
    model: ConfidenceModel,
    *,
    cosines: Mapping[int, float] | None = None,
    cosine_crowd: float = 0.0,
    cosine_best: float = 0.0,
    limit: int = CALIBRATED,
) -> list[Ranked]:
    """Each candidate with the model's probability and the evidence behind it."""
    entries = entries[:limit]
    if not entries:
        return []
    query = [QueryTerm(t.word, t.stem, t.idf) for t in selected]
    # The features only ask which of the query's stems a candidate holds.
    stems = repertoire.stems_present(
        {2 * i: e.title for i, e in enumerate(entries)}
        | {2 * i + 1: e.text for i, e in enumerate(entries)},
        (t.stem for t in selected),
    )
    lexical = sorted((scores.get(e.id, 0.0) for e in entries), reverse=True)
    now = datetime.now(UTC)
    out: list[Ranked] = []
    for i, entry in enumerate(entries):
        score = scores.get(entry.id, 0.0)
        below = [s for s in lexical if s < score]
        evidence = features(
            query,
            title_stems=stems[2 * i],
            text_stems=stems[2 * i + 1],
            score=score,
            next_score=below[0] if below else 0.0,
            crowd=crowd,
            own_weight=own_weight,
            tags=entry.tags,
            accepted=entry.id in solved or entry.accepted,
            created_at=entry.created_at,
            now=now,
            cosine=None if cosines is None else cosines.get(entry.id, cosine_crowd),
            cosine_crowd=None if cosines is None else cosine_crowd,
            cosine_best=None if cosines is None else cosine_best,
        )
        out.append(
            Ranked(entry, model.probability(evidence.values), evidence.matched, evidence.values)
        )
    return out


def margin_confidence(score: float, crowd: float, own_weight: float) -> float:
    """How far ``score`` stands above the crowd, as a share of the question's weight, 0..1."""
    if own_weight <= 0 or score <= 0:
        return 0.0
    return max(0.0, min(1.0, (score - crowd) / own_weight))
