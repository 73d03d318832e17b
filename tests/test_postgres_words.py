"""Words on PostgreSQL split where FTS5's unicode61 splits them, in old documents too."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from knowledge.postgres.migrations import MIGRATIONS, migrate
from tests.pg_support import entry

pytestmark = pytest.mark.postgres


def lexemes(conn: psycopg.Connection[Any], entry_id: int) -> set[str]:
    row = conn.execute(
        "SELECT tsvector_to_array(search_document) FROM entries WHERE id = %s", [entry_id]
    ).fetchone()
    assert row is not None
    return set(row[0])


def test_punctuation_inside_a_token_splits_words(pg_conn: psycopg.Connection[Any]) -> None:
    made = entry(pg_conn, "Load big.csv from csv/parquet at https://ex.com/a-b with multi-stage")
    # PostgreSQL's parser alone keeps "big.csv", "csv/parquet", the URL and
    # "multi-stage" as tokens of their own; FTS5 sees words.
    assert {"big", "csv", "parquet", "ex", "com", "multi", "stage"} <= lexemes(pg_conn, made)
    assert not {"big.csv", "csv/parquet", "multi-stag"} & lexemes(pg_conn, made)


def test_the_migration_rebuilds_documents_made_before_it(pg_empty_dsn: str) -> None:
    before = [m for m in MIGRATIONS if m.version < 9]
    with psycopg.connect(pg_empty_dsn, autocommit=True) as conn:
        migrate(conn, before)
        made = entry(conn, "old", index=False)
        conn.execute(
            "UPDATE entries SET search_document = to_tsvector('copbot', 'read big.csv') "
            "WHERE id = %s",
            [made],
        )
        assert "csv" not in lexemes(conn, made)
        assert migrate(conn) == [v for v in (m.version for m in MIGRATIONS) if v >= 9]
        # Rebuilt from the entry's own text ("old"), the way documents are built now.
        assert lexemes(conn, made) == {"old"}
