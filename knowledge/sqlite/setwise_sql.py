"""The SQL of SQLite's set-wise load, shared by the one-write load and the load in parts.

The search documents are built set-wise, in two statements instead of one
rebuild per question and answer: a question's answers (each as visible as the
question, :func:`answer_audience_sql`, accepted first, then oldest first) are
counted and concatenated in SQL, the same selection and order as
:meth:`SearchDocuments.reindex` makes for one question (the equivalence test
of the import compares the documents both ways). Either for every entry, or
for those of one part (:data:`PART_IDS`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

from knowledge.sqlite.documents import answer_audience_sql
from knowledge.sqlite.vocabulary import remember_frequent_terms

__all__ = [
    "DEFAULT_HASHSIZE",
    "LOAD_HASHSIZE",
    "PART_IDS",
    "READ_MARK_UPSERT",
    "answer_counts_sql",
    "build_documents",
    "deferred",
    "documents_sql",
    "insert_sql",
    "set_hashsize",
    "settle_index",
    "take_channel_visibility",
]

#: FTS5's in-memory segment while the documents are written (bytes; FTS5's default is 1 MiB).
LOAD_HASHSIZE = 64 * 1024 * 1024
DEFAULT_HASHSIZE = 1024 * 1024


#: A read mark only moves forward (as ``Repertoire.advance_read_mark``).
READ_MARK_UPSERT = (
    " ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
    "last_message_at = excluded.last_message_at, last_message_id = excluded.last_message_id "
    "WHERE excluded.last_message_at > read_marks.last_message_at"
)

#: The temporary table of the entries whose documents a part of the load builds.
PART_IDS = "temp._setwise_part"
#: A document query limited to the entries in :data:`PART_IDS` (else every entry).
IN_PART = f" AND {{alias}}.id IN (SELECT id FROM {PART_IDS})"


def answer_counts_sql(only_part: bool = False) -> str:
    """Per question: how many answers its document holds and whether one is accepted."""
    restrict = IN_PART.format(alias="q") if only_part else ""
    return (
        "INSERT INTO temp._setwise_answers (id, n, accepted) SELECT q.id, count(*), "
        "max(a.accepted) AS accepted FROM entries q JOIN entries a ON a.platform = q.platform "
        "AND a.workspace = q.workspace AND a.channel = q.channel AND a.thread_id = q.message_id "
        f"AND a.kind = 'answer' WHERE q.kind = 'question'{restrict} AND "
        f"{answer_audience_sql('a', 'q')} GROUP BY q.id"
    )


def documents_sql(only_part: bool = False) -> str:
    """Every document: title, body without a leading title, the answers, the sorted tags."""
    restrict = IN_PART.format(alias="e") if only_part else ""
    return (
        "INSERT INTO search_fts (rowid, title, body, answers, tags) SELECT e.id, e.title, "
        "CASE WHEN e.title != '' AND substr(e.text, 1, length(e.title)) = e.title "
        "THEN substr(e.text, length(e.title) + 1) ELSE e.text END, "
        "CASE WHEN c.id IS NULL THEN '' ELSE (SELECT group_concat(text, char(10)) FROM "
        "(SELECT a.text FROM entries a WHERE a.platform = e.platform "
        "AND a.workspace = e.workspace AND a.channel = e.channel "
        "AND a.thread_id = e.message_id AND a.kind = 'answer' "
        f"AND {answer_audience_sql('a', 'e')} ORDER BY a.accepted DESC, a.created_at, a.id)) "
        "END, coalesce((SELECT group_concat(tag, ' ') FROM (SELECT tag FROM entry_tags "
        "WHERE entry_id = e.id ORDER BY tag)), '') "
        "FROM entries e LEFT JOIN temp._setwise_answers c ON c.id = e.id "
        f"WHERE e.kind != 'answer'{restrict} AND e.id BETWEEN ? AND ? ORDER BY e.id"
    )


def set_hashsize(conn: sqlite3.Connection, size: int) -> None:
    """FTS5's in-memory segment size (its pending terms are flushed to disk above it)."""
    conn.execute("INSERT INTO search_fts (search_fts, rank) VALUES ('hashsize', ?)", [size])


