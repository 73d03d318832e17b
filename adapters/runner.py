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
from typing import TYPE_CHECKING

from adapters.base import Outboxes, PlatformAdapter
from adapters.readiness import readiness_routes
from adapters.supervisor import Backoff, Supervisor, label
from adapters.worker_roles import WorkerRoles
from bot.app import build_core
from bot.config import ConfigError, Settings
from bot.runtime import AsyncCore
from knowledge.backends import DatabaseTarget

if TYPE_CHECKING:
    from adapters.web import WebReader, WebServer

log = logging.getLogger(__name__)


class NothingToRun(Exception):
    """No platform is enabled in the config, or none of them could run."""


def make_adapter(
    platform: str, core: AsyncCore, settings: Settings, *, http: bool, port: int | None
) -> PlatformAdapter:
    """One platform's adapter (its library is imported only when used)."""
    if platform == "slack":
        from adapters.slack.adapter import SlackAdapter

        return SlackAdapter(core, settings, http=http, port=port)
    from adapters.discord.adapter import DiscordAdapter

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


def web_view_for(
    adapters: list[PlatformAdapter], settings: Settings, database: DatabaseTarget | Path
) -> tuple[WebServer | None, WebReader | None]:
    """With ``[web] enabled``: the web view, on Slack's HTTP server when they share a port.

    Returns the server to start (when the view has its own port) or the reader
    to close (when it rides on Slack's server). It reads either backend.
    """
    from adapters.web import WebReader, WebServer, WebView

    if not settings.web.enabled:
        return None, None
    for adapter in adapters:
        if adapter.platform != "slack":
            continue
        from adapters.slack.adapter import SlackAdapter

        if isinstance(adapter, SlackAdapter) and adapter.http and adapter.port == settings.web.port:
            reader = WebReader(database, settings)
            adapter.extra_routes.append(WebView(reader, settings).add_routes)
            log.info("web view: served with Slack's HTTP endpoint on port %s", settings.web.port)
            return None, reader
    return WebServer(database, settings), None


async def serve_web(server: WebServer) -> None:
    """The web view until cancelled; one that cannot listen is reported, the rest runs on."""
    try:
        await server.start()
    except OSError as exc:
        log.error("web view: cannot listen on %s:%s (%s)", server.host, server.port, exc)


async def run(
    settings: Settings,
    database: DatabaseTarget | Path,
    *,
    http: bool = False,
    port: int | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Serve every enabled platform until none is left running (or we are cancelled).

    A platform whose setup is wrong (a token not set) is reported and left out;
    the others start. :class:`NothingToRun` when no platform runs at all.
    """
    core = build_core(settings, database)
    async_core = AsyncCore(core)
    adapters: list[PlatformAdapter] = []
    problems: list[str] = []
    for platform in enabled_platforms(settings):
        try:
            adapters.append(make_adapter(platform, async_core, settings, http=http, port=port))
        except ConfigError as exc:  # e.g. a token not set: this platform only
            log.error("%s: not started, the other platforms keep running. %s", label(platform), exc)
            problems.append(f"{platform}: {exc}")
    if not adapters and not settings.web.enabled:
        async_core.close()
        core.services.repertoire.close()
        if problems:
            raise NothingToRun("no platform could start:\n  " + "\n  ".join(problems))
        raise NothingToRun(
            "no platform is enabled: set [slack] enabled = true and/or [discord] enabled = true "
            "(or [web] enabled = true) in the config (see config.example.toml)"
        )
    web_server, shared_reader = web_view_for(adapters, settings, database)
    outboxes = Outboxes()
    for adapter in adapters:
        outboxes.register(adapter)
    discord = next((a for a in adapters if a.platform == "discord"), None)
    # Discord's gateway and the scheduler are roles: one process each among several.
    from adapters.digest_jobs import start_digests

    roles = WorkerRoles(
        async_core,
        lambda: start_digests(async_core, outboxes, database),  # digests and follow-ups
        discord=discord,
        backoff=backoff,
    )
    supervisors = [Supervisor(a, backoff) for a in adapters if a is not discord]
    for adapter in adapters:
        if adapter.platform == "slack":  # HTTP mode: GET /readyz names this process's roles
            from adapters.slack.adapter import SlackAdapter

            if isinstance(adapter, SlackAdapter) and adapter.http:
                ready = readiness_routes(roles.roles, adapter.started.is_set)
                adapter.extra_routes.append(ready)
    tasks = [asyncio.create_task(s.run(), name=f"copbot-{s.adapter.platform}") for s in supervisors]
    if roles.discord_supervisor is not None:
        tasks.append(asyncio.create_task(roles.discord_stopped(), name="copbot-discord-done"))
    role_tasks = roles.start()
    web_task = asyncio.create_task(serve_web(web_server), name="copbot-web") if web_server else None
    from bot.semantic_job import start_embedding

    embedding = await start_embedding(async_core)  # the semantic stage's vectors, if on
    try:
        if not tasks and web_task is not None:  # the web view alone
            await web_task
            raise NothingToRun("the web view could not start (see the log)")
        await asyncio.gather(*tasks)
        every = [*supervisors, *([roles.discord_supervisor] if roles.discord_supervisor else [])]
        stopped = [f"{s.adapter.platform}: {s.stopped}" for s in every if s.stopped]
        raise NothingToRun("every platform stopped:\n  " + "\n  ".join(stopped + problems))
    finally:
        for task in role_tasks:  # stops the scheduler and Discord, lets their locks go
            task.cancel()
        await asyncio.gather(*role_tasks, return_exceptions=True)
        if embedding is not None:
            await embedding.stop()
        everything = [*tasks, *([web_task] if web_task else [])]
        for task in everything:
            task.cancel()
        await asyncio.gather(*everything, return_exceptions=True)
        for adapter in adapters:
            try:
                await adapter.close()
            except Exception:  # pragma: no cover - best effort on the way out
                log.exception("closing the %s adapter failed", adapter.platform)
        if web_server is not None:
            await web_server.close()
        if shared_reader is not None:
            shared_reader.close()
        async_core.close()
        core.services.repertoire.close()
