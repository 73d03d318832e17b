"""The :class:`~knowledge.storage.Sql` connection over psycopg: the shared SQL, run on PostgreSQL.

copbot's portable statements use ``?`` placeholders (SQLite's style). Here each
``?`` outside a quoted literal or identifier becomes psycopg's ``%s`` and each
``%`` is doubled (psycopg would read it as the start of a placeholder), so the
same statement text runs on both backends. Values always travel apart from the
text; nothing is formatted into SQL.

Times come back as SQLite gives them: ``timestamptz`` values are returned in
copbot's one text form (:func:`knowledge.models.to_db_time`) and ``date`` values
as ISO days, so code shared by both backends compares and parses the same strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from psycopg import Connection

from knowledge.models import to_db_time
from knowledge.storage.sql import Row

__all__ = ["PostgresSql", "to_psycopg"]


def to_psycopg(sql: str) -> str:
    """``sql`` with ``?`` placeholders as ``%s``; quoted text and identifiers left as they are."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""  # a doubled quote ('it''s') closes and reopens: same result
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


def _as_sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db_time(value)
    if isinstance(value, date):  # a day (an entry's expiry), as SQLite's ISO text
        return value.isoformat()
    return value


def _as_sqlite(row: Sequence[Any]) -> Row:
    return tuple(_as_sqlite_value(v) for v in row)


class PostgresSql:
    """Run portable SQL on one psycopg connection (the caller owns its transactions)."""

    def __init__(self, conn: Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return max(self.conn.execute(to_psycopg(sql), list(params)).rowcount, 0)

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row = self.conn.execute(to_psycopg(sql), list(params)).fetchone()
        return _as_sqlite(row) if row is not None else None

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        rows = self.conn.execute(to_psycopg(sql), list(params)).fetchall()
        return [_as_sqlite(row) for row in rows]

    def insert(self, sql: str, params: Sequence[object] = ()) -> int:
        """The new row's id, from ``RETURNING id`` (PostgreSQL has no ``lastrowid``)."""
        row = self.conn.execute(to_psycopg(sql) + " RETURNING id", list(params)).fetchone()
        if row is None:
            raise LookupError("the INSERT made no row (ON CONFLICT DO NOTHING?)")
        return int(row[0])

    def insert_new(self, sql: str, params: Sequence[object] = ()) -> int | None:
        """The new row's id, or ``None`` when ``ON CONFLICT DO NOTHING`` made none.

        A row with the same key that another transaction has written but not
        committed makes this statement wait for it: then it makes nothing too.
        """
        row = self.conn.execute(to_psycopg(sql) + " RETURNING id", list(params)).fetchone()
        return int(row[0]) if row is not None else None
