"""Which backend holds the repertoire, and opening it: a SQLite file or a PostgreSQL server.

Every command that takes a database says where it is in one
:class:`DatabaseTarget`, chosen by :func:`choose_database` in this order: the
``--db`` option (a file name or a ``postgresql://`` URL), the
``COPBOT_DATABASE_URL`` environment variable, the config's ``[storage] url``,
the config's ``database`` file. :func:`open_storage` opens the target with the
right backend. Whatever goes wrong is one :class:`~knowledge.storage.StorageUnavailable`
(or a :class:`~knowledge.postgres.url.DatabaseUrlError`) whose message names the
target without its password: a ``--db`` that names neither a SQLite file nor a
reachable server is one clear line, never a traceback.

The PostgreSQL backend (and ``psycopg``) is imported only when a URL asks for
it, so SQLite users pay nothing for it. This module is the one door ``bot/``
and ``adapters/`` use to a backend: they take the URL helpers they need
(:data:`DATABASE_URL_ENV`, :func:`has_password`, :func:`is_postgres_url`,
:class:`DatabaseUrlError`) from here, and never import a backend package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.dbfile import open_repertoire
from knowledge.postgres.url import (
    DATABASE_URL_ENV,
    DatabaseUrlError,
    display_url,
    has_password,
    is_postgres_url,
    resolve_database_url,
    server_identity,
)
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.sqlite.repertoire import Repertoire

__all__ = [
    "DATABASE_URL_ENV",
    "DatabaseTarget",
    "DatabaseUrlError",
    "choose_database",
    "has_password",
    "is_postgres_url",
    "open_storage",
    "open_storage_read_only",
    "parse_target",
]


@dataclass(frozen=True)
class DatabaseTarget:
    """Where one community's repertoire is: a SQLite file or a PostgreSQL URL.

    ``location`` is the file's path or the URL (which may hold a password when
    it came from the environment: show :attr:`shown`, never ``location``).
    """

    location: str = field(repr=False)
    postgres: bool = False

    def __repr__(self) -> str:
        # The generated repr would print ``location``, password included.
        return f"DatabaseTarget({self.shown!r}, postgres={self.postgres})"

    @property
    def shown(self) -> str:
        """The target for messages and logs (a URL's password as ``***``)."""
        return display_url(self.location) if self.postgres else self.location

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or ``None`` on PostgreSQL."""
        return None if self.postgres else Path(self.location)

    @property
    def identity(self) -> str:
        """The repertoire however its location is spelled: a file's resolved path, or the
        server and database a URL names (no user, password or options)."""
        if self.postgres:
            return server_identity(self.location)
        return str(Path(self.location).resolve())

    @property
    def local_dir(self) -> Path:
        """Where files that go with the repertoire live (digest charts, the terminal's transcript).

        Beside a SQLite file; for a server, which has no folder of ours, the
        user's cache folder (charts are made, posted and kept only as a cache). Not
        the shared temporary folder: a chart names private channels and their topics.
        """
        if self.postgres:
            cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            return Path(cache) / "copbot"
        return Path(self.location).resolve().parent

    def __str__(self) -> str:
        return self.shown


#: ``scheme:/...``: a URL, or one whose ``//`` a path join folded into ``/``
#: (``Path("postgresql://h/db")`` is ``postgresql:/h/db``). Never a file name we make.
_URL_LIKE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+):/")


#: libpq's ``key=value`` form (``host=/tmp dbname=copbot``): a server, never a file name.
_CONNINFO_LIKE = re.compile(r"^\s*\w+\s*=.*\b(?:dbname|host|user)\s*=")


def _refuse_broken_url(raw: str) -> None:
    """Refuse a URL-like target that is not a PostgreSQL URL, rather than make a file of it."""
    if _CONNINFO_LIKE.match(raw):
        raise DatabaseUrlError(
            "a key=value connection string names a server, not a file: give it as a "
            "postgresql://user@host/database URL"
        )
    url = _URL_LIKE.match(raw.strip())
    if url:
        raise DatabaseUrlError(
            f"{url.group('scheme')}:// names neither a SQLite file nor a PostgreSQL server: "
            "give a file name or a postgresql://host/database URL (with two slashes)"
        )


def parse_target(text: str | Path) -> DatabaseTarget:
    """A target named on the command line: a ``postgresql://`` URL or a SQLite file.

    A URL with a password is refused (the process list and shell history would
    show it); another scheme (``mysql://``) is refused as naming neither backend.
    """
    raw = str(text)
    url = resolve_database_url(raw, None, {})
    if url is not None:
        return DatabaseTarget(url, postgres=True)
    _refuse_broken_url(raw)
    return DatabaseTarget(raw)


def choose_database(
    option: str | Path | None,
    *,
    config_url: str = "",
    config_file: str | Path = "copbot.db",
    environ: Mapping[str, str] | None = None,
) -> DatabaseTarget:
    """The repertoire a command uses: ``--db``, then the environment, then the config."""
    if option is not None and str(option):
        return parse_target(option)
    env = os.environ if environ is None else environ
    url = resolve_database_url(None, config_url or None, env)
    if url is not None:
        return DatabaseTarget(url, postgres=True)
    return DatabaseTarget(str(config_file))


def open_storage(target: DatabaseTarget | str | Path) -> RelationalRepertoire:
    """The repertoire at ``target``, opened (and migrated) with the backend it names.

    A SQLite file is created when new; a PostgreSQL database must exist (its
    tables are made on first use). Raises
    :class:`~knowledge.storage.StorageUnavailable` with a message safe to show.
    """
    target = _as_target(target)
    if not target.postgres:
        return open_repertoire(target.location)
    from knowledge.postgres.repertoire import PostgresRepertoire

    return PostgresRepertoire.connect(target.location)


def _as_target(target: DatabaseTarget | str | Path) -> DatabaseTarget:
    if isinstance(target, DatabaseTarget):
        found = target
    else:
        found = DatabaseTarget(str(target), postgres=is_postgres_url(str(target)))
    if not found.postgres:
        _refuse_broken_url(found.location)
    return found


def open_storage_read_only(target: DatabaseTarget | str | Path) -> RelationalRepertoire:
    """A connection to ``target`` that cannot write: the web view's readers.

    SQLite refuses writes with an authorizer, PostgreSQL with ``READ ONLY``
    transactions. The repertoire must exist and be migrated (open it with
    :func:`open_storage` first).
    """
    target = _as_target(target)
    if not target.postgres:
        return Repertoire.open_read_only(target.location)
    from knowledge.postgres.repertoire import PostgresRepertoire

    return PostgresRepertoire.connect_read_only(target.location)
