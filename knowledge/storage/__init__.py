"""The storage interface: one typed seam between the core and a database, privacy inside it.

``bot/`` and ``adapters/`` reach the repertoire only through this interface
(:class:`Storage`, split by concern in :mod:`~knowledge.storage.protocols`):
methods that say what they mean, returning dataclasses of :mod:`knowledge.models`;
no SQL crosses it (a lint rule keeps ``sqlite3``, ``sqlite_utils`` and
``psycopg`` in the backend packages; ``knowledge/ruff.toml`` lists the
modules still to move into ``knowledge/sqlite/``, and a test finds no SQL in
``bot/`` or ``adapters/``).

**The visibility rule** lives here, once. Every listing of member content
takes a :class:`Viewer` (where the result will be shown) and the backend
applies the rule in its query: an entry is visible when it is public or when
the viewer is the channel it was said in; answers are held to it by themselves;
an entry's visibility is its channel's as of now; unknown means private. The
operator's view (:meth:`Viewer.operator_including_private`) exists for an
admin export with ``--include-private`` and scheduler internals, under a name
nobody types by accident.

**Errors**: see :mod:`~knowledge.storage.errors` (``StorageError`` >
``StorageUnavailable``, ``RefusedChange``).

**Why one relational implementation, not one per backend**: copbot holds about
220 SQL statements. Written once against the tiny :class:`Sql` connection
(``execute``/``one``/``rows``/``insert``, ``?`` placeholders, converted for
psycopg), with dialect hooks only where SQLite and PostgreSQL really differ
(full-text search and ranking, similar-question candidates, upserts that return
ids, string aggregation, time types, pragmas), a fix lands in both backends at
once and the contract suite tests one body of logic twice, instead of two copies
drifting apart.
"""

from __future__ import annotations

from knowledge.storage.errors import (
    GroupFailed,
    RefusedChange,
    StorageError,
    StorageUnavailable,
)
from knowledge.storage.listing import EntryFilter, EntryOrder
from knowledge.storage.matches import ScoredEntry, SimilarLookup, WeightedTerm
from knowledge.storage.protocols import (
    ChannelStore,
    DigestLogStore,
    EntryListing,
    EntryStore,
    EventOrder,
    MemberStore,
    SearchIndex,
    Storage,
    TextSearch,
    Transactions,
)
from knowledge.storage.roles import ROLES, RoleLock, SoleProcessLock
from knowledge.storage.sql import Row, Sql
from knowledge.storage.viewer import Viewer, as_viewer

__all__ = [
    "ROLES",
    "ChannelStore",
    "DigestLogStore",
    "EntryFilter",
    "EntryListing",
    "EntryOrder",
    "EntryStore",
    "EventOrder",
    "GroupFailed",
    "MemberStore",
    "RefusedChange",
    "RoleLock",
    "Row",
    "ScoredEntry",
    "SearchIndex",
    "SimilarLookup",
    "SoleProcessLock",
    "Sql",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "TextSearch",
    "Transactions",
    "Viewer",
    "WeightedTerm",
    "as_viewer",
]
