"""The SQLite repertoire's full-text search: FTS5 behind the interface's :class:`TextSearch`.

A mixin of the SQLite repertoire. Each method hands over to the module that
holds the SQL: :mod:`~knowledge.sqlite.keyword_search` (``/cop search``),
:mod:`~knowledge.sqlite.similar_candidates` (the similar-question finder's
ranking) and :mod:`~knowledge.sqlite.vocabulary` (stems and document
frequencies as the index knows them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from knowledge.models import Audience
from knowledge.query import ParsedQuery
from knowledge.sqlite import keyword_search, vocabulary
from knowledge.sqlite import similar_candidates as candidates
from knowledge.storage.matches import ScoredEntry, SimilarLookup

__all__ = ["SqliteTextSearch"]


class SqliteTextSearch:
    """:class:`~knowledge.storage.TextSearch` over FTS5 (needs the repertoire's ``db``)."""

    def keyword_matches(
        self: keyword_search.KeywordSource, query: ParsedQuery, viewer: Audience, *, limit: int
    ) -> list[ScoredEntry]:
        return keyword_search.keyword_matches(self, query, viewer, limit=limit)

    def matching_ids(
        self: keyword_search.KeywordSource, query: ParsedQuery, viewer: Audience, *, limit: int
    ) -> list[int]:
        return keyword_search.matching_ids(self.db, query, viewer, limit=limit)

    def stem_words(self: vocabulary.VocabularySource, words: Sequence[str]) -> list[str | None]:
        return vocabulary.stem_words(self, words)

    def document_count(self: vocabulary.VocabularySource) -> int:
        return vocabulary.document_count(self)

    def document_frequencies(
        self: vocabulary.VocabularySource, stems: Sequence[str], n_docs: int
    ) -> dict[str, int]:
        return vocabulary.document_frequencies(self, list(stems), n_docs)

    def stems_present(
        self: vocabulary.VocabularySource, texts: Mapping[int, str], stems: Iterable[str]
    ) -> dict[int, frozenset[str]]:
        return vocabulary.stems_present(self, texts, stems)

    def similar_candidates(
        self: candidates.CandidateSource, lookup: SimilarLookup
    ) -> list[ScoredEntry]:
        return candidates.similar_candidates(self, lookup)
