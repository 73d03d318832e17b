"""The dialect hooks of whole-repertoire work: copying a community, forgetting a member, digests.

Where SQLite and PostgreSQL differ for the modules that work on the whole
repertoire (:mod:`~knowledge.copying`, :mod:`~knowledge.forget`,
:mod:`~knowledge.restore`, :mod:`~knowledge.activity`), each backend says how,
here, rather than callers asking which backend they hold. Abstract, as the
search index's hooks are: a backend that forgets one cannot be made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from knowledge.storage.setwise import SetwiseLoader
from knowledge.storage.sql import Row

__all__ = ["DialectHooks"]


class DialectHooks(ABC):
    """Bulk copy, set-wise import, the scrub after a forget, the driver's integrity error,
    a planner hint."""

    #: What the driver raises when a constraint refuses a row (a restore reports it).
    integrity_errors: tuple[type[Exception], ...]

    @abstractmethod
    def copy_rows_in(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        """Write ``rows`` as they are (ids included) into ``table``; how many."""

    @abstractmethod
    def ids_copied(self) -> None:
        """After rows came with their ids: new rows must take ids after the largest."""

    @abstractmethod
    def setwise_loader(self) -> SetwiseLoader | None:
        """The set-wise path of a history import, or ``None`` when imports replay event by event."""

    @abstractmethod
    def unindexed(self, expression: str) -> str:
        """``expression`` kept from steering the planner to its column's own index."""

    @abstractmethod
    def forget_cached_terms(self) -> None:
        """Drop the cached word counts (they hold the words of deleted documents too)."""

    @abstractmethod
    def compact_deleted(self) -> str | None:
        """Reclaim what deletes left in the database; why not, when another process stops it."""

    @abstractmethod
    def flush_deleted(self) -> str | None:
        """Empty the database's own log of what was deleted; why not, when it cannot."""
