"""What every ``copbot`` command shares: ``--db``/``--config``, loading them, and failing.

A command that cannot do its work raises a click exception: click prints
``copbot: <why>`` on standard error and exits with its code::

    click.ClickException
    └── CommandFailed      the work failed (exit code 1)
        └── CommandRefused the config, the database or the arguments cannot be used (2)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from bot.app import build_core
from bot.config import ConfigError, Settings, find_config, load_settings
from bot.core import Core

__all__ = [
    "CommandFailed",
    "CommandRefused",
    "Loaded",
    "config_option",
    "db_option",
    "load",
    "opened",
]

class CommandFailed(click.ClickException):
    """A command could not do its work: ``copbot: <message>`` on stderr, exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"copbot: {self.format_message()}", err=True, file=file)


class CommandRefused(CommandFailed):
    """The config, the database or the arguments cannot be used: exit code 2."""

    exit_code = 2


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file of the repertoire (default: 'database' in the config).",
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $COPBOT_CONFIG, then ./copbot.toml).",
)



@dataclass
class Loaded:
    settings: Settings
    db_path: Path


def load(config_path: Path | None, db_path: Path | None, default_db: Path | None = None) -> Loaded:
    """Settings and database path; a config that cannot be used fails with exit code 2."""
    try:
        settings = load_settings(find_config(config_path))
    except ConfigError as exc:
        raise CommandRefused(str(exc)) from exc
    return Loaded(settings, db_path or default_db or Path(settings.database))


@contextmanager
def opened(config_path: Path | None, db_path: Path | None) -> Iterator[tuple[Loaded, Core]]:
    """The loaded settings and a core on the repertoire, closed on the way out."""
    loaded = load(config_path, db_path)
    core = build_core(loaded.settings, loaded.db_path)
    try:
        yield loaded, core
    finally:
        core.services.repertoire.close()
