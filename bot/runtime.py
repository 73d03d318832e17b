"""Running the synchronous core from asyncio adapters.

Every call into the core (and so every SQLite statement) goes through one
worker thread, as datasette sends every write through one thread: the event
loop never blocks on the database, and the connection is never shared by two
threads at once.

Inbound events are group-committed: the events waiting when the thread gets to
them are applied in one transaction (:meth:`Core.handle_group`), and each
caller's ``handle`` returns only after that commit, so an adapter never
acknowledges or answers an event that is not on disk. A commit (and the FTS5
segment it flushes) then costs once per group, not once per message. When the
group fails as a whole (an event failed, or another process held the write
lock too long), its events are applied again one by one, each in its own
transaction with :meth:`Core.handle`'s own retries: none is dropped, and a
failing event is rolled back alone.

Capture comes first: a new question's hooks (the similar-question lookup,
which costs more than capturing a dozen messages) run after its group's
commit, one at a time, whenever no event is waiting. Its caller gets the
hooks' replies with its own; every other event returns at its commit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.command_registry import CommandRegistry
from bot.core import Core, PendingQuestion
from bot.events import InboundEvent, Outbound, Reply
from bot.ports import Services
from bot.read_marks import ReadMarks

T = TypeVar("T")
#: A caller's future and what it gets: the replies, or the error that stopped them.
Settled = tuple[asyncio.Future[list[Outbound]], list[Outbound] | BaseException]
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
        #: Committed questions whose hooks wait, with their event's replies so far.
        self._questions: deque[
            tuple[PendingQuestion, list[Outbound], asyncio.Future[list[Outbound]]]
        ] = deque()
        #: A drain is queued on the database thread (at most one at a time).
        self._scheduled = False

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
            scheduled, self._scheduled = self._scheduled, True
        if not scheduled:  # else the queued drain takes this event too
            self._executor.submit(self._drain)
        return await future

    def _drain(self) -> None:
        """On the database thread: the waiting events as one group, else one question's hooks.

        Then, while work is left, another turn is queued behind whatever else
        waits for the thread (:meth:`run` calls), so neither starves.
        """
        while self._step():
            try:
                self._executor.submit(self._drain)
                return
            except RuntimeError:  # shutting down: nothing new comes; finish here
                continue

    def _step(self) -> bool:
        """One group, or one question's hooks; whether work is left."""
        with self._lock:
            group = self._waiting[: self.max_group]
            del self._waiting[: self.max_group]
        if group:
            self._apply_group(group)
        elif self._questions:
            self._answer_next()
        with self._lock:
            self._scheduled = bool(self._waiting or self._questions)
            return self._scheduled

    def _answer_next(self) -> None:
        pending, replies, future = self._questions.popleft()
        try:
            result: list[Outbound] | BaseException = [
                *replies,
                *self.core.answer_question(pending),
            ]
        except Exception as exc:  # the hooks log their own failures; kept for safety
            result = exc
        _settle_soon(future, result)

    def _apply_group(
        self, group: list[tuple[InboundEvent, asyncio.Future[list[Outbound]]]]
    ) -> None:
        events = [event for event, _ in group]
        later: list[PendingQuestion] = []
        results: list[list[Outbound] | BaseException]
        try:
            results = list(self.core.handle_group(events, later=later))
        except Exception as exc:
            # Another process's transaction in the way (a deadlock on PostgreSQL, a held
            # lock on SQLite): each event is tried again in a transaction of its own.
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            log.info(
                "a group of %d events failed (%s); applying them one by one", len(events), reason
            )
            later = []
            results = []
            for event in events:
                try:
                    results.append(self.core.handle(event))
                except Exception as exc:  # handle() logs and never raises; kept for safety
                    results.append(exc)
        waiting_hooks = {pending.index: pending for pending in later}
        settled: list[Settled] = []
        for index, ((_, future), result) in enumerate(zip(group, results, strict=True)):
            pending = waiting_hooks.get(index)
            if pending is not None and not isinstance(result, BaseException):
                self._questions.append((pending, result, future))
            else:
                settled.append((future, result))
        _settle_all_soon(settled)

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


def _settle_soon(
    future: asyncio.Future[list[Outbound]], result: list[Outbound] | BaseException
) -> None:
    future.get_loop().call_soon_threadsafe(_settle, future, result)


def _settle_all_soon(settled: list[Settled]) -> None:
    """Answer a group's callers with one wake-up per event loop, not one per event."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Settled]] = {}
    for future, result in settled:
        by_loop.setdefault(future.get_loop(), []).append((future, result))
    for loop, batch in by_loop.items():
        loop.call_soon_threadsafe(_settle_batch, batch)


def _settle_batch(batch: list[Settled]) -> None:
    for future, result in batch:
        _settle(future, result)


def _settle(future: asyncio.Future[list[Outbound]], result: list[Outbound] | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
