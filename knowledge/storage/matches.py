"""What full-text search and the similar-question finder hand across the storage interface.

The core decides *what* to look for (the parsed query, a question's most
informative terms, how much each weighs); the backend decides *how* its
index finds it (FTS5's bm25 on SQLite, a ``tsvector`` ranking on PostgreSQL)
and applies the visibility rule inside its query. These are the values that
cross between them: no SQL, no expression in one engine's syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from knowledge.models import ChannelRef, Entry
from knowledge.relevance import SIMILAR_FIELD_WEIGHTS, SIMILAR_MAX_POSTINGS

__all__ = ["GateTerm", "ScoredEntry", "SimilarLookup", "WeightedTerm", "gating_terms"]


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

    @property
    def gate_weight(self) -> float:
        """What the term weighs in the score: its idf, as often as it counts."""
        return self.idf * self.repeats

    @property
    def gate_name(self) -> str:
        return self.word


@dataclass(frozen=True, slots=True)
class SimilarLookup:
    """What the similar finder asks the backend: entries sharing ``terms``, for ``viewer``.

    The candidates are the entries holding one of the gating terms
    (:func:`gating_terms` within ``max_postings``); each is scored as bm25 of
    *all* ``terms`` with ``field_weights`` (title, body, answers, tags), each
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
    max_postings: int = SIMILAR_MAX_POSTINGS


class GateTerm(Protocol):
    """What :func:`gating_terms` reads of a term: SQLite's :class:`WeightedTerm`, a part of
    PostgreSQL's any-word ranking alike."""

    @property
    def df(self) -> int:
        """Documents holding the term (its postings)."""
        ...

    @property
    def gate_weight(self) -> float:
        """What the term weighs in the score: the heavier of two equally rare gates first."""
        ...

    @property
    def gate_name(self) -> str:
        """The term's text: the last tie-break, so the choice never depends on input order."""
        ...


Term = TypeVar("Term", bound=GateTerm)


def gating_terms(terms: Sequence[Term], budget: int) -> list[Term]:
    """The terms that choose a lookup's candidates: the rarest, while their document
    frequencies add up to at most ``budget`` (the rarest one always).

    The rule of both backends (SQLite's similar finder; PostgreSQL's similar
    finder and its any-word search). The finder keeps its two best terms
    whatever their frequency, so a short question of common words would make
    the index score every document holding one of them (tens of thousands in a
    million messages: the time goes into scoring each match). A document
    holding none of the rarer terms can still score well on the common ones
    alone, but it is rarely the question asked again; the documents that hold a
    rare term are scored with every term, so the question's own document keeps
    its full score. Ties: the heavier first, then by text.
    """
    chosen: list[Term] = []
    postings = 0
    for term in sorted(terms, key=lambda t: (t.df, -t.gate_weight, t.gate_name)):
        if chosen and postings + term.df > budget:
            break
        chosen.append(term)
        postings += term.df
    return chosen
