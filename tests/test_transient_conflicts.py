"""Which database errors are worth running again, told apart at the storage level.

The core retries an event when another writer was in the way and reports
anything else. The errors here are the drivers' own, raised by real SQLite
files and a real PostgreSQL server, not built by hand (except the one the
group-commit test raises, which carries no code).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from knowledge.storage.errors import is_transient_conflict


def _caught(run: Callable[[], object]) -> BaseException:
    try:
        run()
    except Exception as exc:
        return exc
    raise AssertionError("the statement did not fail")


@pytest.fixture
def two_sqlite_connections(
    tmp_path: Path,
) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
    path = tmp_path / "locks.db"
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    first.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    yield first, second
    first.close()
    second.close()


def test_sqlite_another_writer_holding_the_lock_is_transient(
    two_sqlite_connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    first, second = two_sqlite_connections
    first.execute("BEGIN IMMEDIATE")
    locked = _caught(lambda: second.execute("BEGIN IMMEDIATE"))
    assert isinstance(locked, sqlite3.OperationalError)
    assert is_transient_conflict(locked)


def test_sqlite_errors_that_a_retry_cannot_fix_are_not_transient(
    two_sqlite_connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    first, _ = two_sqlite_connections
    first.execute("INSERT INTO t (id) VALUES (1)")
    duplicate = _caught(lambda: first.execute("INSERT INTO t (id) VALUES (1)"))
    missing = _caught(lambda: first.execute("SELECT * FROM no_such_table"))
    assert isinstance(duplicate, sqlite3.IntegrityError)
    assert isinstance(missing, sqlite3.OperationalError)
    assert not is_transient_conflict(duplicate)
    assert not is_transient_conflict(missing)


def test_an_sqlite_lock_error_without_a_code_is_judged_by_its_words() -> None:
    assert is_transient_conflict(sqlite3.OperationalError("database is locked"))
    assert not is_transient_conflict(sqlite3.OperationalError("disk I/O error"))
    # Words alone are not enough: only SQLite's own error class is read that way.
    assert not is_transient_conflict(RuntimeError("database is locked"))


def test_postgres_a_lock_another_session_holds_is_transient(pg_dsn: str) -> None:
    with (
        psycopg.connect(pg_dsn) as holder,
        psycopg.connect(pg_dsn) as waiter,
    ):
        holder.execute("INSERT INTO meta (key, value) VALUES ('lock-test', 'x')")
        holder.commit()
        holder.execute("SELECT value FROM meta WHERE key = 'lock-test' FOR UPDATE")
        refused = _caught(
            lambda: waiter.execute(
                "SELECT value FROM meta WHERE key = 'lock-test' FOR UPDATE NOWAIT"
            )
        )
        assert isinstance(refused, psycopg.errors.LockNotAvailable)
        assert is_transient_conflict(refused)
        waiter.rollback()
        holder.rollback()


def test_postgres_a_broken_constraint_is_not_transient(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('twice', 'x')")
        duplicate = _caught(
            lambda: conn.execute("INSERT INTO meta (key, value) VALUES ('twice', 'y')")
        )
        assert isinstance(duplicate, psycopg.errors.UniqueViolation)
        assert not is_transient_conflict(duplicate)
        conn.rollback()
