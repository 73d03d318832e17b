"""``copbot run``: every configured platform in one asyncio loop, one repertoire.

A community that lives on Slack and Discord shares one core: an answer given
on Slack is found from Discord. SQLite work goes through the core's single
database thread (:class:`bot.runtime.AsyncCore`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from adapters.base import Outboxes, PlatformAdapter
from bot.app import build_core
from bot.config import Settings
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)


class NothingToRun(Exception):
    """No platform is enabled in the config."""


def make_adapters(
    core: AsyncCore, settings: Settings, *, http: bool, port: int | None
) -> list[PlatformAdapter]:
    """The adapters the config enables (their libraries are imported only when used)."""
    adapters: list[PlatformAdapter] = []
    if settings.slack.enabled:
        from adapters.slack import SlackAdapter

        adapters.append(SlackAdapter(core, settings, http=http, port=port))
    if settings.discord.enabled:
        from adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(core, settings))
    return adapters


async def run(
    settings: Settings, db_path: Path, *, http: bool = False, port: int | None = None
) -> None:
    """Start every enabled platform and run until one of them stops or we are cancelled."""
    core = build_core(settings, db_path)
    async_core = AsyncCore(core)
    try:
        adapters = make_adapters(async_core, settings, http=http, port=port)
    except BaseException:  # e.g. a missing token: close what we opened, then say why
        async_core.close()
        core.services.repertoire.close()
        raise
    if not adapters:
        async_core.close()
        core.services.repertoire.close()
        raise NothingToRun(
            "no platform is enabled: set [slack] enabled = true and/or [discord] enabled = true "
            "in the config (see config.example.toml)"
        )
    outboxes = Outboxes()
    for adapter in adapters:
        outboxes.register(adapter)
    tasks = [asyncio.create_task(a.start(), name=f"copbot-{a.platform}") for a in adapters]
    from adapters.digest_cli import start_digests
    from bot.semantic_job import start_embedding

    digests = await start_digests(async_core, outboxes, db_path)  # digests and follow-ups
    embedding = await start_embedding(async_core)  # the semantic stage's vectors, if on
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        if digests is not None:
            digests.shutdown()
        if embedding is not None:
            await embedding.stop()
        for task in tasks:
            task.cancel()
        for adapter in adapters:
            try:
                await adapter.close()
            except Exception:  # pragma: no cover - best effort on the way out
                log.exception("closing the %s adapter failed", adapter.platform)
        async_core.close()
        core.services.repertoire.close()
