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

Only this package imports ``psycopg`` (a lint rule says so).
"""

from __future__ import annotations

from knowledge.postgres.connection import DatabaseUnreachable, connect, open_pool
from knowledge.postgres.documents import reindex
from knowledge.postgres.migrations import MIGRATIONS, SchemaTooNew, migrate, schema_version
from knowledge.postgres.ranking import Ranked
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
    "similar_candidates",
]
