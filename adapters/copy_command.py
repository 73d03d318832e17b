"""``copbot copy SOURCE TARGET``: move a community between a SQLite file and a PostgreSQL server.

Each of SOURCE and TARGET is a SQLite file or a ``postgresql://`` URL (no
password on the command line: ``PGPASSWORD`` or ``~/.pgpass`` give it, as to
any libpq program). What is copied, and what is rebuilt, is
:mod:`knowledge.copying`'s business; this command opens both ends and reports.
"""

from __future__ import annotations

import time

import click

from adapters.cli_options import CommandRefused
from knowledge.backends import DatabaseTarget, open_storage, parse_target
from knowledge.copying import CopyRefused, copy_repertoire

__all__ = ["copy_command"]


@click.command("copy")
@click.argument("source", metavar="SOURCE")
@click.argument("target", metavar="TARGET")
def copy_command(source: str, target: str) -> None:
    """Copy a whole community from SOURCE to an empty TARGET (SQLite files or postgresql:// URLs).

    Everything the repertoire holds goes, with the same ids; search indexes are
    rebuilt on the target. The source is only read, and the target gets all of
    it or nothing. For example:

    \b
        copbot copy copbot.db postgresql://copbot@db.example.org/copbot
    """
    from_target, to_target = parse_target(source), parse_target(target)
    if not from_target.postgres and not _exists(from_target):
        raise CommandRefused(f"{from_target} does not exist: nothing to copy")
    if from_target == to_target:
        raise CommandRefused("SOURCE and TARGET are the same database")
    started = time.perf_counter()
    reading = open_storage(from_target)
    try:
        writing = open_storage(to_target)
        try:
            counts = copy_repertoire(reading, writing)
        except CopyRefused as exc:
            raise CommandRefused(f"{to_target}: {exc}") from exc
        finally:
            writing.close()
    finally:
        reading.close()
    copied = ", ".join(f"{name} {n:,}" for name, n in counts.items() if n)
    click.echo(
        f"Copied {from_target} to {to_target} in {time.perf_counter() - started:.1f} s: "
        f"{copied or 'nothing (the source is empty)'}."
    )


def _exists(target: DatabaseTarget) -> bool:
    path = target.sqlite_path
    return path is not None and path.is_file()
