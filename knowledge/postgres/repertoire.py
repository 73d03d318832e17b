"""The repertoire on PostgreSQL: the shared relational code with PostgreSQL's hooks.

:class:`PostgresRepertoire` runs the portable statements of
:class:`~knowledge.relational.repertoire.RelationalRepertoire` over
:class:`~knowledge.postgres.sql.PostgresSql` and supplies every hook the
relational base leaves abstract: tags aggregated with ``string_agg``,
transactions as psycopg's (nested ones are savepoints), ``COPY`` for a copied
community, ``VACUUM`` after a forget, and the search index's hooks rebuilt with
:func:`~knowledge.postgres.documents.reindex` (the ``tsvector`` lives on the
entry's row, so a deleted entry takes its document with it).

Full-text search and the similar finder's index are PostgreSQL's own
(:class:`~knowledge.postgres.text_search.PostgresTextSearch`). Nothing comes
from the SQLite backend: the two are siblings on the relational base, and mypy
checks each against the whole storage interface.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import Connection
from psycopg import sql as pgsql
from psycopg.pq import TransactionStatus

from knowledge.channels import ChannelBook
from knowledge.models import ChannelRef, SourceKey
from knowledge.postgres.connection import connect
from knowledge.postgres.documents import reindex as reindex_documents
from knowledge.postgres.leadership import LOCK_CLASS, AdvisoryLock, role_key
from knowledge.postgres.migrations import migrate
from knowledge.postgres.setwise_load import PostgresSetwiseLoader
from knowledge.postgres.sql import PostgresSql
from knowledge.postgres.text_search import PostgresTextSearch
from knowledge.postgres.url import display_url, is_postgres_url
from knowledge.relational.digest_log import DigestLog
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.rows import entry_select
from knowledge.storage.errors import StorageUnavailable
from knowledge.storage.roles import RoleLock
from knowledge.storage.setwise import SetwiseLoader
from knowledge.storage.sql import Row, Sql

__all__ = ["FORGET_TABLES", "PostgresRepertoire"]

log = logging.getLogger(__name__)

#: The tables a forget deletes member content from (vacuumed after it).
FORGET_TABLES = (
    "entries",
    "entry_tags",
    "entry_embeddings",
    "reactions",
    "message_edits",
    "thanks",
    "identity_links",
    "members",
    "similar_feedback",
    "similar_items",
    "similar_suggestions",
    "similar_links",
    "follow_ups",
    "term_stats",
)

#: The lock key bulk transactions take turns on (the role locks' class, its own number).
BULK_TURN = role_key("bulk-write")
#: The class of per-message locks ("copm"): a create, edit and delete of one message in turn.
MESSAGE_CLASS = 0x636F706D


def _session(conninfo: str, *, read_only: bool) -> Connection[Any]:
    """A new autocommit session; a read-only one refuses writes in every transaction and
    says so (``conn.read_only``) to the search caches, which then keep nothing."""
    conn = connect(conninfo, autocommit=True)
    if read_only:
        try:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            conn.read_only = True
        except BaseException:
            conn.close()
            raise
    return conn


def _shown(conninfo: str) -> str:
    return display_url(conninfo) if is_postgres_url(conninfo) else "the PostgreSQL database"


class PostgresRepertoire(PostgresTextSearch, RelationalRepertoire):
    """One community's repertoire on one PostgreSQL connection (autocommit outside blocks)."""

    #: Tags aggregated the PostgreSQL way.
    entry_select = entry_select("string_agg(tag, ' ')")
    #: What psycopg raises when a constraint refuses a row.
    integrity_errors: tuple[type[Exception], ...] = (psycopg.IntegrityError,)
    #: Set by :meth:`connect_read_only` (the web view's readers): no cache is written.
    read_only = False

    def __init__(self, conn: Connection[Any], conninfo: str = "") -> None:
        self.conn = conn
        self._session = PostgresSql(conn)
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
        except psycopg.errors.InsufficientPrivilege as error:
            conn.close()
            # The server's words (which never hold the password) and what to do.
            reason = " ".join(str(error).split())
            raise StorageUnavailable(
                f"{_shown(conninfo)} cannot be set up for copbot ({reason}): connect "
                "as the database's owner once, or have an administrator run "
                "CREATE EXTENSION unaccent and grant CREATE on the schema"
            ) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, conninfo)

    @classmethod
    def connect_read_only(cls, conninfo: str) -> PostgresRepertoire:
        """A connection that cannot change the database: the web view's readers.

        Every transaction of the session is ``READ ONLY`` (the server refuses
        any write, so a bug in a page can never write), and the connection says
        so (``conn.read_only``) to the search caches, which then keep nothing.
        The database must be migrated already (open it with :meth:`connect` first).
        """
        repertoire = cls(_session(conninfo, read_only=True), conninfo)
        repertoire.read_only = True
        return repertoire

    @property
    def sql(self) -> Sql:
        return self._session

    @property
    def digest_log(self) -> DigestLog:
        """The digest and follow-up claim log (its unique constraints decide who posts)."""
        return DigestLog(self.sql)

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
        if self.conn.closed or self.conn.broken:
            self._reconnect()
        return self.conn.info.transaction_status == TransactionStatus.IDLE

    def _reconnect(self) -> None:
        """A new session in place of one the server or the network ended.

        A long-running bot outlives its session (a server restart, a failover,
        an idle timeout): the event that found it gone failed and was logged;
        the next unit of work starts on a new session instead of failing too.
        Only between transactions: inside one there is nothing to carry over.
        """
        if not self.conninfo:
            return  # nothing to reconnect with: the error says the session is gone
        conn = _session(self.conninfo, read_only=self.read_only)
        with contextlib.suppress(psycopg.Error):
            self.conn.close()
        self.conn = conn
        self._session.conn = conn
        log.warning("the PostgreSQL session was lost; reconnected to %s", _shown(self.conninfo))

    def index_hint(self, index: str) -> str:
        """PostgreSQL plans from its statistics: no hint."""
        return ""

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
    def group(self) -> Iterator[None]:
        """A group of events: one transaction, each nested unit its own savepoint.

        PostgreSQL's savepoints are cheap, so a failing unit is rolled back alone.
        """
        with self.transaction():
            yield

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A consistent read of several statements."""
        if self._outermost():
            self.channels.forget()
        with self.conn.transaction():
            yield

    def setwise_loader(self) -> SetwiseLoader | None:
        """The ``COPY`` path of a history import into an empty repertoire."""
        return PostgresSetwiseLoader(self.conn)

    @contextmanager
    def bulk_load(self, *, durable: bool = True, lock_wait_ms: int | None = None) -> Iterator[None]:
        """Nothing to tune per import on PostgreSQL (the server's settings hold)."""
        yield

    # Copying a community in (copbot copy): COPY, then each identity column's next value.

    def copy_rows_in(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        """Stream ``rows`` (ids included) into ``table`` with ``COPY``; how many."""
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns))
        )
        count = 0
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def ids_copied(self) -> None:
        """Rows came with their ids: every identity column continues after the largest."""
        identities = self.conn.execute(
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE a.attidentity <> '' AND c.relnamespace = current_schema()::regnamespace"
        ).fetchall()
        for table, column in identities:
            self.conn.execute(
                pgsql.SQL(
                    "SELECT setval(pg_get_serial_sequence({name}, {col}), "
                    "coalesce(max({column}), 0) + 1, false) FROM {table}"
                ).format(
                    name=pgsql.Literal(table),
                    col=pgsql.Literal(column),
                    column=pgsql.Identifier(column),
                    table=pgsql.Identifier(table),
                )
            )

    def unindexed(self, expression: str) -> str:
        """``expression`` as it is: PostgreSQL's planner needs no hint (and has no unary ``+``
        for times)."""
        return expression

    # What a forget leaves behind.

    def forget_cached_terms(self) -> None:
        """Drop the cached word counts (they were counted over the deleted documents too)."""
        self.conn.execute("DELETE FROM term_stats")

    def compact_deleted(self) -> str | None:
        """``VACUUM FULL`` the tables a forget deletes from: each is rewritten without the rows.

        The rows are gone from every query at commit, but a plain ``VACUUM``
        only marks their space free: their bytes stay in the table's pages until
        reused. ``VACUUM FULL`` writes new files and drops the old ones (it locks
        each table while it runs: a forget is rare and asked for). The server's
        write-ahead log and its backups are the operator's (they expire on the
        server's own schedule).
        """
        for table in FORGET_TABLES:
            self.conn.execute(pgsql.SQL("VACUUM FULL {}").format(pgsql.Identifier(table)))
        return None

    def flush_deleted(self) -> str | None:
        """Nothing to flush by hand: the server checkpoints and recycles its own log."""
        return None

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

    def answer_added(self, answer_id: int) -> None:
        self.reindex(answer_id)  # one statement rebuilds the question's tsvector

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
            # Only after success: a failed statement aborts PostgreSQL's transaction, and a
            # rebuild then would raise in place of the error that matters.
            self.flush_reindex()
        finally:
            self._deferred = None

    def flush_reindex(self) -> int:
        ids = self._deferred
        if self._deferred is not None:
            self._deferred = set()
        if not ids:
            return 0
        reindex_documents(self.conn, sorted(ids))
        return len(ids)
