"""The ``--db`` option every command that opens the repertoire takes: a file or a server.

Its value is text, not a click path: ``postgresql://host/db`` must reach
:func:`knowledge.backends.choose_database` as written (a path type would fold
its ``//``). Which backend it names, and the order of the other places a
database may be named, is :mod:`knowledge.backends`' business.
"""

from __future__ import annotations

import click

__all__ = ["DB_HELP", "db_option"]

DB_HELP = (
    "The repertoire: a SQLite file or a postgresql://user@host/dbname URL (default: "
    "$COPBOT_DATABASE_URL, then [storage] url, then 'database' in the config). A password "
    "goes in $COPBOT_DATABASE_URL, PGPASSWORD or ~/.pgpass, never on the command line."
)

db_option = click.option("--db", "db_path", default=None, metavar="FILE|URL", help=DB_HELP)
