"""The errors the storage interface raises, one hierarchy for every backend.

``StorageError`` is the root. Below it:

* :class:`StorageUnavailable`: the repertoire cannot be opened or reached (a
  file that is not an SQLite database: ``DatabaseFileError``; a server that
  refuses: ``DatabaseUnreachable``; a schema migrated by a newer copbot:
  ``SchemaTooNew``); the message is safe to show (no password) and says what to fix.
* :class:`RefusedChange`: a write that breaks a community rule (an undo of a
  change that was changed again, a link of an identity to itself); also a
  ``ValueError``; the message is for the member who asked, and nothing was written.
* :class:`GroupFailed`: a unit of work inside a group of events failed
  (:meth:`~knowledge.storage.Transactions.group`); the whole group was rolled
  back, and its events are to be applied again one by one.

Anything else a driver raises mid-transaction (a lock held too long, a full
disk) propagates unchanged after the transaction is rolled back: the event is
then retried or reported as failed, and nothing half-written remains.
:func:`is_transient_conflict` tells the core which of those are worth running
again (another writer was in the way), on either backend, without the core
importing a driver.
"""

from __future__ import annotations

__all__ = [
    "RETRY_SQLSTATES",
    "SQLITE_LOCK_CODES",
    "GroupFailed",
    "RefusedChange",
    "StorageError",
    "StorageUnavailable",
    "is_transient_conflict",
]

#: PostgreSQL's SQLSTATEs for "another transaction was in the way; run it again":
#: a deadlock between two workers, a serialization failure, a lock not available.
RETRY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
#: SQLite's primary result codes for "another connection holds the lock":
#: ``SQLITE_BUSY`` and ``SQLITE_LOCKED`` (sqlite.org/rescode.html).
SQLITE_LOCK_CODES = frozenset({5, 6})


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is the database saying another writer was in the way (worth a retry).

    Read off what each driver documents on its exceptions, so no driver is
    imported here: psycopg's ``sqlstate`` (:data:`RETRY_SQLSTATES`), sqlite3's
    ``sqlite_errorcode`` (its primary code in :data:`SQLITE_LOCK_CODES`; the
    extended codes keep it in the low byte). An ``sqlite3.OperationalError``
    that carries no code (one raised by hand) is judged by its words, as
    SQLite's own say "database is locked" or "database table is locked".
    """
    if getattr(exc, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    if not _is_sqlite_operational_error(exc):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in SQLITE_LOCK_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def _is_sqlite_operational_error(exc: BaseException) -> bool:
    return any(
        kind.__module__ == "sqlite3" and kind.__name__ == "OperationalError"
        for kind in type(exc).__mro__
    )


class StorageError(Exception):
    """Root of the storage interface's errors."""


class StorageUnavailable(StorageError):
    """The repertoire cannot be opened or reached; the message says why (never a password)."""


class RefusedChange(StorageError, ValueError):
    """A change the community's rules refuse; the message says why and what to do instead."""


class GroupFailed(StorageError):
    """A unit of work inside a group failed: nothing of the group was kept; apply it again."""
