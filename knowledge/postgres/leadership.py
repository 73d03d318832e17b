"""One process per role among several on one PostgreSQL: a session advisory lock each.

:class:`AdvisoryLock` holds ``pg_try_advisory_lock`` on a connection of its
own. The lock belongs to that session: it is released when the process gives
it up, when the process dies (the server sees the socket close at once on a
kill, and on a vanished machine after the TCP keepalives below, about ten
seconds), or when the connection breaks. That release *is* the failover: the
next process that asks gets the lock.

The holder checks at every poll that its session still holds the lock (a
lock is invisible to a process whose connection silently died); when the
check fails it steps down before anyone could have taken over for long, and
the database's unique keys keep the overlap harmless (``knowledge.storage.roles``).

Locks use the two-key form ``(class, role)``: the class is copbot's
(:data:`LOCK_CLASS`), the role a stable number from its name. Advisory locks
are per database, so two communities on one server never share a leader. The
one-key form (:data:`knowledge.postgres.migrations.LOCK_KEY`) is a different
lock space.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from typing import Any

import psycopg
from psycopg import Connection

from knowledge.postgres.connection import DatabaseUnreachable, connect

__all__ = ["LOCK_CLASS", "AdvisoryLock", "role_key"]

log = logging.getLogger(__name__)

#: The first key of every role lock: "copb" in ASCII (fits PostgreSQL's int4).
LOCK_CLASS = 0x636F7062

#: libpq's side: notice a dead server (or network) within about ten seconds.
CLIENT_KEEPALIVES: dict[str, str | int] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}
#: The server's side, for this session: a vanished holder's lock goes in about ten seconds.
SERVER_SETTINGS = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
    "SET tcp_user_timeout = 10000",
    "SET statement_timeout = '5s'",
)


def role_key(role: str) -> int:
    """The role's lock number: stable across processes and versions (CRC-32, 31 bits)."""
    return zlib.crc32(role.encode()) & 0x7FFFFFFF


class AdvisoryLock:
    """The lock on one role, on its own connection (satisfies ``RoleLock``)."""

    def __init__(self, conninfo: str, role: str) -> None:
        self.role = role
        self._conninfo = conninfo
        self._key = role_key(role)
        self._conn: Connection[Any] | None = None

    def _session(self) -> Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = connect(self._conninfo, autocommit=True, options=CLIENT_KEEPALIVES)
            try:
                for statement in SERVER_SETTINGS:
                    conn.execute(statement)
            except psycopg.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop_session(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):  # closing a broken socket
                self._conn.close()
            self._conn = None

    def try_acquire(self) -> bool:
        """Take the role if it is free (a new session after a broken one)."""
        try:
            row = (
                self._session()
                .execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, self._key])
                .fetchone()
            )
        except (psycopg.Error, DatabaseUnreachable) as error:
            log.warning("%s: cannot ask for the role: %s", self.role, " ".join(str(error).split()))
            self._drop_session()
            return False
        return bool(row and row[0])

    def still_held(self) -> bool:
        """Whether the server still counts this session as the holder."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND classid = %s::bigint::oid "
                "AND objid = %s::bigint::oid AND objsubid = 2 AND granted)",
                [LOCK_CLASS, self._key],
            ).fetchone()
        except psycopg.Error as error:
            reason = " ".join(str(error).split())
            log.warning("%s: lost the database session: %s", self.role, reason)
            self._drop_session()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self._conn is None or self._conn.closed:
            return
        try:
            self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, self._key])
        except psycopg.Error:
            self._drop_session()  # the session's end releases it all the same

    def close(self) -> None:
        self.release()
        self._drop_session()
