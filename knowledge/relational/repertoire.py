"""The relational repertoire: every portable part in one class, for a backend to complete.

:class:`RelationalRepertoire` is what SQLite and PostgreSQL share: about all
of copbot's SQL, written once on :class:`~knowledge.storage.Sql`. A backend's
class adds its connection, transactions, the entry ``SELECT`` in its dialect
and the search index's hooks (:class:`~knowledge.relational.base.RelationalBase`), and the
hooks of whole-repertoire work (:class:`~knowledge.relational.dialect.DialectHooks`).
"""

from __future__ import annotations

from knowledge.relational.dialect import DialectHooks
from knowledge.relational.directory import Directory
from knowledge.relational.entries import EntryWritesSql
from knowledge.relational.listing import EntryListings
from knowledge.relational.members import MembersSql
from knowledge.relational.reactions import ReactionsSql
from knowledge.storage.protocols import Storage

__all__ = ["RelationalRepertoire"]


class RelationalRepertoire(
    EntryWritesSql, ReactionsSql, MembersSql, Directory, EntryListings, DialectHooks, Storage
):
    """Entries, members and channels, reactions, event order, listings and kept values.

    :class:`~knowledge.storage.Storage` comes last among the bases: a backend
    lists its own parts (text search, the digest log) before this class, so
    they come first in the method order, ahead of the interface's declarations.
    """

    def get_meta(self, key: str) -> str | None:
        """A value the repertoire keeps under ``key`` (schedules, the last import), if any."""
        row = self.sql.one("SELECT value FROM meta WHERE key = ?", [key])
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` (replacing what was there)."""
        self.sql.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
