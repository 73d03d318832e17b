"""Running the synchronous core from asyncio adapters.

Every call into the core (and so every SQLite statement) goes through one
worker thread, as datasette sends every write through one thread: the event
loop never blocks on the database, and the connection is never shared by two
threads at once.

Inbound events are group-committed: the events waiting when the thread gets to
them are applied in one transaction (:meth:`Core.handle_group`, each event in
its own savepoint), and each caller's ``handle`` returns only after that commit,
so an adapter never acknowledges or answers an event that is not on disk. A
commit (and the FTS5 segment it flushes) then costs once per group, not once per
message. When the group's transaction fails as a whole (another process held the
write lock too long), its events are applied again one by one, each with
:meth:`Core.handle`'s own retries: none is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.command_registry import CommandRegistry
from bot.core import Core
from bot.events import InboundEvent, Outbound, Reply
from bot.ports import Services
from bot.read_marks import ReadMarks

T = TypeVar("T")
log = logging.getLogger(__name__)

#: At most this many events share a transaction (bounds a group's latency).
MAX_GROUP = 256


class AsyncCore:
    """The core behind one database thread, awaitable from any adapter."""

    def __init__(self, core: Core, *, max_group: int = MAX_GROUP) -> None:
        self.core = core
        self.max_group = max_group
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copbot-db")
        self._lock = threading.Lock()
        self._waiting: list[tuple[InboundEvent, asyncio.Future[list[Outbound]]]] = []

    @property
    def services(self) -> Services:
        """The core's repertoire, settings and clock (call the repertoire through :meth:`run`)."""
        return self.core.services

    @property
    def commands(self) -> CommandRegistry:
        """The ``/cop`` commands the core answers (platforms register them)."""
        return self.core.commands

    @property
    def marks(self) -> ReadMarks:
        """Where each channel was last read (call its methods through :meth:`run`)."""
        return self.core.marks

    async def handle(self, event: InboundEvent) -> list[Outbound]:
        """Apply ``event``; returns what to send once it is committed."""
        future: asyncio.Future[list[Outbound]] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.append((event, future))
        # One drain per event: the first takes every event waiting by then (up to
        # max_group); the later ones find less, or nothing, to do.
        self._executor.submit(self._drain)
        return await future

    def _drain(self) -> None:
        with self._lock:
            group = self._waiting[: self.max_group]
            del self._waiting[: self.max_group]
        if not group:
            return
        events = [event for event, _ in group]
        results: list[list[Outbound] | BaseException]
        try:
            results = list(self.core.handle_group(events))
        except Exception as exc:
            # Another process's transaction in the way (a deadlock on PostgreSQL, a held
            # lock on SQLite): each event is tried again in a transaction of its own.
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            log.warning(
                "a group of %d events failed (%s); applying them one by one", len(events), reason
            )
            results = []
            for event in events:
                try:
                    results.append(self.core.handle(event))
                except Exception as exc:  # handle() logs and never raises; kept for safety
                    results.append(exc)
        for (_, future), result in zip(group, results, strict=True):
            future.get_loop().call_soon_threadsafe(_settle, future, result)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    async def link_posted_message(
        self, entry_id: int, message_id: str, permalink: str = ""
    ) -> list[Outbound]:
        """Bind a ``/cop ask`` question to its posted message; returns what to send next."""
        return await self.run(self.core.link_posted_message, entry_id, message_id, permalink)

    async def reply_posted(self, reply: Reply, message_id: str) -> None:
        """Tell the core the message id a public reply got (suggestions need it)."""
        await self.run(self.core.reply_posted, reply, message_id)

    async def recall(self, key: str) -> str | None:
        """A small value kept across restarts (:meth:`Core.recall`)."""
        return await self.run(self.core.recall, key)

    async def remember(self, key: str, value: str) -> None:
        """Keep a small value across restarts (:meth:`Core.remember`)."""
        await self.run(self.core.remember, key, value)

    async def withdraw_question(self, entry_id: int) -> bool:
        """A ``/cop ask`` question the platform would not post is not kept."""
        return await self.run(self.core.withdraw_question, entry_id)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _settle(future: asyncio.Future[list[Outbound]], result: list[Outbound] | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
