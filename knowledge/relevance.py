"""How relevance is weighed, whatever the backend: field weights and boosts.

One place for the numbers both search backends rank with, so a search gives
the same order on SQLite and on PostgreSQL. Field weights are bm25's column
weights (title, body, answers, tags); boosts multiply a document's score, so
an answered question outranks an equally relevant open one.
"""

from __future__ import annotations

__all__ = [
    "BM25_B",
    "BM25_K1",
    "BOOST_ACCEPTED",
    "BOOST_ANSWERED",
    "BOOST_KNOWHOW",
    "FIELD_WEIGHTS",
    "KNOWHOW_KINDS",
    "SIMILAR_FIELD_WEIGHTS",
    "SIMILAR_MAX_POSTINGS",
]

#: ``/cop search``'s weights for (title, body, answers, tags).
FIELD_WEIGHTS = (8.0, 3.0, 1.5, 5.0)
#: Question-to-question matching: flatter, since a question's body says as much
#: as its title (bench/README.md has the measurements).
SIMILAR_FIELD_WEIGHTS = (2.0, 1.0, 0.5, 2.0)
#: The posting budget of one similar-question query (sum of its terms' document
#: frequencies): what bounds its time in a big repertoire. 5,000 halves the FTS5
#: ranking's time at 100k documents against 10,000, with the same figures on both
#: evaluation sets and the same best match for 99.5% of the scale benchmark's
#: questions (bench/README.md). Both backends gate their candidates with it.
SIMILAR_MAX_POSTINGS = 5_000

#: Multipliers on the text score of a document.
BOOST_ACCEPTED = 1.30
BOOST_ANSWERED = 1.15
BOOST_KNOWHOW = 1.20

#: bm25's term-frequency saturation and length normalisation (FTS5's constants).
BM25_K1 = 1.2
BM25_B = 0.75

#: Know-how sub-kinds ``kind:`` may name; an empty sub-kind is a how-to.
KNOWHOW_KINDS = ("howto", "resource", "story", "update")
