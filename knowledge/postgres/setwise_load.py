"""PostgreSQL's set-wise load of a history import: ``COPY``, then every search document at once.

The rows come decided (:mod:`knowledge.storage.setwise`); this streams them
into the tables with ``COPY ... FROM STDIN`` in the caller's transaction, then
builds the search documents in one statement, :func:`~knowledge.postgres.documents.reindex_all`:
the very statement live capture runs for one question, over the whole table,
so a document cannot come out different from the one the replay builds.

What a row-by-row load would pay for and this one does once, set-wise
(:meth:`PostgresSetwiseLoader._deferred`):

* the secondary indexes of ``entries`` and ``entry_tags`` (the GIN index of
  the documents among them) are dropped and made again after, from their own
  definitions (``pg_get_indexdef``): one sorted build instead of a million
  insertions, and the documents' ``UPDATE`` maintains none of them;
* their foreign keys are dropped and added again after (``pg_get_constraintdef``):
  adding one checks every row in one join instead of one lookup per row;
* the insert trigger that gives a new entry its channel's visibility is
  disabled while the rows go in, and its rule then applied to every row in one
  ``UPDATE`` (a no-op when the plan's visibilities are right, as they should
  be); the trigger that refuses visibility drift stays on throughout.

``session_replication_role`` would switch every trigger off, foreign keys
included, but only a superuser may set it, and it would leave the foreign keys
unchecked; this needs only what owning the tables gives (the role that
migrated them).

All of it is DDL inside the import's transaction: no other session ever sees
an index, a key or a trigger missing. It holds ``ACCESS EXCLUSIVE`` locks on
``entries`` and ``entry_tags`` (and write locks on the other tables it fills)
until the commit, so another process's capture or search waits for the load
(it would have found an empty repertoire). The emptiness the plan relies
on is checked again once the locks are held, so a write that slipped in between
:meth:`~PostgresSetwiseLoader.not_empty` and the load is refused, not merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import Connection
from psycopg import sql as pgsql

from knowledge.postgres.documents import reindex_all
from knowledge.storage.setwise import (
    CHANNEL_COLUMNS,
    ENTRY_COLUMNS,
    MEMBER_COLUMNS,
    MUST_BE_EMPTY,
    REACTION_COLUMNS,
    THANKS_COLUMNS,
    LoadPlan,
    SetwiseParts,
)

__all__ = ["NoLongerEmpty", "PostgresSetwiseLoader"]

#: The tables whose indexes, foreign keys and insert trigger wait for the end of the load.
_DEFERRED_TABLES = ("entries", "entry_tags")
#: Every table the load writes, locked in this order: the deferred ones against reads and
#: writes (their DDL needs it), the others against writes only.
_LOCKED = ("members", "channels", "entries", "entry_tags", "reactions", "thanks", "read_marks")
#: The per-row trigger whose rule is applied set-wise after the load.
_VISIBILITY_TRIGGER = "entries_take_channel_visibility"
#: The tables whose ids come with the plan: each identity continues after the largest.
_IDS_GIVEN = ("members", "entries", "thanks")

#: A read mark only moves forward (as ``Repertoire.advance_read_mark``).
_READ_MARK_UPSERT = (
    "INSERT INTO read_marks (platform, workspace, channel, last_message_at, last_message_id) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
    "last_message_at = excluded.last_message_at, last_message_id = excluded.last_message_id "
    "WHERE excluded.last_message_at > read_marks.last_message_at"
)

#: What the disabled insert trigger does, for every row at once.
_TAKE_CHANNEL_VISIBILITY = (
    "UPDATE entries e SET visibility = c.visibility FROM channels c "
    "WHERE c.platform = e.platform AND c.workspace = e.workspace AND c.channel = e.channel "
    "AND c.visibility <> e.visibility"
)


class NoLongerEmpty(RuntimeError):
    """Another process wrote to the repertoire after the import chose the set-wise path."""


class PostgresSetwiseLoader:
    """Writes a :class:`LoadPlan` into one PostgreSQL database (inside the caller's transaction)."""

    def __init__(self, conn: Connection[Any]) -> None:
        self.conn = conn

    def not_empty(self) -> str:
        held = [
            what
            for table, what in MUST_BE_EMPTY
            if self.conn.execute(
                pgsql.SQL("SELECT 1 FROM {} LIMIT 1").format(pgsql.Identifier(table))
            ).fetchone()
            is not None
        ]
        return ", ".join(held)

    def load(self, plan: LoadPlan) -> None:
        with self._deferred():
            held = self.not_empty()  # again, under the locks: nothing may slip in now
            if held:
                raise NoLongerEmpty(
                    f"the repertoire received {held} while the import started; run the "
                    "import again (it then adds event by event what is not there yet)"
                )
            self._copy("members", MEMBER_COLUMNS, plan.members)
            self._copy("channels", CHANNEL_COLUMNS, plan.channels)
            self._copy("entries", ENTRY_COLUMNS, plan.entries)
            self._copy("entry_tags", ("entry_id", "tag"), plan.tags)
            self.conn.execute(_TAKE_CHANNEL_VISIBILITY)
            self._copy("reactions", REACTION_COLUMNS, plan.reactions)
            self._copy("thanks", THANKS_COLUMNS, plan.thanks)
            with self.conn.cursor() as cursor:
                cursor.executemany(_READ_MARK_UPSERT, list(plan.read_marks))
            self._ids_given()
            # The planner's figures for tables that were empty a moment ago: the documents'
            # joins (and the first searches after the import) are planned on them.
            self.conn.execute("ANALYZE members, channels, entries, entry_tags")
            reindex_all(self.conn)

    def parts(self) -> SetwiseParts | None:
        """None: ``COPY`` writes the whole plan at the end (memory holds the import until then)."""
        return None

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns))
        )
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def _ids_given(self) -> None:
        """The plan's rows came with their ids: each identity continues after the largest."""
        for table in _IDS_GIVEN:
            self.conn.execute(
                pgsql.SQL(
                    "SELECT setval(pg_get_serial_sequence({name}, 'id'), "
                    "coalesce(max(id), 0) + 1, false) FROM {table}"
                ).format(name=pgsql.Literal(table), table=pgsql.Identifier(table))
            )

    @contextmanager
    def _deferred(self) -> Iterator[None]:
        """Set the secondary indexes, foreign keys and insert trigger aside; back after the block.

        Their definitions are read back from the catalog, so they come back
        exactly as they were, in the same transaction. The index builds come
        last, after the documents are written.
        """
        conn = self.conn
        for table in _LOCKED:  # the locks first, in one order, before anything is read
            mode = "ACCESS EXCLUSIVE" if table in _DEFERRED_TABLES else "SHARE ROW EXCLUSIVE"
            conn.execute(
                pgsql.SQL("LOCK TABLE {} IN {} MODE").format(
                    pgsql.Identifier(table), pgsql.SQL(mode)
                )
            )
        tables = list(_DEFERRED_TABLES)
        keys = conn.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f' "
            "AND c.conrelid = ANY(%s::regclass[]) ORDER BY t.relname, c.conname",
            [tables],
        ).fetchall()
        indexes = conn.execute(
            "SELECT x.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = ANY(%s::regclass[]) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY x.relname",
            [tables],
        ).fetchall()
        for table, name, _definition in keys:
            conn.execute(
                pgsql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    pgsql.Identifier(table), pgsql.Identifier(name)
                )
            )
        for name, _definition in indexes:
            conn.execute(pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(name)))
        conn.execute(
            pgsql.SQL("ALTER TABLE entries DISABLE TRIGGER {}").format(
                pgsql.Identifier(_VISIBILITY_TRIGGER)
            )
        )
        yield
        conn.execute(
            pgsql.SQL("ALTER TABLE entries ENABLE TRIGGER {}").format(
                pgsql.Identifier(_VISIBILITY_TRIGGER)
            )
        )
        for table, name, definition in keys:
            conn.execute(
                pgsql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    pgsql.Identifier(table), pgsql.Identifier(name), pgsql.SQL(definition)
                )
            )
        for _name, definition in indexes:
            conn.execute(pgsql.SQL(definition))
