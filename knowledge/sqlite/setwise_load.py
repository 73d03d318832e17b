"""SQLite's set-wise load of a history import: bulk inserts, then every search document at once.

The rows come decided (:mod:`knowledge.storage.setwise`). SQLite writes them in
parts as the import goes (:meth:`SqliteSetwiseLoader.parts`, what the import
uses: :mod:`knowledge.sqlite.setwise_parts`, whose statements are
:mod:`.setwise_sql`'s). :meth:`SqliteSetwiseLoader.load`, the interface's
one write at the end for a storage without parts, is that same writer given
the whole plan as its last part, in the caller's transaction: one way to
write an import, not two to keep equal.

Only for an empty repertoire (:meth:`SqliteSetwiseLoader.not_empty`): nothing is
merged with rows already there, and a "solved it" link (which lends a question
another thread's answer) cannot exist yet.
"""

from __future__ import annotations

from sqlite_utils import Database

from knowledge.sqlite.setwise_parts import SqliteSetwiseParts
from knowledge.storage.setwise import MUST_BE_EMPTY, LoadPlan, SetwiseParts

__all__ = ["SqliteSetwiseLoader"]


class SqliteSetwiseLoader:
    """Writes a :class:`LoadPlan` into one SQLite file."""

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
        """The whole plan at once, inside the caller's transaction (whose rollback undoes it)."""
        writer = SqliteSetwiseParts(self.db, own_transaction=False)
        writer.begin()
        try:
            writer.finish(plan, [])
        except BaseException:
            writer.abort()
            raise

    def parts(self) -> SetwiseParts | None:
        """Written in parts beside the import, on this connection (:mod:`.setwise_parts`)."""
        return SqliteSetwiseParts(self.db)
