"""The PostgreSQL backend's groundwork: connections, schema, search documents, search and ranking.

For communities that outgrow one SQLite file or run several bot processes.
Modules, by concern:

* :mod:`~knowledge.postgres.url`: which URL, and keeping its password secret;
* :mod:`~knowledge.postgres.connection`: one connection or a pool, set up for copbot;
* :mod:`~knowledge.postgres.migrations`: versioned schema steps under an advisory lock,
  with the tables in ``schema_entries``, ``schema_practice`` and ``schema_search``;
* :mod:`~knowledge.postgres.documents`: each entry's weighted ``tsvector``;
* :mod:`~knowledge.postgres.tsquery`: the search grammar compiled to a ``tsquery``;
* :mod:`~knowledge.postgres.filters`: the visibility rule and the grammar's filters in SQL;
* :mod:`~knowledge.postgres.termstats`: document counts and frequencies, bounded;
* :mod:`~knowledge.postgres.ranking` and :mod:`~knowledge.postgres.similar`: ranked search
  and similar-question candidates over bounded candidate sets.

Only this package imports ``psycopg`` (a lint rule says so), and only when a
name that needs it is used: importing :mod:`~knowledge.postgres.url` loads no driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.postgres.connection import DatabaseUnreachable, connect, open_pool
    from knowledge.postgres.documents import reindex
    from knowledge.postgres.migrations import MIGRATIONS, SchemaTooNew, migrate, schema_version
    from knowledge.postgres.ranking import Ranked, search_ranked
    from knowledge.postgres.similar import question_parts, similar_candidates
    from knowledge.postgres.tsquery import compile_tsquery
    from knowledge.postgres.url import (
        DATABASE_URL_ENV,
        DatabaseUrlError,
        InsecureDatabaseUrl,
        display_url,
        is_postgres_url,
        resolve_database_url,
    )

# Each name's module, imported on first use: the URL rules (``url``) are read by
# every command to choose a backend, and must not load psycopg for SQLite users.
_HOMES = {
    "DatabaseUnreachable": "connection",
    "connect": "connection",
    "open_pool": "connection",
    "reindex": "documents",
    "MIGRATIONS": "migrations",
    "SchemaTooNew": "migrations",
    "migrate": "migrations",
    "schema_version": "migrations",
    "Ranked": "ranking",
    "search_ranked": "ranking",
    "question_parts": "similar",
    "similar_candidates": "similar",
    "compile_tsquery": "tsquery",
    "DATABASE_URL_ENV": "url",
    "DatabaseUrlError": "url",
    "InsecureDatabaseUrl": "url",
    "display_url": "url",
    "is_postgres_url": "url",
    "resolve_database_url": "url",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)


__all__ = [
    "DATABASE_URL_ENV",
    "MIGRATIONS",
    "DatabaseUnreachable",
    "DatabaseUrlError",
    "InsecureDatabaseUrl",
    "Ranked",
    "SchemaTooNew",
    "compile_tsquery",
    "connect",
    "display_url",
    "is_postgres_url",
    "migrate",
    "open_pool",
    "question_parts",
    "reindex",
    "resolve_database_url",
    "schema_version",
    "search_ranked",
    "similar_candidates",
]
