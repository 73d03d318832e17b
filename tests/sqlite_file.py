"""The SQLite repertoire behind a core, for tests that look into the file itself.

The core holds its repertoire as the storage interface (either backend); a
test that reads SQLite's own tables (the FTS5 documents, pragmas, raw rows)
says so here, and fails plainly if the core holds another backend.
"""

from __future__ import annotations

from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.sqlite.repertoire import Repertoire

__all__ = ["sqlite_of"]


def sqlite_of(repertoire: RelationalRepertoire) -> Repertoire:
    """``repertoire`` as the SQLite repertoire it is (an ``AssertionError`` if it is not)."""
    assert isinstance(repertoire, Repertoire), (
        f"a SQLite repertoire, not {type(repertoire).__name__}"
    )
    return repertoire
