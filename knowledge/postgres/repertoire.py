"""The repertoire on PostgreSQL: the shared relational code with PostgreSQL's hooks.

:class:`PostgresRepertoire` runs :class:`~knowledge.sqlite.repertoire.Repertoire`'s portable
statements over :class:`~knowledge.postgres.sql.PostgresSql` and supplies the
dialect hooks: tags aggregated with ``string_agg``, transactions as psycopg's
(nested ones are savepoints), and the search index's hooks rebuilt with
:func:`~knowledge.postgres.documents.reindex` (the ``tsvector`` lives on the
entry's row, so a deleted entry takes its document with it).

It still inherits the SQLite repertoire's class and overrides what is SQLite's;
a shared base class without the SQLite parts is the next step of the split.
Full-text search, similar questions and imports are not on it yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from psycopg import Connection
from psycopg.pq import TransactionStatus

from knowledge.channels import ChannelBook
from knowledge.models import ChannelRef, SourceKey
from knowledge.postgres.connection import connect
from knowledge.postgres.documents import reindex as reindex_documents
from knowledge.postgres.leadership import LOCK_CLASS, AdvisoryLock, role_key
from knowledge.postgres.migrations import migrate
from knowledge.postgres.sql import PostgresSql
from knowledge.relational.rows import entry_select
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage.roles import RoleLock
from knowledge.storage.sql import Sql

__all__ = ["PostgresRepertoire"]

#: The lock key bulk transactions take turns on (the role locks' class, its own number).
BULK_TURN = role_key("bulk-write")
#: The class of per-message locks ("copm"): a create, edit and delete of one message in turn.
MESSAGE_CLASS = 0x636F706D


class PostgresRepertoire(Repertoire):
    """One community's repertoire on one PostgreSQL connection (autocommit outside blocks)."""

    #: Tags aggregated the PostgreSQL way.
    entry_select = entry_select("string_agg(tag, ' ')")

    def __init__(self, conn: Connection[Any], conninfo: str = "") -> None:
        # Not the SQLite repertoire's __init__: no file, no FTS5 documents.
        self.conn = conn
        #: How to open more sessions to the same database (a role's lock needs its own).
        self.conninfo = conninfo
        self.channels = ChannelBook(self.sql)
        self._new_event_ids = 0
        self._deferred: set[int] | None = None

    @classmethod
    def connect(cls, conninfo: str) -> PostgresRepertoire:
        """Connect to ``conninfo`` (autocommit, as SQLite's connection is), migrated."""
        conn = connect(conninfo, autocommit=True)
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, conninfo)

    @cached_property
    def sql(self) -> Sql:
        return PostgresSql(self.conn)

    def close(self) -> None:
        self.conn.close()

    def role_lock(self, role: str) -> RoleLock:
        """A session advisory lock on ``role``, on a connection of its own."""
        if not self.conninfo:
            raise ValueError("a role lock needs the repertoire's conninfo (use connect())")
        return AdvisoryLock(self.conninfo, role)

    def take_bulk_turn(self) -> None:
        """A transaction advisory lock: bulk writers (imports) of all processes take turns."""
        self.conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, BULK_TURN])

    def lock_message(self, src: SourceKey) -> None:
        """A transaction advisory lock on the message key (its hash, in copbot's message class)."""
        key = "\x1f".join((src.platform, src.workspace, src.channel, src.message_id))
        self.conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [MESSAGE_CLASS, key])

    def _outermost(self) -> bool:
        return self.conn.info.transaction_status == TransactionStatus.IDLE

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; nested uses are savepoints. A rollback forgets channels.

        Other processes write the same database: what this one remembers of its
        channels is dropped when a transaction starts, so no decision rests on a
        channel's state as it was before another process changed it.
        """
        if self._outermost():
            self.channels.forget()
        try:
            with self.conn.transaction():
                yield
        except BaseException:
            self.channels.forget()
            raise

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A consistent read of several statements."""
        if self._outermost():
            self.channels.forget()
        with self.conn.transaction():
            yield

    @contextmanager
    def bulk_load(self, *, durable: bool = True, lock_wait_ms: int | None = None) -> Iterator[None]:
        """Nothing to tune per import on PostgreSQL (the server's settings hold)."""
        yield

    # The search index's hooks: each entry's tsvector, rebuilt in one statement.

    def reindex_linking_channel(self, ref: ChannelRef) -> None:
        rows = self.sql.rows(
            "SELECT DISTINCT l.question_id FROM similar_links l JOIN entries t "
            "ON t.id = l.entry_id WHERE t.platform = ? AND t.workspace = ? AND t.channel = ?",
            [ref.platform, ref.workspace, ref.channel],
        )
        for (question_id,) in rows:
            self.reindex_thread_of(int(question_id))

    def drop_search_document(self, entry_id: int) -> None:
        """Nothing to do: the document is a column of the entry's row, deleted with it."""

    def reindex_thread_of(self, entry_id: int) -> None:
        self.reindex(entry_id)  # an answer's id rebuilds its question's document

    def reindex(self, entry_id: int) -> None:
        if self._deferred is not None:
            self._deferred.add(entry_id)
            return
        reindex_documents(self.conn, [entry_id])

    @contextmanager
    def deferred_reindex(self) -> Iterator[None]:
        if self._deferred is not None:
            yield
            return
        self._deferred = set()
        try:
            yield
        finally:
            self.flush_reindex()
            self._deferred = None

    def flush_reindex(self) -> int:
        ids = self._deferred
        if self._deferred is not None:
            self._deferred = set()
        if not ids:
            return 0
        reindex_documents(self.conn, sorted(ids))
        return len(ids)
