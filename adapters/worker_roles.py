"""The roles of a ``copbot run`` process: the scheduler, and Discord's gateway session.

With several processes on one PostgreSQL repertoire, each of these runs in
one process at a time (:mod:`bot.roles`); on SQLite both are simply this
process's. What holding each role means:

* ``discord-gateway``: this process logs in to Discord (supervised, as
  before) and handles its events; Discord allows one session per bot token.
* ``scheduler``: this process runs the digests and follow-ups, starting with a
  catch-up on what fell due while no process held the role. When Discord is
  enabled, the scheduler goes with the gateway (a digest for a Discord
  channel is posted through that session), so the two roles end up in one
  process.

Slack needs no role: Socket Mode spreads events over up to ten connections,
HTTP mode over whatever the load balancer picks, and capture is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from adapters.base import PlatformAdapter
from adapters.supervisor import Backoff, Supervisor
from bot.config import Settings
from bot.roles import Role, Roles
from bot.runtime import AsyncCore
from bot.schedule import DigestScheduler

__all__ = ["WorkerRoles", "has_scheduled_work"]

log = logging.getLogger(__name__)


def has_scheduled_work(settings: Settings) -> bool:
    """Whether the config asks for digests or follow-ups (else nobody seeks the scheduler)."""
    return bool(settings.digests) or any(r.follow_up_hours for r in settings.channels.rules)


class WorkerRoles:
    """This process's roles, and what it runs while holding each."""

    def __init__(
        self,
        core: AsyncCore,
        start_scheduler: Callable[[], Awaitable[DigestScheduler | None]],
        *,
        discord: PlatformAdapter | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        """``start_scheduler`` starts the digests and follow-ups (when this process leads)."""
        self.core = core
        self.start_scheduler = start_scheduler
        settings = core.services.settings
        repertoire = core.services.repertoire
        poll = settings.workers.poll_seconds
        self.roles = Roles()
        self.digests: DigestScheduler | None = None
        #: Discord's supervisor (when Discord runs); ``discord_done`` is set when it stops for good.
        self.discord_supervisor = Supervisor(discord, backoff) if discord is not None else None
        self.discord_done = asyncio.Event()
        self._discord_task: asyncio.Task[None] | None = None
        self.gateway: Role | None = None
        if discord is not None:
            self.gateway = self.roles.add(
                Role(
                    repertoire.role_lock("discord-gateway"),
                    start=self._start_discord,
                    stop=self._stop_discord,
                    poll=poll,
                )
            )
        if has_scheduled_work(settings):
            gateway = self.gateway
            self.roles.add(
                Role(
                    repertoire.role_lock("scheduler"),
                    start=self._start_scheduler,
                    stop=self._stop_scheduler,
                    poll=poll,
                    requires=(lambda: gateway.held) if gateway is not None else (lambda: True),
                )
            )

    # ------------------------------------------------------------------ Discord's gateway

    async def _start_discord(self) -> None:
        supervisor = self.discord_supervisor
        assert supervisor is not None

        async def supervised() -> None:
            await supervisor.run()
            self.discord_done.set()  # stopped for good (credentials, setup): not retried

        self._discord_task = asyncio.create_task(supervised(), name="copbot-discord")

    async def discord_stopped(self) -> None:
        """Until Discord stops for good (a refused token); a process on standby waits here."""
        await self.discord_done.wait()

    async def _stop_discord(self) -> None:
        task, self._discord_task = self._discord_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.discord_supervisor is not None:
            await self.discord_supervisor.adapter.close()

    # ------------------------------------------------------------------ the scheduler

    async def _start_scheduler(self) -> None:
        self.digests = await self.start_scheduler()

    async def _stop_scheduler(self) -> None:
        digests, self.digests = self.digests, None
        if digests is not None:
            digests.shutdown()

    # ------------------------------------------------------------------ life cycle

    def start(self) -> list[asyncio.Task[None]]:
        """One task per role; cancelling them stops the work and lets the locks go."""
        return self.roles.tasks()
