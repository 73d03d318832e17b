"""The SQLite backend: the embedded default, one file, one writer thread.

Only this package (and, until they move here, the modules listed under
``per-file-ignores`` in ``knowledge/ruff.toml``) imports ``sqlite3`` or
``sqlite_utils``; a lint rule says so. Modules, by concern:

* :mod:`~knowledge.sqlite.database`: opening the file with copbot's pragmas,
  lock errors, read-only readers;
* :mod:`~knowledge.sqlite.connection`: :class:`~knowledge.storage.Sql` over a
  sqlite-utils database, and the SQLite side of the repertoire (its digest
  log, the bulk-load tuning of imports);
* :mod:`~knowledge.sqlite.repertoire`: :class:`Repertoire`, the shared
  relational parts (:mod:`knowledge.relational`) with SQLite's transactions
  and search index hooks;
* :mod:`~knowledge.sqlite.migrations` and the ``schema_*`` modules: the schema,
  one ``Migrations`` set per concern;
* :mod:`~knowledge.sqlite.documents`: the FTS5 search documents;
  :mod:`~knowledge.sqlite.vocabulary`: stems and document frequencies as the
  index makes them; :mod:`~knowledge.sqlite.similar_candidates`: the similar
  finder's any-word FTS5 query; :mod:`~knowledge.sqlite.visible_match`: re-checking a hit
  against what the public web may see of it.
"""

from __future__ import annotations

__all__: list[str] = []
