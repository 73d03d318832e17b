"""``copbot run``: every configured platform in one asyncio loop, one repertoire.

A community that lives on Slack and Discord shares one core: an answer given
on Slack is found from Discord. SQLite work goes through the core's single
database thread (:class:`bot.runtime.AsyncCore`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.base import Outboxes, PlatformAdapter, Service
from bot.app import build_core
from bot.config import Settings
from bot.runtime import AsyncCore

if TYPE_CHECKING:
    from adapters.web import WebReader

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


def web_view_for(
    adapters: list[PlatformAdapter], settings: Settings, db_path: Path
) -> tuple[list[Service], WebReader | None]:
    """With ``[web] enabled``: the web view, on Slack's HTTP server when they share a port.

    Returns the extra server to start (if the view has its own port) and the
    reader to close (if it rides on Slack's server).
    """
    from adapters.web import WebReader, WebServer, WebView

    if not settings.web.enabled:
        return [], None
    for adapter in adapters:
        if adapter.platform != "slack":
            continue
        from adapters.slack import SlackAdapter

        if isinstance(adapter, SlackAdapter) and adapter.http and adapter.port == settings.web.port:
            reader = WebReader(db_path, settings)
            adapter.extra_routes.append(WebView(reader, settings).add_routes)
            log.info("web view: served with Slack's HTTP endpoint on port %s", settings.web.port)
            return [], reader
    return [WebServer(db_path, settings)], None


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
    if not adapters and not settings.web.enabled:
        async_core.close()
        core.services.repertoire.close()
        raise NothingToRun(
            "no platform is enabled: set [slack] enabled = true and/or [discord] enabled = true "
            "(or [web] enabled = true) in the config (see config.example.toml)"
        )
    servers, shared_reader = web_view_for(adapters, settings, db_path)
    outboxes = Outboxes()
    for adapter in adapters:
        outboxes.register(adapter)
    running: list[Service] = [*adapters, *servers]
    tasks = [asyncio.create_task(a.start(), name=f"copbot-{a.platform}") for a in running]
    from adapters.digest_cli import start_digests

    digests = await start_digests(async_core, outboxes, db_path)  # digests and follow-ups
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        if digests is not None:
            digests.shutdown()
        for task in tasks:
            task.cancel()
        for service in running:
            try:
                await service.close()
            except Exception:  # pragma: no cover - best effort on the way out
                log.exception("closing the %s adapter failed", service.platform)
        if shared_reader is not None:
            shared_reader.close()
        async_core.close()
        core.services.repertoire.close()
