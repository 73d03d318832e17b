"""On PostgreSQL too, an entry's visibility is its channel's, kept by triggers."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.pg_support import entry

pytestmark = pytest.mark.postgres


def _visibilities(conn: psycopg.Connection[Any]) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT visibility FROM entries").fetchall()}


def _channel(conn: psycopg.Connection[Any], visibility: str) -> None:
    conn.execute(
        "INSERT INTO channels (platform, workspace, channel, name, visibility) "
        "VALUES ('test', 'W1', 'C1', 'help', %s) ON CONFLICT (platform, workspace, channel) "
        "DO UPDATE SET visibility = excluded.visibility",
        [visibility],
    )


def test_a_channel_made_private_takes_its_entries_along(pg_conn: psycopg.Connection[Any]) -> None:
    _channel(pg_conn, "public")
    question = entry(pg_conn, "How do I rotate the keys?")
    entry(pg_conn, "With the vault job", kind="answer", thread=f"m{question}", index=False)
    _channel(pg_conn, "private")
    assert _visibilities(pg_conn) == {"private"}
    # A new entry said as if public (a stale claim) takes the channel's visibility.
    entry(pg_conn, "How do I rotate them faster?", visibility="public")
    assert _visibilities(pg_conn) == {"private"}
    _channel(pg_conn, "public")
    assert _visibilities(pg_conn) == {"public"}


def test_an_entry_cannot_be_made_to_differ_from_its_channel(
    pg_conn: psycopg.Connection[Any],
) -> None:
    _channel(pg_conn, "private")
    entry(pg_conn, "How do I rotate the keys?")
    with pytest.raises(psycopg.errors.RaiseException, match="follows its channel"):
        pg_conn.execute("UPDATE entries SET visibility = 'public'")
