"""What every part of the relational repertoire stands on, and what each backend supplies.

The parts (:mod:`~knowledge.relational.entries`, :mod:`~knowledge.relational.events`,
...) are mixins over this base: they run portable SQL on :attr:`sql` and call
the hooks below where the databases differ. A backend's repertoire class
provides the connection and its transactions, the entry ``SELECT`` in its
dialect, and the search index (SQLite keeps FTS5 rows beside the entries,
PostgreSQL a ``tsvector`` on the entry's own row). The hooks are abstract: a
backend that forgets one cannot be instantiated.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager

from knowledge.channels import ChannelBook
from knowledge.models import ChannelRef, SourceKey
from knowledge.storage.sql import Sql

__all__ = ["RelationalBase"]


class RelationalBase(ABC):
    """The connection, transactions, the dialect's entry ``SELECT`` and the search index's hooks."""

    #: ``SELECT`` of entries with author and tags (:func:`~knowledge.relational.rows.entry_select`).
    entry_select: str
    #: Channels and their visibility, which every entry said in them follows.
    channels: ChannelBook

    @property
    @abstractmethod
    def sql(self) -> Sql:
        """The portable connection every statement runs on."""

    def index_hint(self, index: str) -> str:
        """Text after a table's alias that makes the planner walk ``index``; empty by default.

        SQLite keeps no statistics here and may pick an index that reads far more
        rows (``INDEXED BY``); PostgreSQL plans from its statistics and takes no hint.
        """
        return ""

    # The connection's life and its transactions.

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit of work that writes; nested uses join the outer one."""

    @abstractmethod
    def group(self) -> AbstractContextManager[None]:
        """One transaction for a group of events (see :class:`~knowledge.storage.Transactions`)."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[None]:
        """A consistent read of several statements that takes no write lock."""

    @abstractmethod
    def bulk_load(
        self, *, durable: bool = True, lock_wait_ms: int | None = None
    ) -> AbstractContextManager[None]:
        """The backend tuned for a big import while the block runs."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    # The search index's hooks (the parts call them when a document must change).

    @abstractmethod
    def reindex(self, entry_id: int) -> None:
        """Rebuild one entry's search document."""

    @abstractmethod
    def reindex_thread_of(self, entry_id: int) -> None:
        """Refresh the search document of the entry or of the question it answers."""

    @abstractmethod
    def answer_added(self, answer_id: int) -> None:
        """A new answer was saved: its question's document takes it in (in place, or rebuilt)."""

    @abstractmethod
    def reindex_linking_channel(self, ref: ChannelRef) -> None:
        """Rebuild the documents that borrow an answer from ``ref`` (its visibility changed)."""

    @abstractmethod
    def drop_search_document(self, entry_id: int) -> None:
        """Take a deleted entry out of the full-text index."""

    @abstractmethod
    def deferred_reindex(self) -> AbstractContextManager[None]:
        """Bulk mode: the documents a block touches are rebuilt once, when it ends."""

    @abstractmethod
    def flush_reindex(self) -> int:
        """Rebuild the documents bulk mode noted, each once; how many."""

    @abstractmethod
    def lock_message(self, src: SourceKey) -> None:
        """Until this transaction ends, other processes wait to decide about message ``src``.

        Its create, edit, delete and reactions each read what the others left
        (a tombstone, the newest edit) and then write: two processes doing so
        at once could each miss the other's write (a create and a delete of one
        message racing would leave the deleted message kept). A backend shared
        by several processes serializes them per message here; one with a
        single writer has nothing to do.
        """
