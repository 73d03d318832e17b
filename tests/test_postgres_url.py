"""Which PostgreSQL URL is used, its password kept secret, and connections that fail clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knowledge.postgres.connection import DatabaseUnreachable, connect, open_pool
from knowledge.postgres.url import (
    DATABASE_URL_ENV,
    DatabaseUrlError,
    InsecureDatabaseUrl,
    display_url,
    has_password,
    resolve_database_url,
    server_identity,
)

WITH_PASSWORD = "postgresql://copbot:hunter22@db.example:5432/copbot"
WITHOUT = "postgresql://copbot@db.example/copbot"


def test_a_password_is_recognised_wherever_libpq_reads_one() -> None:
    assert has_password(WITH_PASSWORD)
    assert has_password("postgres://db.example/copbot?sslmode=require&password=hunter22")
    assert has_password("host=db.example password=hunter22")
    assert not has_password(WITHOUT)
    assert not has_password("host=db.example user=copbot")


def test_display_url_hides_the_password_only() -> None:
    assert display_url(WITH_PASSWORD) == "postgresql://copbot:***@db.example:5432/copbot"
    shown = display_url("postgresql://db/c?password=hunter22&sslmode=require")
    assert shown == "postgresql://db/c?password=***&sslmode=require"
    assert display_url(WITHOUT) == WITHOUT


def test_one_database_spelled_several_ways_is_one_server_identity() -> None:
    spellings = [
        WITH_PASSWORD,
        WITHOUT,
        "postgres://other-user@DB.example:5432/copbot?sslmode=require&application_name=x",
        "postgresql:///copbot?host=db.example&port=5432",
    ]
    assert {server_identity(url) for url in spellings} == {"db.example:5432/copbot"}
    assert server_identity("postgresql://copbot@/?host=/run/pg") == "/run/pg:5432/copbot"
    others = ["postgresql://copbot@db.example/other", "postgresql://copbot@db.example:6432/copbot"]
    assert {server_identity(url) for url in others} == {
        "db.example:5432/other",
        "db.example:6432/copbot",
    }
    assert "hunter22" not in server_identity(WITH_PASSWORD)


def test_the_option_wins_then_the_environment_then_the_config() -> None:
    env = {DATABASE_URL_ENV: WITH_PASSWORD}
    assert resolve_database_url(WITHOUT, None, env) == WITHOUT
    assert resolve_database_url(None, "postgresql://other/db", env) == WITH_PASSWORD
    assert resolve_database_url(None, "postgresql://other/db", {}) == "postgresql://other/db"
    # --db naming a SQLite file: not PostgreSQL, whatever the environment says.
    assert resolve_database_url("copbot.db", None, env) is None
    assert resolve_database_url(None, None, {}) is None


@pytest.mark.parametrize("where", ["option", "config"])
def test_a_password_outside_the_environment_is_refused_without_repeating_it(where: str) -> None:
    option, config = (WITH_PASSWORD, None) if where == "option" else (None, WITH_PASSWORD)
    with pytest.raises(InsecureDatabaseUrl) as raised:
        resolve_database_url(option, config, {})
    message = str(raised.value)
    assert DATABASE_URL_ENV in message and "hunter22" not in message
    assert "copbot:***@db.example" in message


def test_the_environment_must_hold_a_postgres_url() -> None:
    with pytest.raises(DatabaseUrlError, match="postgresql://"):
        resolve_database_url(None, None, {DATABASE_URL_ENV: "copbot.db"})


@pytest.mark.postgres
def test_a_connection_talks_utc(pg_dsn: str) -> None:
    with connect(pg_dsn) as conn:
        row = conn.execute("SELECT '2026-06-01 12:00:00+02'::timestamptz").fetchone()
        # No parallel workers for copbot's small index queries (they cost more than they give).
        assert conn.execute("SHOW max_parallel_workers_per_gather").fetchone() == ("0",)
    assert row is not None
    assert row[0] == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert row[0].utcoffset() == timedelta(0)  # UTC itself, not merely the same instant


@pytest.mark.postgres
def test_a_pool_hands_out_connections_set_up_like_one(pg_dsn: str) -> None:
    with open_pool(pg_dsn, min_size=1, max_size=2) as pool, pool.connection() as conn:
        assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)
        assert conn.execute("SHOW application_name").fetchone() == ("copbot",)
        assert conn.execute("SHOW max_parallel_workers_per_gather").fetchone() == ("0",)


def test_an_unreachable_server_is_one_clear_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://copbot:hunter22@/copbot?host={tmp_path}"  # no server on that socket
    for attempt in (connect, open_pool):
        with pytest.raises(DatabaseUnreachable) as raised:
            attempt(url)
        message = str(raised.value)
        assert message.startswith("cannot connect to postgresql://copbot:***@/copbot")
        assert "hunter22" not in message and "No such file" in message


def test_a_malformed_url_names_the_problem_but_not_the_password() -> None:
    with pytest.raises(DatabaseUnreachable, match="not a valid PostgreSQL URL: invalid URI"):
        connect("postgresql://copbot@db/copbot?bogus=1")
    with pytest.raises(DatabaseUnreachable) as raised:
        connect("postgresql://copbot:hunter22@db/copbot?bogus=1")
    assert "hunter22" not in str(raised.value)
