"""The SQLite backend: the embedded default, one file, one writer thread.

Only this package (and, until they move here, the modules listed under
``per-file-ignores`` in ``pyproject.toml``) imports ``sqlite3`` or
``sqlite_utils``; a lint rule says so. Modules:

* :mod:`~knowledge.sqlite.connection`: :class:`~knowledge.storage.Sql` over a
  sqlite-utils database, and the SQLite side of the repertoire (its digest
  log, the bulk-load tuning of imports).
"""

from __future__ import annotations

__all__: list[str] = []
