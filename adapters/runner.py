"""``copbot run``: every configured platform in one asyncio loop, one repertoire.

A community that lives on Slack and Discord shares one core: an answer given
on Slack is found from Discord. SQLite work goes through the core's single
database thread (:class:`bot.runtime.AsyncCore`). Each platform runs under its
own :class:`~adapters.supervisor.Supervisor`: one that cannot connect is
retried with backoff, one whose credentials are refused stops alone, and the
others keep serving. ``run`` ends when no platform is left running.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from adapters.base import Outboxes, PlatformAdapter
from adapters.supervisor import Backoff, Supervisor, label
from bot.app import build_core
from bot.config import ConfigError, Settings
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)


class NothingToRun(Exception):
    """No platform is enabled in the config, or none of them could run."""


def make_adapter(
    platform: str, core: AsyncCore, settings: Settings, *, http: bool, port: int | None
) -> PlatformAdapter:
    """One platform's adapter (its library is imported only when used)."""
    if platform == "slack":
        from adapters.slack import SlackAdapter

        return SlackAdapter(core, settings, http=http, port=port)
    from adapters.discord import DiscordAdapter

    return DiscordAdapter(core, settings)


def enabled_platforms(settings: Settings) -> list[str]:
    return [p for p in ("slack", "discord") if getattr(settings, p).enabled]


def make_adapters(
    core: AsyncCore, settings: Settings, *, http: bool, port: int | None
) -> list[PlatformAdapter]:
    """The adapters the config enables; a platform whose setup is wrong raises."""
    return [
        make_adapter(p, core, settings, http=http, port=port) for p in enabled_platforms(settings)
    ]


async def run(
    settings: Settings,
    db_path: Path,
    *,
    http: bool = False,
    port: int | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Serve every enabled platform until none is left running (or we are cancelled).

    A platform whose setup is wrong (a token not set) is reported and left out;
    the others start. :class:`NothingToRun` when no platform runs at all.
    """
    core = build_core(settings, db_path)
    async_core = AsyncCore(core)
    adapters: list[PlatformAdapter] = []
    problems: list[str] = []
    for platform in enabled_platforms(settings):
        try:
            adapters.append(make_adapter(platform, async_core, settings, http=http, port=port))
        except ConfigError as exc:  # e.g. a token not set: this platform only
            log.error("%s: not started, the other platforms keep running. %s", label(platform), exc)
            problems.append(f"{platform}: {exc}")
    if not adapters:
        async_core.close()
        core.services.repertoire.close()
        if problems:
            raise NothingToRun("no platform could start:\n  " + "\n  ".join(problems))
        raise NothingToRun(
            "no platform is enabled: set [slack] enabled = true and/or [discord] enabled = true "
            "in the config (see config.example.toml)"
        )
    outboxes = Outboxes()
    for adapter in adapters:
        outboxes.register(adapter)
    supervisors = [Supervisor(adapter, backoff) for adapter in adapters]
    tasks = [asyncio.create_task(s.run(), name=f"copbot-{s.adapter.platform}") for s in supervisors]
    from adapters.digest_cli import start_digests

    digests = await start_digests(async_core, outboxes, db_path)  # digests and follow-ups
    try:
        await asyncio.gather(*tasks)
        stopped = [f"{s.adapter.platform}: {s.stopped}" for s in supervisors if s.stopped]
        raise NothingToRun("every platform stopped:\n  " + "\n  ".join(stopped + problems))
    finally:
        if digests is not None:
            digests.shutdown()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for adapter in adapters:
            try:
                await adapter.close()
            except Exception:  # pragma: no cover - best effort on the way out
                log.exception("closing the %s adapter failed", adapter.platform)
        async_core.close()
        core.services.repertoire.close()
