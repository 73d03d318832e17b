"""``copbot demo`` and ``copbot chat``: the terminal chat, with the demo's sample and web view."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from adapters.cli_options import Loaded, config_option, db_option, load
from bot.app import build_core

__all__ = ["DEMO_DB", "DEMO_WEB_CHANNELS", "chat", "demo"]

DEMO_DB = Path("demo-data") / "copbot-demo.db"

digest_every_option = click.option(
    "--digest-every",
    "digest_every",
    type=click.IntRange(1, 1440),
    default=None,
    help="Also post a digest of the current channel every N minutes (demo).",
)


#: The sample community's public channels, published by the demo's web view.
DEMO_WEB_CHANNELS = ("console:#data-help", "console:#tips-and-tricks")


@click.command()
@db_option
@config_option
@digest_every_option
@click.option("--web/--no-web", default=True, help="Also serve the web view (default: on).")
@click.option(
    "--web-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the web view (default: [web] port, 8080; a free one if taken).",
)
def demo(
    db_path: str | None,
    config_path: Path | None,
    digest_every: int | None,
    web: bool,
    web_port: int | None,
) -> None:
    """Open the terminal chat on a sample community (seeded on first run), and its web view."""
    loaded = load(config_path, db_path, DEMO_DB)
    if web and not loaded.settings.web.channels:
        # The sample's public channels (not its private one), under the sample's name.
        from bot.sample import load_sample

        title = loaded.settings.web.title or load_sample().name
        web_settings = loaded.settings.web.model_copy(
            update={"channels": DEMO_WEB_CHANNELS, "title": title}
        )
        loaded.settings = loaded.settings.model_copy(update={"web": web_settings})
    asyncio.run(_chat(loaded, seed=True, digest_every=digest_every, web=web, web_port=web_port))


@click.command()
@db_option
@config_option
@digest_every_option
def chat(db_path: str | None, config_path: Path | None, digest_every: int | None) -> None:
    """Open the terminal chat on the configured database."""
    loaded = load(config_path, db_path)
    asyncio.run(_chat(loaded, seed=False, digest_every=digest_every))


async def _chat(
    loaded: Loaded,
    seed: bool,
    digest_every: int | None = None,
    *,
    web: bool = False,
    web_port: int | None = None,
) -> None:
    """The terminal chat; with ``web``, the web view beside it in the same loop."""
    from adapters.console import ConsoleChat, stdin_lines
    from adapters.console_transcript import Transcript, transcript_file
    from bot.runtime import AsyncCore
    from bot.sample import load_sample

    core = build_core(loaded.settings, loaded.database)
    async_core = AsyncCore(core)
    transcript = Transcript(transcript_file(loaded.database))
    interactive = sys.stdin.isatty()
    chat = ConsoleChat(
        async_core, transcript, sys.stdout, color=interactive and sys.stdout.isatty()
    )
    try:
        seeded = seed and core.services.repertoire.get_meta("sample_seeded") is None
        if seeded:
            count = await chat.seed(load_sample(), core.services.clock.now())
            await async_core.run(core.services.repertoire.set_meta, "sample_seeded", str(count))
            click.echo(f"Loaded the sample community ({count} events) into {loaded.database}.")
        elif seed:
            chat.me = next(iter(chat.members.values()), chat.me)
        report = await chat.catch_up()  # said in the transcript while copbot was not running
        if report.messages and not seeded:  # (after seeding: the sample's own messages)
            click.echo(f"(read {report.messages} message(s) said while copbot was away)")
        click.echo(
            f"copbot terminal chat on {loaded.database}. Type a message, `/cop help` for "
            f"commands, `/help` for controls, `/quit` to leave."
        )
        if not interactive:
            click.echo("(reading lines from standard input)")
        from adapters.digest_jobs import demo_schedule, start_digests
        from adapters.web.commands import start_demo_web

        web_view = await start_demo_web(loaded.database, loaded.settings, web_port) if web else None
        extra = (demo_schedule(chat.here.ref, digest_every),) if digest_every else ()
        from bot.semantic_job import start_embedding

        digests = await start_digests(async_core, chat, loaded.database, extra)
        embedding = await start_embedding(async_core)
        try:
            await chat.run(stdin_lines(None, chat))
        finally:
            if digests is not None:
                digests.shutdown()
            if embedding is not None:
                await embedding.stop()
            if web_view is not None:
                await web_view.close()
    finally:
        async_core.close()
        transcript.close()
        core.services.repertoire.close()
