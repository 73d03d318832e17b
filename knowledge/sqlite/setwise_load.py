"""SQLite's set-wise load of a history import: bulk inserts, then every search document at once.

The rows come decided (:mod:`knowledge.storage.setwise`); this writes them with
``executemany`` in the caller's transaction, then builds the search documents
in two statements instead of one rebuild per question and answer:

* a question's answers (each as visible as the question, :func:`answer_audience_sql`,
  accepted first, then oldest first) are counted and concatenated in SQL, the
  same selection and order as :meth:`SearchDocuments.reindex` makes for one
  question; the equivalence test of the import compares the documents both ways;
* the tables' secondary indexes and triggers are dropped while the rows go in
  and made again after (:meth:`SqliteSetwiseLoader._deferred`), the insert
  trigger's rule then applied set-wise;
* the FTS5 rows go in ``rowid`` order in one ``INSERT ... SELECT``, with a
  larger in-memory segment while it runs (FTS5's ``hashsize``), so the index
  is written in fewer, bigger segments and merged less; then merged into one
  segment (``optimize``), which FTS5 places a level above the one live writes
  land on. Left on that level, the bulk segments were rewritten whole in one
  commit by FTS5's first "crisis merge" (16 small live segments on the level),
  a few thousand live messages after the import: at a million messages 1 s of
  CPU and 125 MB of log in one commit, half of a 5,000-message burst's time
  (0.1 s at 100k). ``optimize`` costs 0.8 s there. The common terms' document
  frequencies are then counted into the cache in one pass
  (:func:`~knowledge.sqlite.vocabulary.remember_frequent_terms`).

Only for an empty repertoire (:meth:`SqliteSetwiseLoader.not_empty`): nothing is
merged with rows already there, and a "solved it" link (which lends a question
another thread's answer) cannot exist yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

from knowledge.sqlite.documents import answer_audience_sql
from knowledge.sqlite.vocabulary import remember_frequent_terms
from knowledge.storage.setwise import (
    CHANNEL_COLUMNS,
    ENTRY_COLUMNS,
    MEMBER_COLUMNS,
    MUST_BE_EMPTY,
    REACTION_COLUMNS,
    READ_MARK_COLUMNS,
    THANKS_COLUMNS,
    LoadPlan,
)

__all__ = ["SqliteSetwiseLoader"]

#: FTS5's in-memory segment while the documents are written (bytes; FTS5's default is 1 MiB).
LOAD_HASHSIZE = 64 * 1024 * 1024
_DEFAULT_HASHSIZE = 1024 * 1024


def _insert(columns: tuple[str, ...], table: str, upsert: str = "") -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){upsert}"


#: A read mark only moves forward (as ``Repertoire.advance_read_mark``).
_READ_MARK_UPSERT = (
    " ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
    "last_message_at = excluded.last_message_at, last_message_id = excluded.last_message_id "
    "WHERE excluded.last_message_at > read_marks.last_message_at"
)

#: Per question: how many answers its document holds and whether one is accepted.
_ANSWER_COUNTS = (
    "CREATE TEMP TABLE _setwise_answers AS SELECT q.id AS id, count(*) AS n, "
    "max(a.accepted) AS accepted FROM entries q JOIN entries a ON a.platform = q.platform "
    "AND a.workspace = q.workspace AND a.channel = q.channel AND a.thread_id = q.message_id "
    f"AND a.kind = 'answer' WHERE q.kind = 'question' AND {answer_audience_sql('a', 'q')} "
    "GROUP BY q.id"
)

#: Every document: title, body without a leading title, the answers, the sorted tags.
_DOCUMENTS = (
    "INSERT INTO search_fts (rowid, title, body, answers, tags) SELECT e.id, e.title, "
    "CASE WHEN e.title != '' AND substr(e.text, 1, length(e.title)) = e.title "
    "THEN substr(e.text, length(e.title) + 1) ELSE e.text END, "
    "CASE WHEN c.id IS NULL THEN '' ELSE (SELECT group_concat(text, char(10)) FROM "
    "(SELECT a.text FROM entries a WHERE a.platform = e.platform AND a.workspace = e.workspace "
    "AND a.channel = e.channel AND a.thread_id = e.message_id AND a.kind = 'answer' "
    f"AND {answer_audience_sql('a', 'e')} ORDER BY a.accepted DESC, a.created_at, a.id)) END, "
    "coalesce((SELECT group_concat(tag, ' ') FROM (SELECT tag FROM entry_tags "
    "WHERE entry_id = e.id ORDER BY tag)), '') "
    "FROM entries e LEFT JOIN temp._setwise_answers c ON c.id = e.id "
    "WHERE e.kind != 'answer' AND e.id BETWEEN ? AND ? ORDER BY e.id"
)


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
        conn.executemany(_insert(MEMBER_COLUMNS, "members"), plan.members)
        conn.executemany(_insert(CHANNEL_COLUMNS, "channels"), plan.channels)
        with self._deferred("entries", "entry_tags"):
            conn.executemany(_insert(ENTRY_COLUMNS, "entries"), plan.entries)
            conn.executemany("INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?)", plan.tags)
            # What the dropped insert trigger does, for every row at once (a no-op when the
            # plan's visibilities are right, as they should be).
            conn.execute(
                "UPDATE entries SET visibility = c.visibility FROM channels c "
                "WHERE c.platform = entries.platform AND c.workspace = entries.workspace "
                "AND c.channel = entries.channel AND c.visibility != entries.visibility"
            )
        conn.executemany(_insert(REACTION_COLUMNS, "reactions"), plan.reactions)
        conn.executemany(_insert(THANKS_COLUMNS, "thanks"), plan.thanks)
        conn.executemany(
            _insert(READ_MARK_COLUMNS, "read_marks", _READ_MARK_UPSERT), plan.read_marks
        )
        self.build_documents()

    @contextmanager
    def _deferred(self, *tables: str) -> Iterator[None]:
        """Drop the tables' secondary indexes and triggers; make them again after the block.

        A B-tree built once from sorted rows costs a fraction of one kept up row by
        row, and the per-row triggers cost more than the inserts. Their definitions
        are read back from the schema, so they come back exactly as they were, in
        the same transaction (no other connection ever sees them missing).
        """
        marks = ", ".join("?" for _ in tables)
        rows = self.db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND tbl_name IN ({marks}) AND sql IS NOT NULL ORDER BY type, name",
            list(tables),
        ).fetchall()
        conn = self.db.conn
        for kind, name, _sql in rows:
            conn.execute(f'DROP {kind.upper()} "{name}"')
        yield
        for _kind, _name, sql in rows:
            conn.execute(sql)

    def build_documents(self) -> None:
        """Every question's and know-how's search document, and the answer counts."""
        conn = self.db.conn
        conn.execute("DROP TABLE IF EXISTS temp._setwise_answers")
        conn.execute(_ANSWER_COUNTS)
        conn.execute(
            "UPDATE entries SET answer_count = c.n, has_accepted = c.accepted "
            "FROM temp._setwise_answers c WHERE entries.id = c.id"
        )
        conn.execute(
            "INSERT INTO search_fts (search_fts, rank) VALUES ('hashsize', ?)", [LOAD_HASHSIZE]
        )
        try:
            # Two halves, the first flushed by a savepoint (FTS5 writes what it holds
            # then): at least two segments, which 'optimize' merges into one a level
            # up (it leaves a lone segment where it is, on level 0).
            low, high = conn.execute("SELECT min(id), max(id) FROM entries").fetchone()
            middle = ((low or 0) + (high or 0)) // 2
            conn.execute(_DOCUMENTS, [low or 0, middle])
            conn.execute("SAVEPOINT first_half_of_the_documents")
            conn.execute("RELEASE first_half_of_the_documents")
            conn.execute(_DOCUMENTS, [middle + 1, high or 0])
            conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            remember_frequent_terms(self.db)
        finally:
            conn.execute(
                "INSERT INTO search_fts (search_fts, rank) VALUES ('hashsize', ?)",
                [_DEFAULT_HASHSIZE],
            )
            conn.execute("DROP TABLE IF EXISTS temp._setwise_answers")
