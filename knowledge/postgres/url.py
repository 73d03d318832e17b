"""Where the PostgreSQL repertoire is: the URL, which is a secret when it holds a password.

A ``postgresql://user:password@host/db`` URL may come from three places, in
this order: the ``--db`` option, the ``COPBOT_DATABASE_URL`` environment
variable, the ``[storage] url`` key of the config file. A password is only
accepted from the environment: on the command line it shows in the process
list and the shell's history, in a config file it ends up in backups and
repositories. A URL with a password elsewhere is refused with
:class:`InsecureDatabaseUrl` (a :class:`DatabaseUrlError`), whose message
says where to put it instead (and never repeats the password).
:func:`display_url` is the form to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "DATABASE_URL_ENV",
    "SCHEMES",
    "DatabaseUrlError",
    "InsecureDatabaseUrl",
    "display_url",
    "has_password",
    "is_postgres_url",
    "resolve_database_url",
    "server_identity",
]

#: The environment variable that may hold a URL with a password.
DATABASE_URL_ENV = "COPBOT_DATABASE_URL"
SCHEMES = ("postgresql", "postgres")
_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=", re.IGNORECASE)


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message says why and what to do."""


class InsecureDatabaseUrl(DatabaseUrlError):
    """A URL with a password came from somewhere other than the environment."""


def is_postgres_url(text: str) -> bool:
    """``True`` for ``postgresql://...`` or ``postgres://...`` (what selects this backend)."""
    scheme, sep, _ = text.strip().partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


def has_password(url: str) -> bool:
    """Whether ``url`` carries a password: in its user part or a ``password=`` parameter.

    A libpq keyword string (``host=... password=...``) counts too.
    """
    if not is_postgres_url(url):
        return bool(_KEYWORD_PASSWORD.search(url))
    parts = urlsplit(url)
    if parts.password:
        return True
    return any(key.lower() == "password" and value for key, value in _query(parts.query))


def _query(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def display_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}"
    query = urlencode(
        [(k, "***" if k.lower() == "password" else v) for k, v in _query(parts.query)],
        safe="/*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def server_identity(url: str) -> str:
    """The server and database ``url`` names, however it is spelled: ``host:port/dbname``.

    Without the user, password and options, and with libpq's defaults filled in
    (``localhost``, 5432, the user's name for the database): two spellings of one
    database (a password in the URL or in ``PGPASSWORD``, ``:5432`` or not,
    ``?sslmode=``) give the same identity, so what copbot keeps beside a server's
    repertoire (the terminal chat's transcript) is found again by every command.
    """
    parts = urlsplit(url.strip())
    params = {key.lower(): value for key, value in _query(parts.query)}
    try:
        port = str(parts.port or "")
    except ValueError:  # not a number: libpq will refuse it; keep it as spelled
        port = parts.netloc.rpartition(":")[2]
    host = params.get("host") or parts.hostname or "localhost"
    user = params.get("user") or parts.username or ""
    database = params.get("dbname") or parts.path.lstrip("/") or user
    return f"{host.lower()}:{params.get('port') or port or '5432'}/{database}"


def resolve_database_url(
    option: str | None, config: str | None, environ: Mapping[str, str]
) -> str | None:
    """The PostgreSQL URL to use, or ``None`` when none is given (SQLite then).

    ``option`` is ``--db`` (which may also name a SQLite file: then ``None``),
    ``config`` the ``[storage] url`` key. The first one given wins.
    """
    if option and is_postgres_url(option):
        if has_password(option):
            raise InsecureDatabaseUrl(
                f"--db {display_url(option)} carries a password, which the process list and "
                f"your shell history would show: set {DATABASE_URL_ENV} instead"
            )
        return option.strip()
    if option:
        return None
    from_env = environ.get(DATABASE_URL_ENV, "").strip()
    if from_env:
        if not is_postgres_url(from_env):
            raise DatabaseUrlError(
                f"{DATABASE_URL_ENV} must be a postgresql:// URL (a SQLite file is named with --db)"
            )
        return from_env
    if config and is_postgres_url(config):
        if has_password(config):
            raise InsecureDatabaseUrl(
                f"[storage] url {display_url(config)} carries a password, and secrets do not "
                f"belong in the config file: set {DATABASE_URL_ENV} instead"
            )
        return config.strip()
    return None
