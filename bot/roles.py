"""Work only one process may do, handed over when that process dies.

Several ``copbot run`` processes may share one PostgreSQL repertoire. Capture
is safe anywhere (the database's unique keys make a repeated event one entry),
but two kinds of work must run in exactly one process at a time: the scheduler
(digests and follow-ups) and Discord's gateway session. Each is a :class:`Role`
behind a lock from the repertoire (:meth:`knowledge.storage.Storage.role_lock`):

* every :attr:`Role.poll` seconds a process that does not hold the role asks
  for the lock; the one that gets it starts the work (a scheduler starts by
  catching up on what fell due while nobody held it);
* the holder checks at the same pace that it still holds the lock, and stops
  the work when it does not (its database session broke);
* a process that dies loses the lock with its session, so another one takes
  over within one poll plus the time the server needs to notice (immediate
  for a killed process, about ten seconds for a vanished machine).

On SQLite every role is simply this process's (one process per file).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from knowledge.storage.roles import RoleLock

__all__ = ["DEFAULT_POLL_SECONDS", "Role", "Roles"]

log = logging.getLogger(__name__)

#: How often a process asks for a role it does not hold (and checks one it holds).
DEFAULT_POLL_SECONDS = 5.0

Action = Callable[[], Awaitable[None]]
T = TypeVar("T")


async def _nothing() -> None:
    return None


class Role:
    """One role: its lock, what to start when it is won and stop when it is lost."""

    def __init__(
        self,
        lock: RoleLock,
        *,
        start: Action,
        stop: Action = _nothing,
        poll: float = DEFAULT_POLL_SECONDS,
        requires: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``requires``: a condition to seek (and keep) the role, e.g. holding another one."""
        self.lock = lock
        self.start = start
        self.stop = stop
        self.poll = poll
        self.requires = requires
        self.clock = clock
        self.held = False
        #: ``clock()`` when this process took the role (``None`` while not held).
        self.since: float | None = None
        # The lock's calls block; they run one at a time on a thread of the role's own,
        # so a call still running when the role is cancelled ends before close() runs
        # (else a lock taken just then would stay held by a session nobody closes).
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copbot-role")

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._calls, fn)

    @property
    def name(self) -> str:
        return self.lock.role

    async def step(self) -> None:
        """One round: take the role if free and wanted, or check the one held."""
        if self.held:
            if not await self._call(self.lock.still_held):
                log.warning("%s: this process no longer holds the role; stopping it", self.name)
                await self._step_down(release=False)
            elif not self.requires():
                log.info("%s: giving the role up (what it needs is no longer held)", self.name)
                await self._step_down(release=True)
            return
        if not self.requires():
            return
        if not await self._call(self.lock.try_acquire):
            return
        self.held, self.since = True, self.clock()
        log.info("%s: this process holds the role now", self.name)
        try:
            await self.start()
        except Exception:
            log.exception("%s: starting the role failed; giving it up", self.name)
            await self._step_down(release=True)

    async def _step_down(self, *, release: bool) -> None:
        self.held, self.since = False, None
        try:
            await self.stop()
        except Exception:  # pragma: no cover - stopping is best effort
            log.exception("%s: stopping the role failed", self.name)
        if release:
            await self._call(self.lock.release)

    async def run(self) -> None:
        """Seek and keep the role until cancelled; then stop its work and let it go."""
        try:
            while True:
                await self.step()
                await asyncio.sleep(self.poll)
        finally:
            if self.held:
                await self._step_down(release=False)
            await self._call(self.lock.close)  # after any call still in flight
            self._calls.shutdown(wait=False)


class Roles:
    """The roles of one process, for the readiness endpoint and the log."""

    def __init__(self, roles: list[Role] | None = None) -> None:
        self.roles: list[Role] = list(roles or [])

    def add(self, role: Role) -> Role:
        self.roles.append(role)
        return role

    def held(self) -> list[str]:
        """The names of the roles this process holds now."""
        return [role.name for role in self.roles if role.held]

    def sought(self) -> list[str]:
        """Every role this process takes part in."""
        return [role.name for role in self.roles]

    def tasks(self) -> list[asyncio.Task[None]]:
        """One task per role, running until cancelled."""
        return [
            asyncio.create_task(role.run(), name=f"copbot-role-{role.name}") for role in self.roles
        ]
