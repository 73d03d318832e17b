"""The ``copbot`` command line (click, as sqlite-utils and datasette use).

It is the composition root: it reads the config, opens the repertoire and
starts the adapters. Every command takes ``--db FILE|URL`` and ``--config FILE``
(:mod:`adapters.cli_options`); a missing or malformed config file, or a
database file that cannot be used, is one clear message and exit code 2.

The commands live by concern: ``demo``/``chat`` in :mod:`adapters.console_commands`,
``run``/``commands``/``doctor`` in :mod:`adapters.platform_commands`,
``search``/``stats`` in :mod:`adapters.repertoire_commands`, ``forget`` in
:mod:`adapters.forget_command`, ``digest`` in :mod:`adapters.digest_cli`,
``import``/``export`` in :mod:`adapters.importers.commands`, ``web`` in
:mod:`adapters.web.commands` and ``copy`` in :mod:`adapters.copy_command`.
"""

from __future__ import annotations

from typing import Any

import click

from adapters.cli_options import CommandRefused
from adapters.console_commands import chat, demo
from adapters.copy_command import copy_command
from adapters.digest_cli import digest_command
from adapters.forget_command import forget
from adapters.importers.commands import export_command, import_command
from adapters.log_setup import setup_logging
from adapters.platform_commands import commands_command, doctor, run
from adapters.repertoire_commands import search_command, stats
from adapters.web.commands import web_command
from knowledge.backends import DatabaseUrlError
from knowledge.storage import StorageUnavailable

__all__ = ["cli", "main"]


class CopbotGroup(click.Group):
    """Every command: a database that cannot be used is one line and exit code 2.

    A file that is not an SQLite database, a server that cannot be reached, a
    URL that names neither: the message names it (never its password).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StorageUnavailable, DatabaseUrlError) as exc:
            raise CommandRefused(str(exc)) from exc


@click.group(cls=CopbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="copbot")
def cli() -> None:
    """copbot keeps a community of practice's answers and know-how from chat."""
    setup_logging("WARNING")


for _command in (
    demo,
    chat,
    run,
    commands_command,
    doctor,
    search_command,
    stats,
    import_command,
    export_command,
    web_command,
    forget,
    digest_command,
    copy_command,
):
    cli.add_command(_command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
