"""``copbot run``, ``copbot commands`` and ``copbot doctor``: the bot on its platforms."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from adapters.cli_options import CommandRefused, config_option, db_option, load
from adapters.log_setup import setup_logging
from bot.config import ConfigError

__all__ = ["commands_command", "doctor", "run"]


@click.command()
@click.option("--http", is_flag=True, help="Slack over HTTP (Events API) instead of Socket Mode.")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="HTTP port (--http).")
@db_option
@config_option
def run(http: bool, port: int | None, db_path: str | None, config_path: Path | None) -> None:
    """Run the bot on every platform enabled in the config (Slack, Discord or both)."""
    from adapters.runner import NothingToRun
    from adapters.runner import run as run_platforms

    loaded = load(config_path, db_path)
    setup_logging("INFO")
    try:
        asyncio.run(run_platforms(loaded.settings, loaded.database, http=http, port=port))
    except (NothingToRun, ConfigError) as exc:  # ConfigError: e.g. a Slack token not set
        raise CommandRefused(str(exc)) from exc
    except KeyboardInterrupt:
        pass


@click.command("commands")
@click.option(
    "--platform",
    type=click.Choice(["discord", "slack"]),
    required=True,
    help="Whose registration to print.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON payload itself.")
@config_option
def commands_command(platform: str, as_json: bool, config_path: Path | None) -> None:
    """Print the commands copbot registers: Discord's payload, or Slack's manifest part."""
    from bot.app import command_registry

    loaded = load(config_path, None)
    registry = command_registry()
    payload: Any
    if platform == "discord":
        from adapters.discord.commands import registration_payload

        payload = registration_payload(registry)
    else:
        from adapters.slack.manifest import manifest_commands

        payload = manifest_commands(loaded.settings.slack.command, registry)
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    prefix = "/cop" if platform == "discord" else loaded.settings.slack.command
    for spec in registry:
        click.echo(f"{prefix} {spec.usage}")


@click.command()
@click.option("--http", is_flag=True, help="Check for HTTP mode (signing secret, no app token).")
@click.option("--api-url", default=None, hidden=True, help="Slack Web API base URL (tests).")
@config_option
def doctor(http: bool, api_url: str | None, config_path: Path | None) -> None:
    """Check the Slack tokens in the environment and say what is missing (never prints them)."""
    import os

    from adapters.slack.doctor import run_checks

    loaded = load(config_path, None)
    http = http or loaded.settings.slack.mode == "http"
    click.echo(f"Slack, {'HTTP' if http else 'Socket Mode'}:")
    checks = asyncio.run(run_checks(os.environ, http=http, base_url=api_url))
    for check in checks:
        click.echo(check.line())
    if not all(check.ok for check in checks):
        raise click.exceptions.Exit(1)  # the failing checks say why, each on its line
