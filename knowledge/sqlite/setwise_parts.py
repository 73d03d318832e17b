"""SQLite's set-wise load in parts: each channel left behind written beside the import.

The one-write load (:class:`~knowledge.sqlite.setwise_load.SqliteSetwiseLoader`)
holds every captured row in memory until the end, then writes for a while with
the rules idle. In parts, the import hands over a channel's rows as soon as it
has moved on to other channels, and a second thread writes them and builds
their search documents while the rules go on: SQLite's statements run without
Python's lock (``sqlite3`` releases it), so on a second core the writing costs
the import little wall time, and memory holds the open channels only.

Everything goes into one transaction, begun (``IMMEDIATE``: the write lock
first) before the first part and committed by :meth:`SqliteSetwiseParts.finish`:
no other connection ever sees half an import, and a failure rolls all of it
back (:meth:`~SqliteSetwiseParts.abort`). While it is open, the secondary
indexes and triggers of ``entries``, ``entry_tags`` and ``channels`` are set
aside and made again at the end, their rules applied set-wise, as in the
one-write load; the index that finds a question's answers
(``entries_thread``) stays, since each part's documents are built with it.

Order: a part's search documents are built from its own rows (a channel's
answers are in that channel), so rows must never be written for a channel the
import may still add to; the import guarantees it (it takes a channel's rows
back, :meth:`~SqliteSetwiseParts.take_back`, should an export return to it).
The main thread's own reads of the file while a part is written (whether a
channel's capture was stopped: never, in an empty repertoire) are safe on
SQLite's serialized connections and see the same empty tables.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack

from sqlite_utils import Database

from knowledge.sqlite.setwise_sql import (
    DEFAULT_HASHSIZE,
    LOAD_HASHSIZE,
    PART_IDS,
    READ_MARK_UPSERT,
    build_documents,
    deferred,
    insert_sql,
    set_hashsize,
    take_channel_visibility,
)
from knowledge.storage.setwise import (
    CHANNEL_COLUMNS,
    ENTRY_COLUMNS,
    MEMBER_COLUMNS,
    REACTION_COLUMNS,
    READ_MARK_COLUMNS,
    TAG_COLUMNS,
    THANKS_COLUMNS,
    ChannelRows,
    LoadPlan,
)

__all__ = ["MAX_PARTS_WAITING", "SqliteSetwiseParts"]

#: Parts handed over and not yet written, at most; the import waits beyond (memory stays
#: bounded when the writing is slower than the rules).
MAX_PARTS_WAITING = 2

#: Tables whose secondary indexes and triggers wait for the end of the load, and the one
#: index kept (each part's documents find their answers with it).
_DEFERRED_TABLES = ("entries", "entry_tags", "channels")
_KEPT_INDEXES = ("entries_thread",)

_IN_CHANNEL = "platform = ? AND workspace = ? AND channel = ?"


class SqliteSetwiseParts:
    """One import's parts, written by a second thread into one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pool: ThreadPoolExecutor | None = None
        self._waiting: deque[Future[None]] = deque()
        self._schema = ExitStack()
        self._open = False

    def begin(self) -> None:
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        self._open = True
        try:
            self._schema.enter_context(deferred(self.db, _DEFERRED_TABLES, keep=_KEPT_INDEXES))
            conn.execute(f"CREATE TEMP TABLE {PART_IDS.split('.')[1]} (id INTEGER PRIMARY KEY)")
            set_hashsize(conn, LOAD_HASHSIZE)
        except BaseException:
            self.abort()
            raise
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="setwise-writer")

    def write(self, part: LoadPlan) -> None:
        if self._pool is None:
            raise RuntimeError("the set-wise load in parts was not begun")
        while len(self._waiting) >= MAX_PARTS_WAITING:
            self._waiting.popleft().result()
        self._waiting.append(self._pool.submit(self._write, part))

    def _write(self, part: LoadPlan) -> None:
        """A part's rows, then its documents (on the writer thread)."""
        conn = self.db.conn
        self._rows(part)
        conn.execute(f"DELETE FROM {PART_IDS}")
        conn.executemany(
            f"INSERT INTO {PART_IDS} (id) VALUES (?)",
            ((row[0],) for row in part.entries if row[1] != "answer"),
        )
        build_documents(conn, only_part=True)

    def _rows(self, part: LoadPlan) -> None:
        conn = self.db.conn
        conn.executemany(insert_sql(MEMBER_COLUMNS, "members"), part.members)
        conn.executemany(insert_sql(ENTRY_COLUMNS, "entries"), part.entries)
        conn.executemany(insert_sql(TAG_COLUMNS, "entry_tags"), part.tags)
        conn.executemany(insert_sql(REACTION_COLUMNS, "reactions"), part.reactions)
        conn.executemany(insert_sql(THANKS_COLUMNS, "thanks"), part.thanks)

    def _written(self) -> None:
        """Wait for every part handed over; the first failure is raised here."""
        while self._waiting:
            self._waiting.popleft().result()

    def take_back(self, channel: tuple[str, str, str]) -> ChannelRows:
        self._written()
        db, key = self.db, list(channel)
        of_entries = f"SELECT id FROM entries WHERE {_IN_CHANNEL}"
        taken = ChannelRows(
            entries=[
                tuple(row)
                for row in db.execute(
                    f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE {_IN_CHANNEL} "
                    "ORDER BY id",
                    key,
                ).fetchall()
            ],
            tags=[
                (int(entry_id), str(tag))
                for entry_id, tag in db.execute(
                    f"SELECT entry_id, tag FROM entry_tags WHERE entry_id IN ({of_entries}) "
                    "ORDER BY rowid",
                    key,
                ).fetchall()
            ],
            reactions=[
                tuple(row)
                for row in db.execute(
                    f"SELECT {', '.join(REACTION_COLUMNS)} FROM reactions WHERE {_IN_CHANNEL} "
                    "ORDER BY rowid",
                    key,
                ).fetchall()
            ],
            thanks=[
                tuple(row)
                for row in db.execute(
                    f"SELECT {', '.join(THANKS_COLUMNS)} FROM thanks WHERE {_IN_CHANNEL} "
                    "ORDER BY id",
                    key,
                ).fetchall()
            ],
        )
        conn = db.conn
        conn.execute(
            f"DELETE FROM search_fts WHERE rowid IN ({of_entries} AND kind != 'answer')", key
        )
        conn.execute(f"DELETE FROM thanks WHERE {_IN_CHANNEL}", key)
        conn.execute(f"DELETE FROM entry_tags WHERE entry_id IN ({of_entries})", key)
        conn.execute(f"DELETE FROM entries WHERE {_IN_CHANNEL}", key)
        conn.execute(f"DELETE FROM reactions WHERE {_IN_CHANNEL}", key)
        return taken

    def finish(self, rest: LoadPlan, renamed: list[tuple[str, int]]) -> None:
        self._written()
        self._stop_writer()
        conn = self.db.conn
        entries = list(rest.entries)
        self._write(LoadPlan(rest.members, (), entries, rest.tags, rest.reactions, rest.thanks))
        conn.executemany("UPDATE members SET display_name = ? WHERE id = ?", renamed)
        conn.executemany(insert_sql(CHANNEL_COLUMNS, "channels"), rest.channels)
        conn.executemany(
            insert_sql(READ_MARK_COLUMNS, "read_marks", READ_MARK_UPSERT), rest.read_marks
        )
        self._schema.close()  # the indexes and triggers back, then their rules set-wise
        take_channel_visibility(conn, "entries")
        take_channel_visibility(conn, "thanks")
        set_hashsize(conn, DEFAULT_HASHSIZE)
        conn.execute(f"DROP TABLE {PART_IDS}")
        conn.execute("COMMIT")
        self._open = False

    def abort(self) -> None:
        try:
            self._written()
        except Exception:  # rolled back below; the caller has the first failure
            pass
        finally:
            self._stop_writer()
            self._schema.pop_all()  # the rollback brings the schema back
            if self._open and self.db.conn.in_transaction:
                self.db.conn.execute("ROLLBACK")
            self._open = False

    def _stop_writer(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
