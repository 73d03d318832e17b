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

# Nothing is imported here: each name is used from its module
# (``from knowledge.postgres.url import ...``), so choosing a backend by URL
# loads no driver, and SQLite users never import psycopg.
__all__ = [
    "bm25",
    "connection",
    "documents",
    "filters",
    "migrations",
    "params",
    "ranking",
    "repertoire",
    "schema_entries",
    "schema_practice",
    "schema_privacy",
    "schema_search",
    "schema_web",
    "similar",
    "sql",
    "termstats",
    "text_search",
    "tsquery",
    "url",
]
