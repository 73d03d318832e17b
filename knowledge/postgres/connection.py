"""Connections to the PostgreSQL repertoire: one for a command, a pool for a running bot.

Every connection talks UTC (``TimeZone`` is set when it opens), so the
``timestamptz`` values it returns are aware datetimes in UTC, as the SQLite
backend returns them. Its queries run without parallel workers
(:data:`SESSION_SETTINGS`): copbot's are small index lookups, for which
starting workers costs more wall time than they save (on a shared 2-core
machine, 200 similar lookups at 1M messages: p99 68 to 310 ms with workers,
62 to 67 ms without, same results). A server that cannot be reached gives one
:class:`DatabaseUnreachable` whose message names the server without its
password and says what went wrong, instead of a pool timing out in silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from knowledge.postgres.url import display_url, has_password, is_postgres_url
from knowledge.storage.errors import StorageUnavailable

APPLICATION_NAME = "copbot"
#: Seconds to wait for a connection (and for a pool's first connections).
CONNECT_TIMEOUT = 10


class DatabaseUnreachable(StorageUnavailable):
    """No connection could be made; the message is safe to show (no password)."""


#: Set on every session: UTC, and no parallel workers for a query (see above).
SESSION_SETTINGS = ("SET TIME ZONE 'UTC'", "SET max_parallel_workers_per_gather = 0")


def _configure(conn: Connection[Any]) -> None:
    for setting in SESSION_SETTINGS:
        conn.execute(setting)
    if not conn.autocommit:
        conn.commit()


def _where(conninfo: str) -> str:
    return display_url(conninfo) if is_postgres_url(conninfo) else "the PostgreSQL server"


def connect(
    conninfo: str, *, autocommit: bool = False, options: Mapping[str, str | int] | None = None
) -> Connection[TupleRow]:
    """One connection (for a command such as ``copbot stats``), set up for copbot.

    ``options``: more libpq connection parameters (keepalives, for a lock's session).
    """
    try:
        conn = psycopg.connect(
            make_conninfo(conninfo, **dict(options or {})) if options else conninfo,
            autocommit=autocommit,
            application_name=APPLICATION_NAME,
            connect_timeout=CONNECT_TIMEOUT,
        )
    except psycopg.ProgrammingError as error:  # the URL itself does not parse
        # Its message may quote a piece of the URL: shown only when no password is in it.
        detail = "" if has_password(conninfo) else ": " + " ".join(str(error).split())
        message = f"{_where(conninfo)} is not a valid PostgreSQL URL{detail}"
        raise DatabaseUnreachable(message) from None
    except psycopg.OperationalError as error:
        # libpq's message says what failed (refused, unknown host, bad password)
        # and never contains the password itself.
        reason = " ".join(str(error).split())
        raise DatabaseUnreachable(f"cannot connect to {_where(conninfo)}: {reason}") from None
    _configure(conn)
    return conn


def open_pool(
    conninfo: str, *, min_size: int = 1, max_size: int = 8, name: str = "copbot"
) -> ConnectionPool[Connection[TupleRow]]:
    """A pool for the running bot, open and holding ``min_size`` connections.

    One connection is made first, directly, so a wrong URL fails here with the
    server's own reason rather than as a pool timeout.
    """
    connect(conninfo).close()
    pool: ConnectionPool[Connection[TupleRow]] = ConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        configure=_configure,
        kwargs={"application_name": APPLICATION_NAME, "connect_timeout": CONNECT_TIMEOUT},
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT)
    except psycopg.errors.Error as error:  # PoolTimeout and friends
        pool.close()
        raise DatabaseUnreachable(f"cannot open a pool on {_where(conninfo)}: {error}") from None
    return pool
