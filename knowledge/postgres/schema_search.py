"""Full-text search on PostgreSQL: the ``copbot`` text search configuration and the documents.

SQLite's index tokenizes with ``porter unicode61 remove_diacritics 2``: Porter
stemming, accents folded, no stop words. The ``copbot`` configuration does the
same with PostgreSQL's parts: every word goes through the ``unaccent``
dictionary (a filter: "café" goes on as "cafe"), then through a Snowball
English stemmer *without* a stop word list (``english_stem`` would drop "how"
or "to", which a member may be searching for; choosing which words matter is
the query compiler's job, as it is on SQLite).

Text is split into words as FTS5's ``unicode61`` splits it: ``copbot_words(text)``
turns the characters PostgreSQL's parser would keep inside one token
(``multi-stage``, ``big.csv``, ``csv/parquet``, a URL) into spaces before
parsing, so "csv" finds ``big.csv`` on both backends, and a document has
the same words (and about the same length, which bm25 reads) on both.

Each question or know-how entry has a ``search_document``: a ``tsvector``
whose lexemes carry weights by field: title ``A``, tags ``B``, body ``C``,
answers ``D`` (the order of SQLite's bm25 column weights: title 8, tags 5,
body 3, answers 1.5). Answers have none; their text is in their question's
document. A GIN index serves ``@@``.

``unaccent()`` itself is only ``STABLE`` (it looks its dictionary up through
``search_path``), so it cannot appear in an index. ``copbot_fold(text)`` wraps
it with the dictionary named by schema, which makes it ``IMMUTABLE``: the
SQL twin of :func:`knowledge.text.fold` for comparing names ("jose" finds
"José").
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

__all__ = ["CONFIG", "DOCUMENTS", "install_text_search"]

#: The text search configuration every document and query uses.
CONFIG = "copbot"

_INSTALL_UNACCENT = "CREATE EXTENSION IF NOT EXISTS unaccent"

_CONFIGURATION = (
    "CREATE TEXT SEARCH DICTIONARY copbot_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION copbot (COPY = english)",
    # Every token type that holds letters: folded, then stemmed. Numbers, URLs,
    # e-mail addresses and file paths keep the english parser's own mapping.
    """
    ALTER TEXT SEARCH CONFIGURATION copbot
        ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
        WITH {schema}.unaccent, copbot_stem
    """,
)

_FOLD_FUNCTION = """
    CREATE FUNCTION copbot_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower({schema}.unaccent({dictionary}::regdictionary, $1)) $$
"""

DOCUMENTS = (
    "ALTER TABLE entries ADD COLUMN search_document tsvector",
    "CREATE INDEX entries_search ON entries USING gin (search_document)",
    # Counts the documents without touching the table (an index-only scan), and
    # its pg_class.reltuples is an estimate of that count for free.
    "CREATE INDEX entries_documents ON entries (id) WHERE search_document IS NOT NULL",
    # Document frequencies of terms as counted when the index held n_docs
    # documents (the SQLite backend's similar_df); a cache, never the truth.
    """
    CREATE TABLE term_stats (
        term text PRIMARY KEY,
        doc integer NOT NULL,
        n_docs integer NOT NULL
    )
    """,
)


#: The characters FTS5's ``unicode61`` splits words at but PostgreSQL's parser keeps inside
#: one token (``multi-stage``, ``big.csv``, ``csv/parquet``, URLs, e-mail addresses).
WORD_JOINERS = "-/._:@"

WORDS_FUNCTION = f"""
    CREATE FUNCTION copbot_words(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT translate($1, '{WORD_JOINERS}', '{" " * len(WORD_JOINERS)}') $$
"""


def install_text_search(conn: Connection[Any]) -> None:
    """``unaccent``, the ``copbot`` configuration and ``copbot_fold`` (one migration step).

    ``unaccent`` is a trusted extension: a database owner may create it
    without being a superuser. Wherever it lives (an existing install may be
    in another schema), the dictionary and function are named by that schema.
    """
    conn.execute(_INSTALL_UNACCENT)
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace "
        "WHERE x.extname = 'unaccent'"
    ).fetchone()
    assert row is not None  # created just above
    schema = sql.Identifier(str(row[0]))
    for statement in _CONFIGURATION:
        conn.execute(sql.SQL(statement).format(schema=schema))
    # Inside the function body the dictionary is a string: the quoted schema name in a literal.
    dictionary = sql.Literal(f"{schema.as_string(conn)}.unaccent")
    conn.execute(sql.SQL(_FOLD_FUNCTION).format(schema=schema, dictionary=dictionary))
