"""A question's terms: its words stemmed as the index stems them, weighed by how rare they are.

MoreLikeThis, first half. A chat question is long and chatty, so it is not
searched word for word: its words are stemmed as the index stems them, each
stem gets an idf from the index's document frequencies (both through the
backend's :class:`~knowledge.storage.TextSearch`, the counts cached), and only
the :data:`MAX_QUERY_TERMS` most informative terms (tf-idf; quoted words and
the first line weigh double), within a budget of :data:`MAX_POSTINGS`
postings, are handed to the backend (:func:`select_terms`,
:func:`weighted_terms`). ``bench/README.md`` has the measurements behind each
choice.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relevance import SIMILAR_FIELD_WEIGHTS, SIMILAR_MAX_POSTINGS
from knowledge.storage.matches import WeightedTerm
from knowledge.text import STOPWORDS, fold

__all__ = [
    "DEFAULT_CONFIG",
    "MAX_POSTINGS",
    "MAX_QUERY_TERMS",
    "MAX_WORDS",
    "MIN_CAPPED_DF",
    "WORD",
    "MltConfig",
    "Term",
    "emphasised",
    "idf",
    "query_weight",
    "question_terms",
    "repeats",
    "select_terms",
    "weighted_terms",
]

MAX_QUERY_TERMS = 16
#: The posting budget of one query (see :data:`knowledge.relevance.SIMILAR_MAX_POSTINGS`).
MAX_POSTINGS = SIMILAR_MAX_POSTINGS
#: Words of a very long paste looked at; the rest adds little and costs time.
MAX_WORDS = 400
#: Below this many documents a term is never too common to query (see MltConfig).
MIN_CAPPED_DF = 1000

#: A word as unicode61 splits text: letters and digits (an underscore splits too).
WORD = re.compile(r"[^\W_]+", re.UNICODE)


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

QUOTED_PATTERN = re.compile(
    r'"([^"\n]{1,80})"|“([^”\n]{1,80})”|`([^`\n]{1,80})`|(?<!\w)\'([^\'\n]{1,60})\'(?!\w)'
)


def emphasised(text: str) -> set[str]:
    found: set[str] = set()
    for match in QUOTED_PATTERN.finditer(text):
        quoted = next(g for g in match.groups() if g is not None)
        found.update(WORD.findall(fold(quoted)))
    return found


def question_terms(
    repertoire: RelationalRepertoire,
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
    quoted = emphasised(text) if config.quoted_boost != 1.0 else set()
    first_line = folded.strip().split("\n", 1)[0]
    titled = set(WORD.findall(first_line)) if config.title_boost != 1.0 else set()
    tokens = [
        t
        for t in WORD.findall(folded)[:max_words]
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


def repeats(term: Term) -> int:
    return max(1, min(3, round(term.boost)))


def weighted_terms(terms: Sequence[Term]) -> list[WeightedTerm]:
    """The terms as the backend ranks with them: a boosted term counts up to 3 times."""
    return [WeightedTerm(t.word, t.stem, t.df, t.idf, repeats(t)) for t in terms]


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


def query_weight(terms: Sequence[Term]) -> float:
    """The question's own weight: its query terms' idf, counted as often as they are repeated."""
    return sum(t.idf * repeats(t) for t in terms)
