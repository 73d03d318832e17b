"""The tiny connection the relational implementation is written against.

copbot's queries are plain SQL that SQLite and PostgreSQL both run: ``?``
placeholders (a PostgreSQL connection converts them), no driver objects, rows
as tuples. Writing every statement once against this protocol, with dialect
hooks only where the databases really differ (full-text search and ranking,
similar-question candidates, upserts that return ids, string aggregation,
time types, tuning), is what keeps two backends from being two copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["Row", "Sql"]

Row = tuple[Any, ...]


class Sql(Protocol):
    """Run a statement of portable SQL with ``?`` placeholders."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; how many rows it changed."""
        ...

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, or ``None``."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query."""
        ...

    def insert(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run an ``INSERT`` of one row; the new row's ``id``."""
        ...

    def insert_new(self, sql: str, params: Sequence[object] = ()) -> int | None:
        """Run an ``INSERT ... ON CONFLICT DO NOTHING`` of one row.

        The new row's ``id``, or ``None`` when a row with its key exists (another
        process may have written it a moment ago: the database decides, not us).
        """
        ...
