"""Serving the web view on its own port, in the caller's event loop.

``copbot web`` runs only this; ``copbot run`` runs it beside Slack and Discord
(or mounts the routes on Slack's HTTP server when both use one port); ``copbot
demo`` runs it beside the terminal chat. Reads go through :class:`WebReader`'s
own threads and connections, never through the bot's database thread.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from adapters.web.app import build_web_app
from adapters.web.reader import WebReader
from bot.config import Settings
from knowledge.backends import DatabaseTarget

log = logging.getLogger(__name__)


class WebServer:
    """The web view on ``host:port`` (port 0: any free port, for tests)."""

    platform = "web"

    def __init__(
        self,
        db_path: DatabaseTarget | str | Path,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self.settings = settings
        self.host = host or settings.web.host
        self.port = settings.web.port if port is None else port
        self.reader = WebReader(db_path, settings)
        self.app = build_web_app(self.reader, settings)
        self._runner: web.AppRunner | None = None

    async def open(self) -> str:
        """Start listening; the local URL it answers at."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        log.info("web view: listening on %s", self.local_url)
        return self.local_url

    @property
    def local_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = self.settings.web.base_url
        path = base.split("://", 1)[1].partition("/")[2] if base else ""
        return f"http://{host}:{self.port}/" + (f"{path}/" if path else "")

    async def start(self) -> None:
        """Serve until cancelled (as a platform adapter's ``start`` does)."""
        if self._runner is None:
            await self.open()
        await asyncio.Event().wait()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.reader.close()


async def serve(
    db_path: DatabaseTarget | str | Path, settings: Settings, host: str, port: int
) -> None:
    """``copbot web``: serve until interrupted, saying where."""
    server = WebServer(db_path, settings, host=host, port=port)
    try:
        url = await server.open()
        published = len(settings.web.channels)
        print(f"copbot web view of {db_path} at {url}", flush=True)
        if not published:
            print(
                "No channel is published yet: list them in [web] channels in the config "
                "(see config.example.toml). Pages are empty until then.",
                flush=True,
            )
        await server.start()
    finally:
        await server.close()
