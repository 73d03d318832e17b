"""The search index's vocabulary: stems as the index makes them, and document frequencies.

Shared by keyword search (which words of a query are rare) and the similar-question
finder (a question's informative terms, a candidate's stems). Stemming goes through
scratch FTS5 tables in the connection's ``temp`` schema with the index's own
tokenizer, so stems and accent folding match the index exactly and nothing is
written to the database file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from sqlite_utils import Database

from knowledge.sqlite.migrations import FTS_TOKENIZER

#: The vocabulary of the search index: one row per term, with its document count.
VOCAB_TABLE = "search_vocab"
#: Terms in more documents than this are counted into the cache after a bulk load.
FREQUENT_DF = 1_000
_SCRATCH = "similar_scratch"
_PRESENCE = "similar_presence"

__all__ = [
    "FREQUENT_DF",
    "VOCAB_TABLE",
    "VocabularySource",
    "document_count",
    "document_frequencies",
    "remember_frequent_terms",
    "stem_words",
    "stems_of",
    "stems_present",
]


class VocabularySource(Protocol):
    """The SQLite repertoire as the vocabulary needs it: its database, and whether it may write."""

    db: Database
    #: A reader (the web view) never writes the frequency cache.
    read_only: bool


def _ensure_scratch(repertoire: VocabularySource) -> None:
    db = repertoire.db
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_SCRATCH} USING fts5(t, "
        f"tokenize = '{FTS_TOKENIZER}')"
    )
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_SCRATCH}_terms "
        f"USING fts5vocab(temp, {_SCRATCH}, 'instance')"
    )


def stems_of(repertoire: VocabularySource, texts: dict[int, str]) -> dict[int, Counter[str]]:
    """Each text's stems as the search index would store them, with their counts.

    The texts go through a scratch FTS5 table with the index's tokenizer, so
    stemming and accent folding match the index exactly. Nothing is written to
    the database file: the table lives in the connection's ``temp`` schema.
    """
    out: dict[int, Counter[str]] = {key: Counter() for key in texts}
    if not texts:
        return out
    _ensure_scratch(repertoire)
    db = repertoire.db
    db.conn.executemany(
        f"INSERT INTO temp.{_SCRATCH} (rowid, t) VALUES (?, ?)", list(texts.items())
    )
    try:
        for term, doc in db.execute(f"SELECT term, doc FROM temp.{_SCRATCH}_terms").fetchall():
            out[int(doc)][str(term)] += 1
    finally:
        db.execute(f"DELETE FROM temp.{_SCRATCH}")
    return out


def _ensure_presence_scratch(repertoire: VocabularySource) -> None:
    db = repertoire.db
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_PRESENCE} USING fts5(t, "
        f"tokenize = '{FTS_TOKENIZER}', detail = none, columnsize = 0)"
    )
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_PRESENCE}_terms "
        f"USING fts5vocab(temp, {_PRESENCE}, 'instance')"
    )


def stems_present(
    repertoire: VocabularySource, texts: Mapping[int, str], stems: Iterable[str]
) -> dict[int, frozenset[str]]:
    """Which of ``stems`` each text holds, as the search index would stem it.

    What the confidence features need of a candidate, and much cheaper than
    :func:`stems_of` on long texts: the scratch table keeps no positions
    (``detail = none``), and the vocabulary is read for the wanted stems only
    (a lookup per stem) instead of row by row for every token of every text.
    """
    wanted = sorted(set(stems))
    found: dict[int, set[str]] = {key: set() for key in texts}
    if not texts or not wanted:
        return {key: frozenset(v) for key, v in found.items()}
    _ensure_presence_scratch(repertoire)
    conn = repertoire.db.conn
    conn.executemany(f"INSERT INTO temp.{_PRESENCE} (rowid, t) VALUES (?, ?)", list(texts.items()))
    marks = ", ".join("?" for _ in wanted)
    try:
        for term, doc in conn.execute(
            f"SELECT DISTINCT term, doc FROM temp.{_PRESENCE}_terms WHERE term IN ({marks})",
            wanted,
        ).fetchall():
            found[int(doc)].add(str(term))
    finally:
        conn.execute(f"DELETE FROM temp.{_PRESENCE}")
    return {key: frozenset(v) for key, v in found.items()}


def stem_words(repertoire: VocabularySource, words: Sequence[str]) -> list[str | None]:
    """The index's stem of each word (``None`` for a word the tokenizer drops).

    One scratch row holds all the words; the vocabulary's token offsets map
    stems back to words. When the tokenizer splits a word differently than
    :data:`_TOKEN` did (the counts differ), fall back to one row per word.
    """
    if not words:
        return []
    _ensure_scratch(repertoire)
    conn = repertoire.db.conn
    conn.execute(f"INSERT INTO temp.{_SCRATCH} (rowid, t) VALUES (1, ?)", [" ".join(words)])
    try:
        rows = conn.execute(f"SELECT term, offset FROM temp.{_SCRATCH}_terms").fetchall()
    finally:
        conn.execute(f"DELETE FROM temp.{_SCRATCH}")
    if len(rows) == len(words) and {int(r[1]) for r in rows} == set(range(len(words))):
        out: list[str | None] = [None] * len(words)
        for term, offset in rows:
            out[int(offset)] = str(term)
        return out
    per_word = stems_of(repertoire, {i + 1: w for i, w in enumerate(words)})
    return [next(iter(per_word[i + 1]), None) for i in range(len(words))]


def document_frequencies(
    repertoire: VocabularySource, stems: list[str], n_docs: int
) -> dict[str, int]:
    """How many indexed documents hold each stem.

    FTS5 keeps no document frequency: ``fts5vocab`` counts it by walking the
    term's posting list, which is slow for common terms in a big index. So
    counts are kept in ``similar_df`` and read from there while the index has
    not grown or shrunk by more than a quarter since; only missing or stale
    terms are counted again (rare terms, the usual case, are cheap to count).
    """
    if not stems:
        return {}
    conn = repertoire.db.conn
    marks = ", ".join("?" for _ in stems)
    known: dict[str, int] = {}
    for term, doc, at_count in conn.execute(
        f"SELECT term, doc, n_docs FROM similar_df WHERE term IN ({marks})", stems
    ):
        if 0.8 * int(at_count) <= n_docs <= 1.25 * int(at_count):
            known[str(term)] = int(doc)
    missing = [s for s in stems if s not in known]
    if missing:
        marks = ", ".join("?" for _ in missing)
        fresh = {
            str(term): int(doc)
            for term, doc in conn.execute(
                f"SELECT term, doc FROM {VOCAB_TABLE} WHERE term IN ({marks})", missing
            )
        }
        if not repertoire.read_only:  # a reader (the web view) never takes the write lock
            conn.executemany(
                "INSERT INTO similar_df (term, doc, n_docs) VALUES (?, ?, ?) ON CONFLICT (term) "
                "DO UPDATE SET doc = excluded.doc, n_docs = excluded.n_docs",
                [(term, doc, n_docs) for term, doc in fresh.items()],
            )
        known.update(fresh)
    return known


def remember_frequent_terms(db: Database, min_df: int = FREQUENT_DF) -> int:
    """Put every term in more than ``min_df`` documents in the frequency cache; how many.

    Counting one term walks its whole posting list: a word in most documents
    ("how", "the") takes milliseconds at a million messages, and the first
    questions after an import would pay that for each common word they use.
    One pass over the vocabulary counts them all (0.35 s at a million messages:
    the walk is over every posting once); rare terms stay counted on demand.
    """
    row = db.execute("SELECT block FROM search_fts_data WHERE id = 1").fetchone()
    n_docs = _varint(bytes(row[0]), 0)[0] if row is not None and row[0] else 0
    cursor = db.execute(
        "INSERT INTO similar_df (term, doc, n_docs) "
        f"SELECT term, doc, ? FROM {VOCAB_TABLE} WHERE doc > ? "
        "ON CONFLICT (term) DO UPDATE SET doc = excluded.doc, n_docs = excluded.n_docs",
        [n_docs, min_df],
    )
    return int(cursor.rowcount)


def document_count(repertoire: VocabularySource) -> int:
    """Documents in the search index, read from FTS5's own averages record (no scan)."""
    row = repertoire.db.execute("SELECT block FROM search_fts_data WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return 0
    value, _ = _varint(bytes(row[0]), 0)
    return value


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """SQLite's big-endian varint (as FTS5 writes its records)."""
    value = 0
    for i in range(9):
        if pos + i >= len(data):
            break
        byte = data[pos + i]
        if i == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + i + 1
    return value, len(data)
