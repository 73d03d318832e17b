"""What full-text search and the similar-question finder hand across the storage interface.

The core decides *what* to look for (the parsed query, a question's most
informative terms, how much each weighs); the backend decides *how* its
index finds it (FTS5's bm25 on SQLite, a ``tsvector`` ranking on PostgreSQL)
and applies the visibility rule inside its query. These are the values that
cross between them: no SQL, no expression in one engine's syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import ChannelRef, Entry
from knowledge.relevance import SIMILAR_FIELD_WEIGHTS

__all__ = ["ScoredEntry", "SimilarLookup", "WeightedTerm"]


@dataclass(frozen=True, slots=True)
class ScoredEntry:
    """One match: the entry, how well it matched (higher is better), and whether it is solved.

    Scores compare within one result list only; ``0.0`` when the listing was not
    ranked by text (filters only). ``solved`` says the question has an accepted
    answer, its own or one a "solved it" link lends it (the similar finder's
    evidence); know-how is never ``solved``.
    """

    entry: Entry
    score: float
    solved: bool = False


@dataclass(frozen=True, slots=True)
class WeightedTerm:
    """One term of a similar-question lookup, chosen by the core.

    ``word`` is the folded surface form the member wrote (a backend stems it
    its own way), ``stem`` the form the backend's index stores (from its
    :meth:`~knowledge.storage.protocols.TextSearch.stem_words`), ``df`` and
    ``idf`` how rare it is, and ``repeats`` how many times it counts in the
    score (a quoted or first-line word counts more).
    """

    word: str
    stem: str
    df: int
    idf: float
    repeats: int = 1


@dataclass(frozen=True, slots=True)
class SimilarLookup:
    """What the similar finder asks the backend: entries sharing ``terms``, for ``viewer``.

    Scored as bm25 with ``field_weights`` (title, body, answers, tags), each
    term counted ``repeats`` times, times the answered/accepted/know-how boosts
    when ``boosts``; only answered questions (and know-how) when
    ``answered_only``; never the ids in ``exclude_ids``; the best ``limit``.
    """

    terms: tuple[WeightedTerm, ...]
    viewer: ChannelRef | None
    exclude_ids: frozenset[int] = frozenset()
    answered_only: bool = True
    limit: int = 20
    field_weights: tuple[float, ...] = SIMILAR_FIELD_WEIGHTS
    boosts: bool = True
