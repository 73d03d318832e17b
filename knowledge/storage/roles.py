"""Roles one process holds among several on one database: the lock behind each.

Some work must be done by exactly one process at a time: the scheduler (digests
and follow-ups: APScheduler 3 cannot share its job store between processes) and
Discord's gateway session (one per bot token). Each such role has a lock; the
process that holds it does the work, the others ask again every few seconds and
take over when it is free.

A lock here is about *who works*, not about *what is done once*: exactly once
lives in the database's unique keys (the digest claim log, the message key),
so a moment with two holders (a partitioned leader that has not noticed yet)
costs a wasted query, never a second post.

The calls block (a network round trip on PostgreSQL): run them off the event
loop (``asyncio.to_thread``).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["ROLES", "RoleLock", "SoleProcessLock"]

#: Every role copbot knows, by name (the names the readiness endpoint reports).
ROLES = ("scheduler", "discord-gateway")


class RoleLock(Protocol):
    """A lock on one role, held for as long as this process's session lives."""

    role: str

    def try_acquire(self) -> bool:
        """Take the role if nobody holds it; ``True`` when this process holds it now."""
        ...

    def still_held(self) -> bool:
        """Whether this process still holds the role (``False`` once its session is gone)."""
        ...

    def release(self) -> None:
        """Give the role up (another process may take it at its next try)."""
        ...

    def close(self) -> None:
        """Release (if held) and free what the lock holds open."""
        ...


class SoleProcessLock:
    """The lock of a backend one process owns (an SQLite file): always this process's.

    Two ``copbot run`` on one SQLite file would both hold every role; the claim
    log still posts each digest once, but several workers are PostgreSQL's job.
    """

    def __init__(self, role: str) -> None:
        self.role = role
        self._held = False

    def try_acquire(self) -> bool:
        self._held = True
        return True

    def still_held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False

    def close(self) -> None:
        self._held = False
