"""Running the synchronous core from asyncio adapters.

Every call into the core (and so every SQLite statement) goes through one
worker thread, as datasette sends every write through one thread: the event
loop never blocks on the database, and the connection is never shared by two
threads at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.core import Core
from bot.events import InboundEvent, Outbound, Reply

T = TypeVar("T")


class AsyncCore:
    """The core behind one database thread, awaitable from any adapter."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copbot-db")

    async def handle(self, event: InboundEvent) -> list[Outbound]:
        return await self.run(self.core.handle, event)

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

    def close(self) -> None:
        self._executor.shutdown(wait=True)
