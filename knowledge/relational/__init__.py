"""The relational repertoire: the SQL every backend shares, cut by concern.

Written once against the tiny :class:`~knowledge.storage.Sql` connection, with
hooks where SQLite and PostgreSQL differ (:mod:`~knowledge.relational.base`).
Modules:

* :mod:`~knowledge.relational.rows`: the entry ``SELECT`` and row mapping;
* :mod:`~knowledge.relational.visibility`: the visibility rule in Python and SQL;
* :mod:`~knowledge.relational.threads` and :mod:`~knowledge.relational.entries`:
  reading entries and threads back, and writing entries;
* :mod:`~knowledge.relational.members` and :mod:`~knowledge.relational.directory`:
  members and channels as events name them, and looked up by what a command names;
* :mod:`~knowledge.relational.events`: seen events, tombstones, edits, read marks;
* :mod:`~knowledge.relational.reactions`: reactions and accepted answers;
* :mod:`~knowledge.relational.listing`: the generic listing and the named ones;
* :mod:`~knowledge.relational.repertoire`: all of it in one class.

No database driver is imported here (a lint rule says so).
"""

from __future__ import annotations

__all__: list[str] = []
