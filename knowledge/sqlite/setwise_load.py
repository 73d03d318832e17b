"""SQLite's set-wise load of a history import: bulk inserts, then every search document at once.

The rows come decided (:mod:`knowledge.storage.setwise`); this writes them with
``executemany`` in the caller's transaction, then builds the search documents
in two statements instead of one rebuild per question and answer:

* a question's answers (each as visible as the question, :func:`answer_audience_sql`,
  accepted first, then oldest first) are counted and concatenated in SQL, the
  same selection and order as :meth:`SearchDocuments.reindex` makes for one
  question; the equivalence test of the import compares the documents both ways;
* the tables' secondary indexes and triggers are dropped while the rows go in
  and made again after (:func:`~knowledge.sqlite.setwise_sql.deferred`), the
  insert trigger's rule then applied set-wise;
* the FTS5 rows go in ``rowid`` order in one ``INSERT ... SELECT``, with a
  larger in-memory segment while it runs (FTS5's ``hashsize``), so the index
  is written in fewer, bigger segments and merged less; then merged into one
  a level above live writes (:func:`~knowledge.sqlite.setwise_sql.settle_index`).

Only for an empty repertoire (:meth:`SqliteSetwiseLoader.not_empty`): nothing is
merged with rows already there, and a "solved it" link (which lends a question
another thread's answer) cannot exist yet. The import uses this one write when
it does not write in parts (:meth:`SqliteSetwiseLoader.parts`, the default:
:mod:`knowledge.sqlite.setwise_parts`); the statements are :mod:`.setwise_sql`'s.
"""

from __future__ import annotations

from sqlite_utils import Database

from knowledge.sqlite.setwise_parts import SqliteSetwiseParts
from knowledge.sqlite.setwise_sql import (
    DEFAULT_HASHSIZE,
    LOAD_HASHSIZE,
    READ_MARK_UPSERT,
    build_documents,
    deferred,
    insert_sql,
    set_hashsize,
    settle_index,
    take_channel_visibility,
)
from knowledge.storage.setwise import (
    CHANNEL_COLUMNS,
    ENTRY_COLUMNS,
    MEMBER_COLUMNS,
    MUST_BE_EMPTY,
    REACTION_COLUMNS,
    READ_MARK_COLUMNS,
    TAG_COLUMNS,
    THANKS_COLUMNS,
    LoadPlan,
    SetwiseParts,
)

__all__ = ["SqliteSetwiseLoader"]


class SqliteSetwiseLoader:
    """Writes a :class:`LoadPlan` into one SQLite file (inside the caller's transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def not_empty(self) -> str:
        held = [
            what
            for table, what in MUST_BE_EMPTY
            if self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
        ]
        return ", ".join(held)

    def load(self, plan: LoadPlan) -> None:
        conn = self.db.conn
        conn.executemany(insert_sql(MEMBER_COLUMNS, "members"), plan.members)
        conn.executemany(insert_sql(CHANNEL_COLUMNS, "channels"), plan.channels)
        with deferred(self.db, ("entries", "entry_tags")):
            conn.executemany(insert_sql(ENTRY_COLUMNS, "entries"), plan.entries)
            conn.executemany(insert_sql(TAG_COLUMNS, "entry_tags"), plan.tags)
            take_channel_visibility(conn, "entries")
        conn.executemany(insert_sql(REACTION_COLUMNS, "reactions"), plan.reactions)
        conn.executemany(insert_sql(THANKS_COLUMNS, "thanks"), plan.thanks)
        conn.executemany(
            insert_sql(READ_MARK_COLUMNS, "read_marks", READ_MARK_UPSERT), plan.read_marks
        )
        set_hashsize(conn, LOAD_HASHSIZE)
        try:
            build_documents(conn)
            settle_index(self.db)
        finally:
            set_hashsize(conn, DEFAULT_HASHSIZE)

    def parts(self) -> SetwiseParts | None:
        """Written in parts beside the import, on this connection (:mod:`.setwise_parts`)."""
        return SqliteSetwiseParts(self.db)
