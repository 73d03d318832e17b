"""The repertoire on one SQLite file: the relational parts with SQLite's connection and index.

:class:`Repertoire` is what the core talks to on the embedded backend; it
returns dataclasses from :mod:`knowledge.models`, never rows.
:class:`~knowledge.postgres.repertoire.PostgresRepertoire` supplies PostgreSQL's
side of the same relational parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from knowledge.channels import ChannelBook
from knowledge.models import ChannelRef
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.rows import entry_columns, entry_select
from knowledge.sqlite.connection import SqliteBacked
from knowledge.sqlite.database import BUSY_TIMEOUT_MS, open_database, refuse_writes
from knowledge.sqlite.documents import SearchDocuments
from knowledge.sqlite.text_search import SqliteTextSearch
from knowledge.storage.errors import GroupFailed

__all__ = ["ENTRY_COLUMNS", "ENTRY_SELECT", "SQLITE_TAG_LIST", "Repertoire"]

#: SQLite's string aggregation of an entry's tags (PostgreSQL says ``string_agg``).
SQLITE_TAG_LIST = "group_concat(tag, ' ')"
#: The entry columns in SQLite's dialect, for queries that select more than entries.
ENTRY_COLUMNS = entry_columns(SQLITE_TAG_LIST)
ENTRY_SELECT = entry_select(SQLITE_TAG_LIST)


class Repertoire(SqliteBacked, SqliteTextSearch, RelationalRepertoire):
    """Entries, members, reactions and the search index of one community.

    The portable parts come from :class:`RelationalRepertoire`; this class adds
    the file (opened with copbot's pragmas, or read-only), SQLite's
    transactions, :attr:`entry_select` with ``group_concat``, and the search
    index's hooks (:meth:`reindex`, :meth:`reindex_thread_of`,
    :meth:`deferred_reindex`, :meth:`flush_reindex`,
    :meth:`reindex_linking_channel`, :meth:`drop_search_document`) over its
    search documents and FTS5 rows.
    """

    #: The entry ``SELECT`` in this dialect (tags aggregated with ``group_concat``).
    entry_select = ENTRY_SELECT

    def __init__(self, db: Database) -> None:
        self.db = db
        #: Opened by :meth:`open_read_only`: caches that would write are skipped.
        self.read_only = False
        #: Channels and their visibility, which every entry said in them follows.
        self.channels = ChannelBook(self.sql)
        #: The search documents (what a search from any channel may match).
        self.documents = SearchDocuments(db)
        self._new_event_ids = 0
        #: Inside :meth:`group`: nested units join without a savepoint.
        self._grouped = False
        #: A nested unit of the current group failed: the group may not commit.
        self._group_failed = False

    @classmethod
    def open(cls, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Repertoire:
        repertoire = cls(open_database(path, busy_timeout_ms=busy_timeout_ms))
        repertoire.documents.upgrade()
        return repertoire

    @classmethod
    def open_read_only(cls, path: str | Path) -> Repertoire:
        """A connection that cannot change the file: the web view's readers.

        An authorizer refuses every write to the database file (rows and
        schema), while the connection's ``temp`` schema stays writable for the
        scratch tables search uses to stem words. The file must exist and be
        migrated already (open it with :meth:`open` first).
        """
        repertoire = cls.open(path)
        refuse_writes(repertoire.db)
        repertoire.read_only = True
        return repertoire

    def close(self) -> None:
        self.db.conn.close()

    def index_hint(self, index: str) -> str:
        """SQLite has no statistics here: name the index a listing must walk."""
        return f"INDEXED BY {index}"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work that writes; nested uses join the outer one (a savepoint).

        The outer one begins ``IMMEDIATE``: it takes the write lock first,
        waiting up to the busy timeout for another writer, instead of reading
        first and failing to upgrade to a write once another process has
        committed (SQLite cannot wait then: "database is locked" at once).
        A rollback also drops what the repertoire remembers of channels.
        """
        conn = self.db.conn
        try:
            if conn.in_transaction and self._grouped:
                try:
                    yield
                except BaseException:
                    self._group_failed = True  # even if the caller carries on
                    raise
                return
            if conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except BaseException:
            self.channels.forget()
            raise

    @contextmanager
    def group(self) -> Iterator[None]:
        """One transaction for a group of live events, without a savepoint for each.

        A savepoint makes FTS5 write what it holds in memory as a new index
        segment (measured: about eight times the cost of the insert itself), so
        a group that gave each event its own savepoint paid for one index flush
        per event anyway. Inside this block a nested :meth:`transaction` joins
        the group without a savepoint; when one of them fails, even one whose
        caller carries on, the whole group is rolled back at the end and
        :class:`GroupFailed` raised, for the caller to apply the events again
        one by one, each in its own transaction. Nothing half-done is committed.
        """
        if self.db.conn.in_transaction:
            with self.transaction():
                yield
            return
        self._grouped, self._group_failed = True, False
        try:
            with self.transaction():
                yield
                if self._group_failed:
                    raise GroupFailed("a unit of work in the group failed")
        finally:
            self._grouped = self._group_failed = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A consistent read of several statements that takes no write lock."""
        if self.db.conn.in_transaction:
            yield
            return
        with self.db.atomic():
            yield

    # The search index's hooks: SQLite's search documents and FTS5 rows.

    def reindex_linking_channel(self, ref: ChannelRef) -> None:
        """Rebuild the documents that borrow an answer from ``ref`` (its visibility changed)."""
        self.documents.reindex_linking_channel(ref)

    def drop_search_document(self, entry_id: int) -> None:
        """Take a deleted entry out of the full-text index."""
        self.sql.execute("DELETE FROM search_fts WHERE rowid = ?", [entry_id])

    def reindex_thread_of(self, entry_id: int) -> None:
        """Refresh the search document of the entry or of the question it answers."""
        self.documents.reindex_thread_of(entry_id)

    def answer_added(self, answer_id: int) -> None:
        """Append the new answer to its document (:meth:`SearchDocuments.answer_added`)."""
        self.documents.answer_added(answer_id)

    def reindex(self, entry_id: int) -> None:
        """Rebuild one search document (:meth:`SearchDocuments.reindex`)."""
        self.documents.reindex(entry_id)

    @contextmanager
    def deferred_reindex(self) -> Iterator[None]:
        """Bulk mode (:meth:`SearchDocuments.deferring`): documents rebuilt once per flush."""
        with self.documents.deferring():
            yield

    def flush_reindex(self) -> int:
        """Rebuild the search documents bulk mode noted, each once; how many."""
        return self.documents.flush()
