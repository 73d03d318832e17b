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

from bot.app import build_core, database_for
from bot.config import ConfigError, Settings, find_config, load_settings
from bot.core import Core
from knowledge.backends import DatabaseTarget

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


#: ``--db``: text, not a click path (``postgresql://host/db`` must keep its ``//``); which
#: backend it names, and where else a database may be named, is :mod:`knowledge.backends`'.
db_option = click.option(
    "--db",
    "db_path",
    default=None,
    metavar="FILE|URL",
    help="The repertoire: a SQLite file or a postgresql://user@host/dbname URL (default: "
    "$COPBOT_DATABASE_URL, then [storage] url, then 'database' in the config). A password "
    "goes in $COPBOT_DATABASE_URL, PGPASSWORD or ~/.pgpass, never on the command line.",
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
    #: The repertoire's SQLite file or PostgreSQL server.
    database: DatabaseTarget


def load(
    config_path: Path | None, db_path: str | Path | None, default_db: Path | None = None
) -> Loaded:
    """Settings and the database to use; a config that cannot be used fails with exit code 2.

    A ``--db`` that names no usable backend raises (the command group says why).
    """
    try:
        settings = load_settings(find_config(config_path))
    except ConfigError as exc:
        raise CommandRefused(str(exc)) from exc
    return Loaded(settings, database_for(settings, db_path or default_db))


@contextmanager
def opened(
    config_path: Path | None, db_path: str | Path | None
) -> Iterator[tuple[Loaded, Core]]:
    """The loaded settings and a core on the repertoire, closed on the way out."""
    loaded = load(config_path, db_path)
    core = build_core(loaded.settings, loaded.database)
    try:
        yield loaded, core
    finally:
        core.services.repertoire.close()
