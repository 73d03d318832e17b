"""bm25 over ``tsvector`` documents, as SQLite's FTS5 computes it, for a bounded set of candidates.

So that a search ranks the same on both backends, and the similar finder's
scores (which its confidence model reads) mean the same, PostgreSQL rescores
its best candidates with FTS5's own formula. For each part (a word or a
phrase) of the query and each document::

    f     = sum over the part's occurrences of its field's weight
    score = sum over parts of  repeats * idf * f * (k1 + 1) / (f + k1 * (1 - b + b * D / avgdl))

with ``idf = ln((N - n + 0.5) / (n + 0.5))`` (a tiny positive number when
that is not positive), ``D`` the document's length in tokens and ``avgdl``
the average over all documents, as FTS5's ``bm25()`` does. The field of an
occurrence is its ``tsvector`` weight class (title ``A``, tags ``B``, body
``C``, answers ``D``). A phrase counts as often as its least frequent word
(positions are not matched again here: the candidates already matched it).

Reading a document's lexemes (``unnest``) costs time in proportion to its
length, so only a bounded set of candidates is rescored (the callers rank
every match cheaply first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Connection

from knowledge.postgres.schema_search import CONFIG
from knowledge.relevance import BM25_B, BM25_K1

__all__ = ["Bm25Part", "average_length", "fts5_idf", "rescore"]

#: Up to this many documents the average length is computed exactly, each time.
EXACT_AVERAGE_BELOW = 2_000
#: Above, it is the average of the newest this many documents, cached in ``meta``.
AVERAGE_SAMPLE = 5_000
_AVERAGE_KEY = "search_average_length"
#: The cached average holds while the corpus is within these factors of its size then.
STALE_BELOW, STALE_ABOVE = 0.8, 1.25


@dataclass(frozen=True, slots=True)
class Bm25Part:
    """One part of a query: its text (stemmed by the server), how rare, how often it counts."""

    text: str
    idf: float
    repeats: float = 1.0


def fts5_idf(n_docs: int, df: int) -> float:
    """FTS5's idf: ``ln((N - n + 0.5) / (n + 0.5))``, or 1e-6 when that is not positive."""
    value = math.log((n_docs - df + 0.5) / (df + 0.5)) if n_docs > 0 else 0.0
    return value if value > 0 else 1e-6


_LENGTHS = """
    SELECT (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM unnest(e.search_document) u)
    FROM entries e WHERE e.search_document IS NOT NULL
"""


def average_length(conn: Connection[Any], n_docs: int) -> float:
    """The average document length in tokens (what FTS5 calls ``avgdl``).

    Kept in ``meta`` with the number of documents it was computed over; it is
    computed again when that number changes (in a repertoire of up to
    :data:`EXACT_AVERAGE_BELOW` documents, exactly, over all of them) or moves
    by more than a quarter (in a bigger one, over the newest :data:`AVERAGE_SAMPLE`).
    """
    cached = conn.execute("SELECT value FROM meta WHERE key = %s", [_AVERAGE_KEY]).fetchone()
    if cached is not None:
        average, _, at_count = str(cached[0]).partition(" ")
        then = int(at_count or -1)
        if then == n_docs or (
            n_docs > EXACT_AVERAGE_BELOW and STALE_BELOW * then <= n_docs <= STALE_ABOVE * then
        ):
            return float(average)
    row = conn.execute(
        f"SELECT avg(l) FROM ({_LENGTHS} ORDER BY e.id DESC LIMIT %s) AS d(l)",
        [n_docs if n_docs <= EXACT_AVERAGE_BELOW else AVERAGE_SAMPLE],
    ).fetchone()
    average_now = float(row[0]) if row and row[0] is not None else 1.0
    if conn.read_only:  # a reader (the web view) computes it and keeps nothing
        return average_now
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [_AVERAGE_KEY, f"{average_now!r} {n_docs}"],
    )
    return average_now


_RESCORE = f"""
WITH parts AS (
    SELECT u.ord, u.idf, u.repeats,
        tsvector_to_array(to_tsvector('{CONFIG}', u.text)) AS lexemes
    FROM unnest(%(texts)s::text[], %(idfs)s::float8[], %(repeats)s::float8[])
        WITH ORDINALITY AS u(text, idf, repeats, ord)
), wanted AS (
    SELECT DISTINCT unnest(lexemes) AS lexeme FROM parts
), docs AS (
    SELECT e.id, e.search_document AS doc FROM entries e
    WHERE e.id = ANY(%(ids)s) AND e.search_document IS NOT NULL
), lexemes AS (
    SELECT d.id, u.lexeme, u.positions, u.weights
    FROM docs d CROSS JOIN LATERAL unnest(d.doc) AS u
), lengths AS (
    SELECT id, sum(cardinality(positions)) AS dl FROM lexemes GROUP BY id
), freq AS (
    SELECT l.id, l.lexeme, sum(CASE w WHEN 'A' THEN %(a)s::float8 WHEN 'B' THEN %(b)s::float8
        WHEN 'C' THEN %(c)s::float8 ELSE %(d)s::float8 END) AS f
    FROM lexemes l CROSS JOIN LATERAL unnest(l.weights) AS w
    WHERE l.lexeme IN (SELECT lexeme FROM wanted)
    GROUP BY l.id, l.lexeme
), part_freq AS (
    SELECT d.id, p.ord, p.idf, p.repeats, min(coalesce(f.f, 0)) AS f
    FROM docs d CROSS JOIN parts p CROSS JOIN LATERAL unnest(p.lexemes) AS pl(lexeme)
    LEFT JOIN freq f ON f.id = d.id AND f.lexeme = pl.lexeme
    GROUP BY d.id, p.ord, p.idf, p.repeats
)
SELECT pf.id, sum(pf.repeats * pf.idf * pf.f * {BM25_K1 + 1}
    / (pf.f + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * l.dl / %(avgdl)s::float8)))
FROM part_freq pf JOIN lengths l ON l.id = pf.id
GROUP BY pf.id
"""


def rescore(
    conn: Connection[Any],
    ids: Sequence[int],
    parts: Sequence[Bm25Part],
    field_weights: Sequence[float],
    avgdl: float,
) -> dict[int, float]:
    """Each candidate's bm25 for ``parts``, field weights (title, body, answers, tags)."""
    if not ids or not parts:
        return {}
    title, body, answers, tags = field_weights
    rows = conn.execute(
        _RESCORE,
        {
            "texts": [p.text for p in parts],
            "idfs": [p.idf for p in parts],
            "repeats": [p.repeats for p in parts],
            "ids": list(ids),
            "a": title,
            "b": tags,
            "c": body,
            "d": answers,
            "avgdl": max(avgdl, 1e-9),
        },
    ).fetchall()
    return {int(entry_id): float(score or 0.0) for entry_id, score in rows}
