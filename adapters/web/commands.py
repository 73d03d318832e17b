"""``copbot web``, and the web view ``copbot demo`` serves beside its terminal chat."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from adapters.cli_options import CommandRefused, db_option, load
from adapters.log_setup import setup_logging
from adapters.web.server import WebServer, serve
from bot.config import Settings
from knowledge.backends import DatabaseTarget


@click.command("web")
@click.option("--host", default=None, help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port (default: [web] port, 8080)."
)
@db_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def web_command(
    host: str | None, port: int | None, db_path: str | None, config_path: Path | None
) -> None:
    """Serve the read-only web view of the published channels (until Ctrl-C)."""

    loaded = load(config_path, db_path)
    path = loaded.database.sqlite_path
    if path is not None and not path.is_file():
        raise CommandRefused(f"no database at {path} (pass --db FILE or a postgresql:// URL).")
    setup_logging("INFO")
    web = loaded.settings.web
    host = host or web.host
    port = web.port if port is None else port
    try:
        asyncio.run(serve(loaded.database, loaded.settings, host, port))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise CommandRefused(f"cannot listen on {host}:{port}: {exc}") from exc
    except KeyboardInterrupt:
        pass


async def start_demo_web(
    db_path: DatabaseTarget | Path, settings: Settings, port: int | None
) -> WebServer | None:
    """The demo's web view on ``port`` (else ``[web] port``, else any free port); says where."""
    wanted = settings.web.port if port is None else port
    for attempt in dict.fromkeys((wanted, 0)):
        server = WebServer(db_path, settings, port=attempt)
        try:
            url = await server.open()
        except OSError:  # the port is taken (another demo?): take any free one
            await server.close()
            continue
        click.echo(f"Web view of the public channels: {url}")
        return server
    click.echo("The web view could not start; the chat works without it.")
    return None
