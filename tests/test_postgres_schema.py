"""The PostgreSQL schema: versioned migrations under a lock, the SQLite schema's twin, its keys."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import errors
from sqlite_utils import Database

from knowledge.postgres.migrations import MIGRATIONS, Migration, SchemaTooNew, migrate
from knowledge.sqlite.migrations import migrate as migrate_sqlite
from tests import pg_support

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _versions(conn: psycopg.Connection[Any]) -> list[int]:
    return [int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]


def test_migrate_applies_every_step_once(pg_empty_dsn: str) -> None:
    with psycopg.connect(pg_empty_dsn, autocommit=True) as conn:
        assert migrate(conn) == [m.version for m in MIGRATIONS]
        assert migrate(conn) == []
        assert _versions(conn) == [m.version for m in MIGRATIONS]


def test_two_processes_migrating_at_once_apply_each_step_once(pg_empty_dsn: str) -> None:
    # The step sleeps between starting and creating its table: without the lock
    # both would run it, and the second CREATE TABLE would fail.
    steps = (Migration(1, "slow", ("SELECT pg_sleep(0.3)", "CREATE TABLE slow (x int)")),)
    barrier = threading.Barrier(2)
    applied: list[list[int]] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(pg_empty_dsn, autocommit=True) as conn:
                barrier.wait()
                applied.append(migrate(conn, steps))
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(applied) == [[], [1]]


def test_a_failing_step_leaves_nothing_half_made(pg_empty_dsn: str) -> None:
    good = Migration(1, "a", ("CREATE TABLE a (x int)",))
    bad = Migration(2, "b", ("CREATE TABLE b (x int)", "SELECT 1 / 0"))
    with psycopg.connect(pg_empty_dsn, autocommit=True) as conn:
        with pytest.raises(errors.DivisionByZero):
            migrate(conn, (good, bad))
        assert _versions(conn) == [1]
        assert conn.execute("SELECT to_regclass('b')").fetchone() == (None,)
        fixed = Migration(2, "b", ("CREATE TABLE b (x int)",))
        assert migrate(conn, (good, fixed)) == [2]


def test_a_database_from_a_newer_copbot_is_refused(pg_fresh_dsn: str) -> None:
    with psycopg.connect(pg_fresh_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
        with pytest.raises(SchemaTooNew, match="999"):
            migrate(conn)


def test_migrate_refuses_a_connection_inside_a_transaction(
    pg_conn: psycopg.Connection[Any],
) -> None:
    pg_conn.execute("SELECT 1")  # autocommit is off: a transaction is now open
    with pytest.raises(ValueError, match="outside any transaction"):
        migrate(pg_conn)


# SQLite-only machinery with no table to mirror: the FTS5 index and its shadow tables
# (a tsvector column on entries here), the vocabulary view, sqlite-utils' own log.
SQLITE_ONLY = ("search_fts", "search_vocab", "_sqlite_migrations", "sqlite_")
RENAMED = {"similar_df": "term_stats"}


def test_every_sqlite_table_and_column_has_its_postgres_twin(
    pg_conn: psycopg.Connection[Any],
) -> None:
    db = Database(sqlite3.connect(":memory:"))
    migrate_sqlite(db)
    postgres: dict[str, set[str]] = {}
    for table, column in pg_conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    ):
        postgres.setdefault(str(table), set()).add(str(column))
    for table in db.table_names():
        if table.startswith(SQLITE_ONLY):
            continue
        twin = RENAMED.get(table, table)
        assert twin in postgres, f"no PostgreSQL table for SQLite's {table}"
        assert set(db[table].columns_dict) <= postgres[twin], table


def _insert_twice(conn: psycopg.Connection[Any], statement: str, params: list[Any]) -> int:
    """Run ``statement`` twice; how many of the two inserted a row."""
    inserted = 0
    for _ in range(2):
        inserted += conn.execute(statement + " ON CONFLICT DO NOTHING", params).rowcount
    return inserted


def test_the_message_key_makes_one_entry_per_kind(pg_conn: psycopg.Connection[Any]) -> None:
    author = pg_support.member(pg_conn, "alice")
    statement = (
        "INSERT INTO entries (kind, platform, workspace, channel, message_id, text, author_id, "
        "created_at, updated_at, visibility) VALUES (%s, 'slack', 'T1', 'C1', '171.5', 'hi', "
        "%s, %s, %s, 'public')"
    )
    assert _insert_twice(pg_conn, statement, ["question", author, NOW, NOW]) == 1
    # The same message may be both a question and saved know-how.
    assert _insert_twice(pg_conn, statement, ["knowhow", author, NOW, NOW]) == 1
    with pytest.raises(errors.UniqueViolation, match="entries_message_key"):
        pg_conn.execute(statement, ["question", author, NOW, NOW])


def test_an_event_id_is_processed_once(pg_conn: psycopg.Connection[Any]) -> None:
    statement = "INSERT INTO processed_events (platform, event_id, seen_at) VALUES (%s, %s, %s)"
    assert _insert_twice(pg_conn, statement, ["slack", "Ev1", NOW]) == 1
    assert _insert_twice(pg_conn, statement, ["discord", "Ev1", NOW]) == 1


def test_a_digest_period_is_claimed_once_per_channel(pg_conn: psycopg.Connection[Any]) -> None:
    statement = (
        "INSERT INTO digest_log (channel, period_start, period_end, status, claimed_at) "
        "VALUES (%s, %s, %s, 'claimed', %s)"
    )
    later = datetime(2026, 6, 8, tzinfo=UTC)
    assert _insert_twice(pg_conn, statement, ["C1", NOW, later, NOW]) == 1
    assert _insert_twice(pg_conn, statement, ["C2", NOW, later, NOW]) == 1
    with pytest.raises(errors.UniqueViolation, match="digest_log_claim"):
        pg_conn.execute(statement, ["C1", NOW, later, NOW])


def test_a_thank_you_without_entry_counts_once(pg_conn: psycopg.Connection[Any]) -> None:
    giver, receiver = pg_support.member(pg_conn, "ann"), pg_support.member(pg_conn, "bob")
    statement = (
        "INSERT INTO thanks (giver_id, receiver_id, entry_id, via, platform, workspace, "
        "channel, visibility, created_at) VALUES (%s, %s, NULL, 'command', 'slack', 'T1', 'C1', "
        "'public', %s)"
    )
    # NULL never equals NULL in a plain unique key: the index is on coalesce(entry_id, 0).
    assert _insert_twice(pg_conn, statement, [giver, receiver, NOW]) == 1


def test_the_copbot_configuration_folds_accents_and_stems_without_stop_words(
    pg_conn: psycopg.Connection[Any],
) -> None:
    row = pg_conn.execute(
        "SELECT tsvector_to_array(to_tsvector('copbot', 'Café CACHING naïve how to'))"
    ).fetchone()
    assert row is not None
    assert set(row[0]) == {"cafe", "cach", "naiv", "how", "to"}


def test_copbot_fold_is_immutable_so_it_can_be_indexed(pg_fresh_dsn: str) -> None:
    with psycopg.connect(pg_fresh_dsn) as conn:
        conn.execute("CREATE INDEX members_folded ON members (copbot_fold(display_name))")
        pg_support.member(conn, "jose", display_name="José GARCÍA")
        row = conn.execute(
            "SELECT user_id FROM members WHERE copbot_fold(display_name) = 'jose garcia'"
        ).fetchone()
    assert row == ("jose",)
