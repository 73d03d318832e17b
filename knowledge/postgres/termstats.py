"""How rare each word is: document counts and document frequencies, bounded in cost.

``ts_rank`` knows nothing of the corpus (no idf), and any-word queries get
slow when they rank every document holding a common word. Both needs are
met with document frequencies: idf weights for the ranking, and "rarest
terms first" to keep the candidate set small (``knowledge/postgres/ranking.py``).

GIN keeps no per-term count, so a frequency is counted by matching, and the
count stops at a cap: only rare terms are ever counted in full, and those
are cheap. Counts of single words are cached in ``term_stats`` together with
the number of documents at the time (as the SQLite backend's ``similar_df``)
and counted again when the corpus has grown or shrunk by more than a
quarter; many processes may write the cache, last writer wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from psycopg import Connection

from knowledge.postgres.schema_search import CONFIG
from knowledge.postgres.tsquery import MatchPart
from knowledge.text import clean_text

#: Below this many documents (by the planner's estimate) they are counted exactly.
EXACT_COUNT_BELOW = 100_000
#: A term is counted up to at least this many documents (then "at least this many").
MIN_COUNT_CAP = 1_000
#: ...or up to this share of all documents, when that is more.
COUNT_CAP_SHARE = 0.2
#: A cached count holds while the corpus is within these factors of its size then.
STALE_BELOW, STALE_ABOVE = 0.8, 1.25


def document_count(conn: Connection[Any]) -> int:
    """How many search documents there are: exact in a small repertoire, estimated in a big one.

    The estimate is the row count PostgreSQL keeps for the partial index on
    documents (refreshed by autovacuum), free to read where counting a
    million rows is not.
    """
    row = conn.execute(
        "SELECT reltuples FROM pg_class WHERE oid = to_regclass('entries_documents')"
    ).fetchone()
    estimate = float(row[0]) if row is not None and row[0] is not None else -1.0
    if estimate >= EXACT_COUNT_BELOW:
        return int(estimate)
    row = conn.execute("SELECT count(*) FROM entries WHERE search_document IS NOT NULL").fetchone()
    return int(row[0]) if row else 0


def count_cap(n_docs: int) -> int:
    """Counting a term's documents stops here: past it, the exact number changes nothing."""
    return max(MIN_COUNT_CAP, int(COUNT_CAP_SHARE * n_docs)) + 1


def lexemes(conn: Connection[Any], words: Sequence[str]) -> list[str | None]:
    """Each word's lexeme as the index stores it.

    ``None`` for a word that makes no lexeme (an emoji) or several (``x_y``,
    or a whole pasted line): such text has no single term to stand for it.
    """
    if not words:
        return []
    rows = conn.execute(
        f"""
        SELECT u.ord, CASE WHEN length(v.vector) = 1 THEN (tsvector_to_array(v.vector))[1] END
        FROM unnest(%(words)s::text[]) WITH ORDINALITY AS u(word, ord)
        CROSS JOIN LATERAL (SELECT to_tsvector('{CONFIG}', u.word) AS vector) v
        """,
        {"words": [clean_text(w) for w in words]},
    ).fetchall()
    out: list[str | None] = [None] * len(words)
    for ordinal, lexeme in rows:
        out[int(ordinal) - 1] = None if lexeme is None else str(lexeme)
    return out


def count_matches(conn: Connection[Any], parts: Sequence[MatchPart], cap: int) -> list[int]:
    """How many documents match each part, counting no further than ``cap``."""
    if not parts:
        return []
    rows = conn.execute(
        f"""
        SELECT u.ord, (SELECT count(*) FROM (
            SELECT 1 FROM entries e
            WHERE e.search_document @@ (CASE WHEN u.phrase
                THEN phraseto_tsquery('{CONFIG}', u.text) ELSE plainto_tsquery('{CONFIG}', u.text)
                END)
            LIMIT %(cap)s) AS hits)
        FROM unnest(%(texts)s::text[], %(phrases)s::boolean[]) WITH ORDINALITY
            AS u(text, phrase, ord)
        """,
        {
            "texts": [p.text for p in parts],
            "phrases": [p.phrase for p in parts],
            "cap": cap,
        },
    ).fetchall()
    counts = [0] * len(parts)
    for ordinal, count in rows:
        counts[int(ordinal) - 1] = int(count)
    return counts


