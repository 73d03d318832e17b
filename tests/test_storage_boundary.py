"""No SQL crosses the storage interface: bot/ and adapters/ hold none.

The lint rule bans the database drivers' imports outside the backend packages;
this test catches what an import ban cannot: SQL text handed to a connection
reached through the repertoire (``repertoire.db.execute("SELECT ...")``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The terminal chat's own transcript store and its catch-up reader, not the repertoire.
ALLOWED = {Path("adapters/console_transcript.py"), Path("adapters/console_history.py")}
SQL = re.compile(
    r"^\s*(SELECT\b.+\bFROM\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|"
    r"PRAGMA\b|CREATE\s+(TABLE|INDEX)\b)",
    re.DOTALL,  # copbot writes SQL keywords in capitals; prose is left alone
)


#: Attributes that reach a database connection (``repertoire.sql.rows(text)`` with SQL built
#: elsewhere has no SQL literal to find).
DATABASE_ATTRIBUTES = frozenset({"db", "sql", "execute", "executemany"})


def sql_uses(source: str) -> list[str]:
    """Where ``source`` reaches a database itself: SQL strings, ``.db``, ``.execute(``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.match(node.value):
                found.append(f"line {node.lineno}: SQL text {node.value[:40]!r}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                str(part.value) if isinstance(part, ast.Constant) else "x" for part in node.values
            )
            if SQL.match(text):
                found.append(f"line {node.lineno}: SQL text {text[:40]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in DATABASE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_the_checker_finds_sql_as_it_was_written_before() -> None:
    assert sql_uses('repertoire.db.execute("SELECT id FROM members WHERE platform = ?", [p])')
    assert sql_uses('rows = conn.execute(f"SELECT x FROM {table}")')
    assert sql_uses('q = "INSERT OR IGNORE INTO t VALUES (?)"')
    assert sql_uses('cursor.executemany("...", rows)')
    assert sql_uses("found = repertoire.sql.rows(statement, params)")  # SQL built elsewhere
    assert not sql_uses('text = "Select the channel from the list"')
    assert not sql_uses("repertoire.entries(viewer, wanted)")


def test_bot_and_adapters_hold_no_sql() -> None:
    offenders = {}
    for package in ("bot", "adapters"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in ALLOWED:
                continue
            uses = sql_uses(path.read_text(encoding="utf-8"))
            if uses:
                offenders[str(relative)] = uses
    assert offenders == {}
