"""Each platform runs supervised, so one that fails never takes the others down.

A platform whose connection fails (Discord unreachable, Slack answering 503,
a network cut) is started again after a pause that doubles each time up to a
cap (:class:`Backoff`), and says so in one status line per attempt:
``Discord: cannot connect (...); retrying in 8 s (attempt 4)``. A connection
that held for a while resets the pause. A platform that refuses copbot's
credentials (:class:`CredentialsRejected`) or whose setup is wrong
(:class:`~bot.config.ConfigError`) stops for good with one error naming what
to fix; the others keep serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.base import PlatformAdapter
from bot.config import ConfigError

log = logging.getLogger(__name__)


class CredentialsRejected(ConfigError):
    """The platform refused a credential; ``variable`` is the environment variable holding it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


@dataclass(frozen=True)
class Backoff:
    """Capped exponential pauses between attempts: first, first x factor, ... up to cap."""

    first: float = 1.0
    factor: float = 2.0
    cap: float = 300.0
    #: A connection that lasted this long was a success: the next failure starts over.
    healthy_after: float = 60.0

    def delay(self, attempt: int) -> float:
        """The pause before attempt ``attempt + 1`` (``attempt`` >= 1 failures so far)."""
        return float(min(self.cap, self.first * self.factor ** (attempt - 1)))


Sleep = Callable[[float], Awaitable[None]]


def label(platform: str) -> str:
    return platform.capitalize()


class Supervisor:
    """Runs one adapter until it stops for good, restarting it after failures."""

    def __init__(
        self,
        adapter: PlatformAdapter,
        backoff: Backoff | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.adapter = adapter
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.clock = clock
        self.status = "starting"
        #: Why it stopped for good, when it did.
        self.stopped: ConfigError | None = None

    @property
    def name(self) -> str:
        return label(self.adapter.platform)

    async def run(self) -> None:
        """Start, and restart after failures, until stopped for good or cancelled."""
        attempt = 0
        while True:
            started = self.clock()
            try:
                self.status = "connecting"
                await self.adapter.start()
                reason = "the connection ended"
            except asyncio.CancelledError:
                raise
            except ConfigError as exc:
                self.stopped = exc
                self.status = f"stopped: {exc}"
                log.error("%s: stopped, the other platforms keep running. %s", self.name, exc)
                await self._close()
                return
            except Exception as exc:  # the network, the platform: try again later
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            await self._close()
            if self.clock() - started >= self.backoff.healthy_after:
                attempt = 0
            attempt += 1
            delay = self.backoff.delay(attempt)
            self.status = f"retrying in {delay:.0f} s"
            log.warning(
                "%s: cannot connect (%s); retrying in %.0f s (attempt %d)",
                self.name,
                reason,
                delay,
                attempt + 1,
            )
            await self.sleep(delay)

    async def _close(self) -> None:
        try:
            await self.adapter.close()
        except Exception:  # pragma: no cover - best effort between attempts
            log.exception("%s: closing the failed connection failed", self.name)
