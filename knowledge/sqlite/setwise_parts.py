"""SQLite's set-wise load in parts: each channel the import has left, written as it goes.

Written in one go, the import holds every captured row in memory until the
end (the one-write load, :meth:`~knowledge.sqlite.setwise_load.SqliteSetwiseLoader.load`,
which is this same writer with the whole plan as its last part). In parts, the import hands
over a channel's rows as soon as it has moved on to other channels; they are
written with their search documents at once and forgotten, so memory holds the
open channel only (a Slack export is read channel by channel).

Everything goes into one transaction, begun (``IMMEDIATE``: the write lock
first) before the first part and committed by :meth:`SqliteSetwiseParts.finish`:
no other connection ever sees half an import, and a failure rolls all of it
back (:meth:`~SqliteSetwiseParts.abort`). While it is open, the secondary
indexes and triggers of ``entries``, ``entry_tags`` and ``channels`` are set
aside and made again at the end, their rules applied set-wise; the index that
finds a question's answers (``entries_thread``) stays, since each part's
documents are built with it.

Order: a part's search documents are built from its own rows (a channel's
answers are in that channel), so rows must never be written for a channel the
import may still add to; the import guarantees it (it takes a channel's rows
back, :meth:`~SqliteSetwiseParts.take_back`, should an export return to it).
The documents of written parts are built :data:`DOCUMENTS_AT_ONCE` at a time
(and the rest at the end): their rows are in the file already, so the wait
costs no memory, and a few big statements cost less than one per channel.

The parts are written on the import's own thread. A writer thread was tried
(SQLite's statements run without Python's lock): on this project's 2-core
machine, shared with other work, it cost 5-10% more CPU and no wall time, the
threads handing Python's lock back and forth for every row bound.
"""

from __future__ import annotations

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
    settle_index,
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

__all__ = ["DOCUMENTS_AT_ONCE", "SqliteSetwiseParts"]

#: Tables whose secondary indexes and triggers wait for the end of the load, and the one
#: index kept (each part's documents find their answers with it).
_DEFERRED_TABLES = ("entries", "entry_tags", "channels")
_KEPT_INDEXES = ("entries_thread",)

_IN_CHANNEL = "platform = ? AND workspace = ? AND channel = ?"

#: Search documents built in one statement, at least (the rest at the end): FTS5 writes
#: the terms of each statement out as segments of their own, and every statement joins
#: its questions to their answers anew; a few big ones cost less than one per channel.
DOCUMENTS_AT_ONCE = 50_000


class SqliteSetwiseParts:
    """One import's parts, written into one transaction."""

    def __init__(self, db: Database, *, own_transaction: bool = True) -> None:
        """``own_transaction`` off: :meth:`begin` and :meth:`finish` neither begin nor commit,
        the caller's transaction holds the load (and its rollback undoes it, the set-aside
        schema included)."""
        self.db = db
        self.own_transaction = own_transaction
        self._schema = ExitStack()
        self._open = False
        #: Documents whose entries are written and which wait for :meth:`_documents`.
        self._waiting = 0

    def begin(self) -> None:
        conn = self.db.conn
        if self.own_transaction:
            conn.execute("BEGIN IMMEDIATE")
        self._open = True
        try:
            self._schema.enter_context(deferred(self.db, _DEFERRED_TABLES, keep=_KEPT_INDEXES))
            conn.execute(f"CREATE TEMP TABLE {PART_IDS.split('.')[1]} (id INTEGER PRIMARY KEY)")
            set_hashsize(conn, LOAD_HASHSIZE)
        except BaseException:
            self.abort()
            raise

    def write(self, part: LoadPlan) -> None:
        """A part's rows, then its documents."""
        if not self._open:
            raise RuntimeError("the set-wise load in parts was not begun")
        conn = self.db.conn
        entries = list(part.entries)
        conn.executemany(insert_sql(MEMBER_COLUMNS, "members"), part.members)
        conn.executemany(insert_sql(ENTRY_COLUMNS, "entries"), entries)
        conn.executemany(insert_sql(TAG_COLUMNS, "entry_tags"), part.tags)
        conn.executemany(insert_sql(REACTION_COLUMNS, "reactions"), part.reactions)
        conn.executemany(insert_sql(THANKS_COLUMNS, "thanks"), part.thanks)
        documents = [(row[0],) for row in entries if row[1] != "answer"]
        conn.executemany(f"INSERT INTO {PART_IDS} (id) VALUES (?)", documents)
        self._waiting += len(documents)
        if self._waiting >= DOCUMENTS_AT_ONCE:
            self._documents()

    def _documents(self) -> None:
        """The search documents of the parts written since the last time."""
        conn = self.db.conn
        build_documents(conn, only_part=True)
        conn.execute(f"DELETE FROM {PART_IDS}")
        self._waiting = 0

    def take_back(self, channel: tuple[str, str, str]) -> ChannelRows:
        self._documents()  # those waiting may be the channel's: built, then removed with it
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
        conn = self.db.conn
        self.write(LoadPlan(rest.members, (), rest.entries, rest.tags, rest.reactions, rest.thanks))
        self._documents()
        settle_index(self.db)
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
        if self.own_transaction:
            conn.execute("COMMIT")
        self._open = False

    def abort(self) -> None:
        self._schema.pop_all()  # the rollback (ours or the caller's) brings the schema back
        if self._open and self.own_transaction and self.db.conn.in_transaction:
            self.db.conn.execute("ROLLBACK")
        self._open = False
