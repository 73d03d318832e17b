"""The repertoire's file: refused with one clear message when it is not an SQLite database.

``--db notes.txt`` (or a config's ``database`` pointing at the wrong file)
must not end in a traceback, and must never write into a file that is not
ours. An SQLite database starts with the 16 bytes :data:`SQLITE_HEADER`; an
empty or missing file becomes a new database. A file that has the header but
is damaged is refused when SQLite cannot open it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage.errors import StorageUnavailable

#: The first 16 bytes of every SQLite 3 database file (sqlite.org/fileformat.html).
SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseFileError(StorageUnavailable):
    """The database file cannot be used; the message names it and says why."""


def check_database_file(path: Path) -> None:
    """Raise :class:`DatabaseFileError` unless ``path`` is, or may become, an SQLite file."""
    if str(path) == ":memory:":
        return
    if path.is_dir():
        raise DatabaseFileError(f"{path} is a folder, not a database file")
    if not path.exists():
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise DatabaseFileError(f"cannot create {path}: {parent} is a file")
                return
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head and head != SQLITE_HEADER:
        raise DatabaseFileError(
            f"{path} is not an SQLite database (it does not start with SQLite's header); "
            "pass copbot's database with --db, or a new file name to start one"
        )


def open_repertoire(path: str | Path) -> Repertoire:
    """The repertoire in ``path`` (created when new), or :class:`DatabaseFileError`."""
    check_database_file(Path(path))
    try:
        return Repertoire.open(path)
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"{path} is not a usable SQLite database ({exc})") from None
    except OSError as exc:
        raise DatabaseFileError(f"cannot open {path}: {exc.strerror or exc}") from None


__all__ = ["SQLITE_HEADER", "DatabaseFileError", "check_database_file", "open_repertoire"]
