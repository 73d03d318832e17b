"""The PostgreSQL test fixture: a real server, a fresh database per test, loud under CI."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from knowledge.postgres.migrations import MIGRATIONS, schema_version
from tests import postgres_cluster
from tests.postgres_cluster import PostgresServer

pytestmark = pytest.mark.postgres


def test_each_test_gets_a_migrated_database_of_its_own(
    pg_conn: psycopg.Connection[Any], postgres_template: str
) -> None:
    name = pg_conn.execute("SELECT current_database()").fetchone()
    assert name is not None and name[0] != postgres_template
    assert schema_version(pg_conn) == max(m.version for m in MIGRATIONS)
    # Nothing another test wrote is here: the copy starts empty.
    assert pg_conn.execute("SELECT count(*) FROM entries").fetchone() == (0,)


def test_a_database_is_dropped_after_its_test(postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    postgres_server.drop_database(name)
    with postgres_server.admin() as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    assert found is None


def test_the_throwaway_server_has_no_tcp_port(postgres_server: PostgresServer) -> None:
    if os.environ.get(postgres_cluster.TEST_URL_ENV):
        pytest.skip("a given server listens where its owner chose")
    with postgres_server.admin() as conn:
        row = conn.execute("SHOW listen_addresses").fetchone()
        assert row == ("",)
        user = conn.execute("SELECT current_user").fetchone()
    assert user == ("postgres",)


def test_the_postgres_marker_is_added_to_tests_that_use_the_server(
    request: pytest.FixtureRequest, postgres_server: PostgresServer
) -> None:
    assert request.node.get_closest_marker("postgres") is not None


def test_postgres_marker_follows_the_fixtures() -> None:
    class Item:
        def __init__(self, names: list[str]) -> None:
            self.fixturenames = names
            self.markers: list[str] = []

        def add_marker(self, marker: str) -> None:
            self.markers.append(marker)

    uses, plain = Item(["tmp_path", "pg_dsn"]), Item(["tmp_path"])
    postgres_cluster.mark_postgres_tests([uses, plain])
    assert uses.markers == ["postgres"] and plain.markers == []


def test_a_missing_server_skips_on_a_laptop_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        postgres_cluster.unavailable("PostgreSQL is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot be skipped under CI"):
        postgres_cluster.unavailable("PostgreSQL is not installed")


def test_the_server_binaries_are_found_where_debian_puts_them() -> None:
    found = postgres_cluster.server_binaries()
    if found is None:
        pytest.skip("no PostgreSQL binaries on this machine")
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()


def test_rows_of_one_test_are_gone_in_the_next(pg_conn: psycopg.Connection[Any]) -> None:
    # Collected twice (the alias below): the second run would see the first one's rows.
    assert pg_conn.execute("SELECT count(*) FROM members").fetchone() == (0,)
    pg_conn.execute(
        "INSERT INTO members (platform, workspace, user_id, created_at) "
        "VALUES ('test', 'W1', 'u1', now())"
    )
    pg_conn.commit()


test_rows_of_one_test_are_gone_in_the_next_again = test_rows_of_one_test_are_gone_in_the_next
