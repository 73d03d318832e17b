"""What every platform adapter offers the runner, so one loop can drive them all."""

from __future__ import annotations

from typing import Protocol

from bot.events import Post


class Service(Protocol):
    """Something ``copbot run`` starts and stops in its loop (a platform, the web view)."""

    platform: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class PlatformAdapter(Protocol):
    """A connection to one chat platform (Slack, Discord, the terminal).

    ``start`` runs until the connection ends or the task is cancelled;
    ``post`` sends a message nobody asked for in the moment (a digest), and
    returns the platform's message id when it has one.
    """

    platform: str

    async def start(self) -> None: ...

    async def post(self, post: Post) -> str | None: ...

    async def close(self) -> None: ...


class Outboxes:
    """Routes each post to the adapter of its platform (one community, many platforms)."""

    def __init__(self) -> None:
        self._by_platform: dict[str, PlatformAdapter] = {}

    def register(self, adapter: PlatformAdapter) -> None:
        self._by_platform[adapter.platform] = adapter

    async def post(self, post: Post) -> str | None:
        adapter = self._by_platform.get(post.where.platform)
        if adapter is None:
            raise LookupError(f"no running adapter for platform '{post.where.platform}'")
        return await adapter.post(post)