def build_documents(conn: sqlite3.Connection, only_part: bool = False) -> None:
    """The search documents and answer counts of every entry (or those in :data:`PART_IDS`)."""
    conn.execute("DROP TABLE IF EXISTS temp._setwise_answers")
    # Keyed on the question: each document finds its counts by id (a table made by
    # CREATE ... AS SELECT has no key, and the join would scan it per document).
    conn.execute("CREATE TEMP TABLE _setwise_answers (id INTEGER PRIMARY KEY, n, accepted)")
    conn.execute(answer_counts_sql(only_part))
    try:
        conn.execute(
            "UPDATE entries SET answer_count = c.n, has_accepted = c.accepted "
            "FROM temp._setwise_answers c WHERE entries.id = c.id"
        )
        # Two halves, the first flushed by a savepoint (FTS5 writes what it holds then):
        # at least two segments, which :func:`settle_index` can merge a level up.
        ids = PART_IDS if only_part else "entries"
        low, high = conn.execute(f"SELECT min(id), max(id) FROM {ids}").fetchone()
        middle = ((low or 0) + (high or 0)) // 2
        conn.execute(documents_sql(only_part), [low or 0, middle])
        conn.execute("SAVEPOINT first_half_of_the_documents")
        conn.execute("RELEASE first_half_of_the_documents")
        conn.execute(documents_sql(only_part), [middle + 1, high or 0])
    finally:
        conn.execute("DROP TABLE IF EXISTS temp._setwise_answers")


def settle_index(db: Database) -> None:
    """After the last document: the bulk segments merged into one, and common words counted.

    ``optimize`` merges the segments into one, which FTS5 places a level above the
    one live writes land on (a lone segment it leaves where it is, on level 0: hence
    the halves of :func:`build_documents`). Left on that level, the bulk segments
    were rewritten whole in one commit by FTS5's first "crisis merge" (16 small
    live segments on the level), a few thousand live messages after the import: at
    a million messages 1 s of CPU and 125 MB of log in one commit, half of a
    5,000-message burst's time (0.1 s at 100k). ``optimize`` costs 0.8 s there.
    The common terms' document frequencies then go into the finder's cache in one
    pass (:func:`~knowledge.sqlite.vocabulary.remember_frequent_terms`).
    """
    db.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    remember_frequent_terms(db)


def insert_sql(columns: tuple[str, ...], table: str, upsert: str = "") -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){upsert}"


def take_channel_visibility(conn: sqlite3.Connection, table: str) -> None:
    """What a dropped insert trigger does, for every row at once (a no-op when the plan's
    visibilities are right, as they should be)."""
    conn.execute(
        f"UPDATE {table} SET visibility = c.visibility FROM channels c "
        f"WHERE c.platform = {table}.platform AND c.workspace = {table}.workspace "
        f"AND c.channel = {table}.channel AND c.visibility != {table}.visibility"
    )


@contextmanager
def deferred(db: Database, tables: tuple[str, ...], keep: tuple[str, ...] = ()) -> Iterator[None]:
    """Drop the tables' secondary indexes and triggers (but ``keep``); make them again after.

    A B-tree built once from sorted rows costs a fraction of one kept up row by
    row, and the per-row triggers cost more than the inserts. Their definitions
    are read back from the schema, so they come back exactly as they were, in
    the same transaction (no other connection ever sees them missing).
    """
    marks = ", ".join("?" for _ in tables)
    rows = [
        row
        for row in db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND tbl_name IN ({marks}) AND sql IS NOT NULL ORDER BY type, name",
            list(tables),
        ).fetchall()
        if row[1] not in keep
    ]
    conn = db.conn
    for kind, name, _sql in rows:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    yield
    for _kind, _name, sql in rows:
        conn.execute(sql)
