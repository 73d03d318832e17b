"""Similar questions: past answered questions and know-how close to a new question.

MoreLikeThis over the repertoire's index. A chat question is long and chatty,
so it is not searched word for word: its words are stemmed as the index stems
them, each stem gets an idf from the index's document frequencies (both through
the backend's :class:`~knowledge.storage.TextSearch`: a scratch FTS5 table and
``fts5vocab`` on SQLite, ``to_tsvector`` and counted matches on PostgreSQL, the
counts cached), and only the :data:`MAX_QUERY_TERMS` most informative terms
(tf-idf; quoted words and the first line weigh double), within a budget of
:data:`MAX_POSTINGS` postings, are handed to the backend, which ranks past
entries by them with the weighted bm25 (each term single words, never query
syntax). ``bench/README.md`` has the measurements behind each choice.

Each candidate then gets a **confidence** in ``[0, 1]``: how far its score
stands above the crowd (the :data:`CROWD_RANK`-th candidate's score), as a
share of the question's own weight (the sum of its query terms' idf). A
duplicate stands out from the other candidates; a question that is merely on
the same topic does not. Unlike a raw bm25 score, this is comparable across
questions and corpus sizes, so one threshold (:data:`SUGGEST_THRESHOLD`,
chosen on the evaluation set, see ``bench/README.md``) decides when the bot
speaks. On that set it separates right from wrong first answers better than
the share of the question's terms a candidate covers (AUC 0.80 against 0.59).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from knowledge.confidence import (
    LEXICAL_MODEL,
    SEMANTIC_MODEL,
    SEMANTIC_SPEAK_THRESHOLD,
    SPEAK_THRESHOLD,
    ConfidenceModel,
    QueryTerm,
    features,
)
from knowledge.models import ChannelRef, Entry, EntryKind, SearchHit
from knowledge.relevance import SIMILAR_FIELD_WEIGHTS
from knowledge.search import SearchOptions
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage.matches import SimilarLookup, WeightedTerm
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

#: How many of the question's terms reach FTS5 (the most informative ones).
MAX_QUERY_TERMS = 16
#: The posting budget of one query (sum of its terms' document frequencies):
#: what bounds its time in a big repertoire.
MAX_POSTINGS = 10_000
#: Words of a very long paste looked at; the rest adds little and costs time.
MAX_WORDS = 400
#: Candidates fetched by bm25 and scored for confidence.
POOL = 20
#: Below this many documents a term is never too common to query (see MltConfig).
MIN_CAPPED_DF = 1000
#: The confidence (a calibrated probability) from which the bot speaks up at ask time.
SUGGEST_THRESHOLD = SPEAK_THRESHOLD
#: The same with the semantic stage on (its model also sees the cosines).
SEMANTIC_SUGGEST_THRESHOLD = SEMANTIC_SPEAK_THRESHOLD
#: Confidence compares a candidate's score with the score at this rank.
CROWD_RANK = 5
#: Candidates that get a calibrated confidence (and are returned): a reply shows
#: three, ``/cop similar`` five, the benchmark ten; stemming each candidate is the cost.
CALIBRATED = 10

# unicode61 splits on everything that is not a letter or a digit (underscore too).
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Term:
    """One stemmed term of a question, with what the index knows of it."""

    word: str  # the folded surface form, quoted into the MATCH expression
    stem: str  # the form the index stores
    tf: int  # how often the question uses it
    df: int  # how many indexed documents contain it
    idf: float
    boost: float = 1.0  # quoted or in the title

    @property
    def weight(self) -> float:
        return (1.0 + math.log(self.tf)) * self.idf * self.boost


def idf(n_docs: int, df: int) -> float:
    """bm25's idf, kept positive (as Lucene does) so that weights add up."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class MltConfig:
    """How a question becomes a query; the defaults are what the evaluation chose."""

    max_terms: int = MAX_QUERY_TERMS
    #: Drop common English words (unless quoted). Off: their low idf already
    #: keeps them out of a long question's top terms, and in a short one
    #: ("can" or "could"?) they may be the whole point.
    drop_stopwords: bool = False
    #: Words the asker put in quotes or backticks (`read_csv`, "whom") are the
    #: topic: their weight is multiplied and they repeat in the query.
    quoted_boost: float = 2.0
    #: Words of the first line (a chat question's title) weigh this much more.
    title_boost: float = 2.0
    #: Terms in more than this share of documents are left out (unless quoted):
    #: they cost the most time (long posting lists) and tell the least. Words
    #: of the first line get the looser ``max_df_share_title``. Only terms in
    #: more than :data:`MIN_CAPPED_DF` documents are ever left out, so a small
    #: repertoire keeps every word.
    max_df_share: float = 0.05
    max_df_share_title: float = 0.2
    #: At most about this many postings per query (see :func:`select_terms`).
    max_postings: int = MAX_POSTINGS
    weights: tuple[float, ...] = SIMILAR_FIELD_WEIGHTS
    boosts: bool = True


DEFAULT_CONFIG = MltConfig()

