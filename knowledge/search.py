"""Keyword search over the repertoire: parsed query in, ranked hits out.

The backend finds and ranks (:meth:`~knowledge.storage.TextSearch.keyword_matches`:
FTS5's bm25 on SQLite, the same bm25 over ``tsvector`` documents on PostgreSQL,
both with the field weights and boosts of :mod:`knowledge.relevance`, the
visibility rule inside the query); this module turns matches into hits: a
snippet with the words marked, and the answers the viewer may see.

Ranking: title > tags > body > answers, then a gentle boost for questions that
were answered (more for an accepted answer) and for know-how, so that an
answered question outranks an equally relevant open one. When every word is
required and nothing matches, the search falls back to any word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from knowledge.models import Audience, Entry, EntryKind, SearchHit
from knowledge.query import ParsedQuery
from knowledge.relevance import BOOST_ACCEPTED, BOOST_ANSWERED, BOOST_KNOWHOW, FIELD_WEIGHTS
from knowledge.storage.matches import ScoredEntry
from knowledge.storage.protocols import EntryStore, TextSearch
from knowledge.text import highlight

__all__ = [
    "BOOST_ACCEPTED",
    "BOOST_ANSWERED",
    "BOOST_KNOWHOW",
    "FIELD_WEIGHTS",
    "SearchOptions",
    "Searchable",
    "search",
    "snippet_of",
]


class Searchable(TextSearch, EntryStore, Protocol):
    """What search needs of a repertoire: its text search and the answers of a question."""


@dataclass(frozen=True, slots=True)
class SearchOptions:
    limit: int = 5
    #: Hits to skip before the ``limit`` returned (the web view's pages).
    offset: int = 0
    mark_start: str = "\x02"
    mark_end: str = "\x03"
    snippet_chars: int = 220


def search(
    repertoire: Searchable,
    query: ParsedQuery,
    viewer: Audience,
    options: SearchOptions | None = None,
) -> list[SearchHit]:
    """Ranked hits for ``query`` that ``viewer`` may see. Never raises on user text."""
    options = options or SearchOptions()
    if query.is_empty:
        return []
    matches = repertoire.keyword_matches(query, viewer, limit=options.offset + options.limit)
    return [
        _to_hit(repertoire, match, query, options, viewer) for match in matches[options.offset :]
    ]


def snippet_of(entry: Entry, words: list[str], options: SearchOptions) -> str:
    """The entry's text with ``words`` marked; after its title when the text starts with it."""
    body = entry.text
    if entry.title and body.startswith(entry.title) and len(body) > len(entry.title) + 20:
        body = body[len(entry.title) :]  # the title is shown anyway: show what follows it
    return highlight(body, words, options.mark_start, options.mark_end, options.snippet_chars)


def _to_hit(
    repertoire: EntryStore,
    match: ScoredEntry,
    query: ParsedQuery,
    options: SearchOptions,
    viewer: Audience,
) -> SearchHit:
    entry = match.entry
    words = query.all_words
    answer: Entry | None = None
    answer_snippet = ""
    answers: list[Entry] = []
    if entry.kind == EntryKind.QUESTION:
        # Each answer by its own visibility; else the answer a "solved it" link lends.
        answers = repertoire.visible_answers(entry, viewer)
        if answers:
            answer = answers[0]
            answer_snippet = highlight(
                answer.text, words, options.mark_start, options.mark_end, options.snippet_chars
            )
    return SearchHit(
        entry=entry,
        score=match.score,
        snippet=snippet_of(entry, words, options),
        answer=answer,
        answer_snippet=answer_snippet,
        answer_count=len(answers),
    )