def _remember(conn: Connection[Any], counts: Mapping[str, int], n_docs: int) -> None:
    """Cache ``counts`` (lexeme: documents) as counted among ``n_docs`` documents.

    A reader's connection (the web view's, ``read_only``) counts and keeps nothing.
    """
    if not counts or conn.read_only:
        return
    conn.execute(
        "INSERT INTO term_stats (term, doc, n_docs) "
        "SELECT term, doc, %(n)s FROM unnest(%(terms)s::text[], %(docs)s::int[]) "
        "AS u(term, doc) ORDER BY term "
        "ON CONFLICT (term) DO UPDATE SET doc = excluded.doc, n_docs = excluded.n_docs",
        {"n": n_docs, "terms": list(counts), "docs": list(counts.values())},
    )


def document_frequencies(
    conn: Connection[Any], parts: Sequence[MatchPart], n_docs: int
) -> list[int]:
    """Each part's document frequency (capped by :func:`count_cap`), through the cache.

    Parts that stand for one lexeme are looked up in ``term_stats`` and
    counted when missing or stale; phrases, and words of several lexemes, are
    always counted (they are rare, so cheap).
    """
    cap = count_cap(n_docs)
    words = [i for i, part in enumerate(parts) if not part.phrase]
    stems = lexemes(conn, [parts[i].text for i in words])
    stem_of = {i: stem for i, stem in zip(words, stems, strict=True) if stem is not None}
    frequencies = [0] * len(parts)
    cached: dict[str, int] = {}
    if stem_of:
        for term, doc, at_count in conn.execute(
            "SELECT term, doc, n_docs FROM term_stats WHERE term = ANY(%s)",
            [sorted(set(stem_of.values()))],
        ):
            if STALE_BELOW * int(at_count) <= n_docs <= STALE_ABOVE * int(at_count):
                cached[str(term)] = int(doc)
    to_count = [i for i in range(len(parts)) if i not in stem_of or stem_of[i] not in cached]
    counts = count_matches(conn, [parts[i] for i in to_count], cap)
    counted = dict(zip(to_count, counts, strict=True))
    _remember(conn, {stem_of[i]: n for i, n in counted.items() if i in stem_of}, n_docs)
    for i in range(len(parts)):
        if i in counted:
            frequencies[i] = counted[i]
        elif i in stem_of:
            frequencies[i] = cached[stem_of[i]]
    return frequencies


def stem_frequencies(conn: Connection[Any], stems: Sequence[str], n_docs: int) -> dict[str, int]:
    """Each lexeme's document frequency (capped), through the same cache as words.

    ``stems`` are lexemes as the index stores them (:func:`lexemes`): each is
    matched as it is (the ``simple`` configuration only lowercases, and a
    lexeme is lowercase already), never stemmed again.
    """
    wanted = sorted({clean_text(s) for s in stems if s})
    if not wanted:
        return {}
    known: dict[str, int] = {}
    for term, doc, at_count in conn.execute(
        "SELECT term, doc, n_docs FROM term_stats WHERE term = ANY(%s)", [wanted]
    ):
        if STALE_BELOW * int(at_count) <= n_docs <= STALE_ABOVE * int(at_count):
            known[str(term)] = int(doc)
    missing = [s for s in wanted if s not in known]
    if missing:
        rows = conn.execute(
            """
            SELECT u.term, (SELECT count(*) FROM (
                SELECT 1 FROM entries e
                WHERE e.search_document @@ plainto_tsquery('simple', u.term)
                LIMIT %(cap)s) AS hits)
            FROM unnest(%(terms)s::text[]) AS u(term)
            """,
            {"terms": missing, "cap": count_cap(n_docs)},
        ).fetchall()
        fresh = {str(term): int(count) for term, count in rows}
        _remember(conn, fresh, n_docs)
        known.update(fresh)
    return {s: known.get(s, 0) for s in wanted}


def stems_present(
    conn: Connection[Any], texts: Mapping[int, str], stems: Iterable[str]
) -> dict[int, frozenset[str]]:
    """Which of ``stems`` each text holds, as the index would stem it."""
    wanted = sorted(set(stems))
    found: dict[int, frozenset[str]] = {key: frozenset() for key in texts}
    if not texts or not wanted:
        return found
    keys = list(texts)
    rows = conn.execute(
        f"""
        SELECT u.key, ARRAY(SELECT unnest(tsvector_to_array(
                to_tsvector('{CONFIG}', copbot_words(u.text))))
            INTERSECT SELECT unnest(%(stems)s::text[]))
        FROM unnest(%(keys)s::bigint[], %(texts)s::text[]) AS u(key, text)
        """,
        {"keys": keys, "texts": [clean_text(texts[k]) for k in keys], "stems": wanted},
    ).fetchall()
    for key, present in rows:
        found[int(key)] = frozenset(str(s) for s in present)
    return found