_QUOTED = re.compile(
    r'"([^"\n]{1,80})"|“([^”\n]{1,80})”|`([^`\n]{1,80})`|(?<!\w)\'([^\'\n]{1,60})\'(?!\w)'
)


def _emphasised(text: str) -> set[str]:
    found: set[str] = set()
    for match in _QUOTED.finditer(text):
        quoted = next(g for g in match.groups() if g is not None)
        found.update(_TOKEN.findall(fold(quoted)))
    return found


def question_terms(
    repertoire: Repertoire,
    text: str,
    *,
    max_words: int = MAX_WORDS,
    config: MltConfig = DEFAULT_CONFIG,
) -> list[Term]:
    """The question's stemmed terms with df and idf, most informative first.

    One-letter words and short numbers are dropped, and stop words unless
    quoted (when ``config.drop_stopwords``); terms the index has never seen
    (df 0) are kept out, since they can neither match nor tell candidates apart.
    """
    folded = fold(text)
    quoted = _emphasised(text) if config.quoted_boost != 1.0 else set()
    first_line = folded.strip().split("\n", 1)[0]
    titled = set(_TOKEN.findall(first_line)) if config.title_boost != 1.0 else set()
    tokens = [
        t
        for t in _TOKEN.findall(folded)[:max_words]
        if len(t) > 1
        and not (t.isdigit() and len(t) < 3)
        and (t in quoted or not (config.drop_stopwords and t in STOPWORDS))
    ]
    if not tokens:
        return []
    counts = Counter(tokens)
    words = list(counts)
    by_stem: dict[str, tuple[str, int, float]] = {}
    quoted_stems: set[str] = set()
    titled_stems: set[str] = set()
    for word, stem in zip(words, repertoire.stem_words(words), strict=True):
        if stem is None:
            continue
        boost = 1.0
        if word in quoted:
            boost *= config.quoted_boost
            quoted_stems.add(stem)
        if word in titled:
            boost *= config.title_boost
            titled_stems.add(stem)
        surface, tf, best = by_stem.get(stem, (word, 0, 1.0))
        by_stem[stem] = (surface, tf + counts[word], max(best, boost))
    if not by_stem:
        return []
    n_docs = repertoire.document_count()
    dfs = repertoire.document_frequencies(list(by_stem), n_docs)
    terms: list[Term] = []
    for stem, (word, tf, boost) in by_stem.items():
        df = dfs.get(stem, 0)
        if df == 0:
            continue
        cap = config.max_df_share_title if stem in titled_stems else config.max_df_share
        if stem not in quoted_stems and df > max(cap * n_docs, MIN_CAPPED_DF):
            continue
        terms.append(Term(word, stem, tf, df, idf(max(n_docs, df), df), boost))
    terms.sort(key=lambda t: (-t.weight, t.stem))
    return terms


def _repeats(term: Term) -> int:
    return max(1, min(3, round(term.boost)))


def weighted_terms(terms: Sequence[Term]) -> list[WeightedTerm]:
    """The terms as the backend ranks with them: a boosted term counts up to 3 times."""
    return [WeightedTerm(t.word, t.stem, t.df, t.idf, _repeats(t)) for t in terms]


def select_terms(
    terms: Sequence[Term], max_terms: int = MAX_QUERY_TERMS, max_postings: int = MAX_POSTINGS
) -> list[Term]:
    """The terms the query uses: the best by weight, within a posting budget.

    A query's cost is the length of its terms' posting lists (their document
    frequencies) added up; a term that would push the sum past
    ``max_postings`` is skipped, except that the two best always stay.
    """
    chosen: list[Term] = []
    postings = 0
    for term in terms:
        if len(chosen) >= max_terms:
            break
        if len(chosen) >= 2 and postings + term.df > max_postings:
            continue
        chosen.append(term)
        postings += term.df
    return chosen


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
    repertoire: Repertoire,
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
        return _calibrated(
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
    known = {e.id: e for e in entries[:pool]}
    for entry_id, _ in semantic:
        if entry_id not in known:
            entry = repertoire.get_entry(entry_id)
            if entry is not None:
                known[entry_id] = entry
    ranked_cosines = [c for _, c in semantic]
    cos_crowd = ranked_cosines[CROWD_RANK - 1] if len(ranked_cosines) >= CROWD_RANK else 0.0
    similarity = cosines(repertoire, embedder.name, vector, known)
    scored = _calibrated(
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


def _calibrated(
    repertoire: Repertoire,
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


def query_weight(terms: Sequence[Term]) -> float:
    """The question's own weight: its query terms' idf, counted as often as they are repeated."""
    return sum(t.idf * _repeats(t) for t in terms)


def margin_confidence(score: float, crowd: float, own_weight: float) -> float:
    """How far ``score`` stands above the crowd, as a share of the question's weight, 0..1."""
    if own_weight <= 0 or score <= 0:
        return 0.0
    return max(0.0, min(1.0, (score - crowd) / own_weight))


def find_similar(
    repertoire: Repertoire,
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
    words = [t for t in dict.fromkeys(_TOKEN.findall(fold(text))) if t not in STOPWORDS]
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
    repertoire: Repertoire,
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
