"""Contract: the shared relational code on every backend, through the one :class:`Sql` connection.

The claim log (digests and follow-ups) is written once in portable SQL; here it
runs on SQLite and on a real PostgreSQL (``postgres`` marker) and must behave
the same. This is the seam the whole repertoire moves onto.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from knowledge.channels import ChannelBook
from knowledge.models import ChannelRef
from knowledge.postgres.sql import PostgresSql, to_psycopg
from knowledge.relational.digest_log import DigestLog
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import Sql
from tests.contract.support import T0

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
WEEK = timedelta(days=7)


@pytest.fixture(params=SQL_BACKENDS)
def sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sql]:
    if request.param == "sqlite":
        repertoire = Repertoire.open(tmp_path / "sql.db")
        yield repertoire.sql
        repertoire.close()
        return
    conn = request.getfixturevalue("pg_conn")  # a migrated, empty database on the real server
    yield PostgresSql(conn)
    conn.rollback()


def test_placeholders_become_psycopgs_and_quoted_text_is_left_alone() -> None:
    assert to_psycopg("SELECT id FROM t WHERE a = ? AND b = ?") == (
        "SELECT id FROM t WHERE a = %s AND b = %s"
    )
    assert to_psycopg("SELECT '?', \"odd?col\" FROM t WHERE x LIKE ?") == (
        "SELECT '?', \"odd?col\" FROM t WHERE x LIKE %s"
    )
    assert to_psycopg("SELECT 'it''s ?' WHERE 5 % 2 = ?") == "SELECT 'it''s ?' WHERE 5 %% 2 = %s"


def test_the_connection_runs_the_same_statements(sql: Sql) -> None:
    assert sql.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ["k1", "one"]) == 1
    assert (
        sql.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", ["k1", "again"]
        )
        == 0
    )
    assert sql.one("SELECT value FROM meta WHERE key = ?", ["k1"]) == ("one",)
    assert sql.one("SELECT value FROM meta WHERE key = ?", ["nope"]) is None
    sql.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ["k2", "50%"])
    assert sql.rows(
        "SELECT key, value FROM meta WHERE key IN (?, ?) AND value LIKE '%' ORDER BY key",
        ["k1", "k2"],
    ) == [
        ("k1", "one"),
        ("k2", "50%"),
    ]
    first = sql.insert(
        "INSERT INTO digest_log (channel, period_start, period_end, status, claimed_at) "
        "VALUES (?, ?, ?, 'claimed', ?)",
        [
            "slack:C1",
            "2026-03-02T09:00:00.000000Z",
            "2026-03-09T09:00:00.000000Z",
            "2026-03-09T09:00:00.000000Z",
        ],
    )
    assert sql.one("SELECT channel FROM digest_log WHERE id = ?", [first]) == ("slack:C1",)
    # Times come back in the one text form on every backend (timestamptz on PostgreSQL).
    assert sql.rows("SELECT period_start, posted_at FROM digest_log WHERE id = ?", [first]) == [
        ("2026-03-02T09:00:00.000000Z", None)
    ]


def test_a_digest_period_is_claimed_once_and_retried_only_after_a_failure(sql: Sql) -> None:
    log = DigestLog(sql)
    start, end = T0, T0 + WEEK
    run = log.claim("slack:C-help", start, end, T0)
    assert run is not None
    assert log.claim("slack:C-help", start, end, T0) is None  # a race or a restart
    other = log.claim("slack:C-data", start, end, T0)
    assert other is not None and other != run
    log.mark(run, "failed", T0)
    assert log.claim("slack:C-help", start, end, T0 + timedelta(minutes=5)) == run
    log.mark(run, "posted", T0 + timedelta(minutes=6), "msg-7")
    found = log.find("slack:C-help", start, end)
    assert found is not None
    assert (found.status, found.message_id, found.period_start, found.period_end) == (
        "posted",
        "msg-7",
        start,
        end,
    )
    assert found.posted_at == T0 + timedelta(minutes=6)
    assert log.find("slack:C-help", start, end + WEEK) is None
    assert [r.channel for r in log.runs()] == ["slack:C-help", "slack:C-data"]  # same period: by id
    assert [r.id for r in log.runs("slack:C-data")] == [other]


def test_a_question_gets_one_follow_up_unless_it_failed(sql: Sql) -> None:
    log = DigestLog(sql)
    assert log.claim_follow_up(41, "slack:#help", T0)
    assert not log.claim_follow_up(41, "slack:#help", T0)
    assert log.claim_follow_up(42, "slack:#help", T0)
    log.mark_follow_up(42, "failed", T0)
    assert log.followed_up() == {41}
    assert log.claim_follow_up(42, "slack:#help", T0 + timedelta(hours=1))
    log.mark_follow_up(41, "posted", T0, "reply-1")
    assert log.followed_up() == {41, 42}


def test_the_channel_book_keeps_the_most_private_claim_and_capture_stops(sql: Sql) -> None:
    book = ChannelBook(sql)
    help_ = ChannelRef("slack", "T1", "C-help")
    assert book.state(help_) is None
    assert not book.claim(help_, "help", "public", at=T0)  # a new channel: nothing changed
    assert not book.claim(help_, "help", "public", at=T0 + timedelta(minutes=1))
    assert book.claim(help_, "", "private", at=T0 + timedelta(minutes=2))  # no name: kept
    book.forget()  # read back from the database, not from memory
    state = book.state(help_)
    assert state is not None and (state.name, state.visibility) == ("help", "private")
    # An older, non-authoritative "public" does not undo a later "private".
    assert not book.claim(help_, "help", "public", at=T0, authoritative=False)
    assert not book.capture_stopped(help_)
    book.set_capture_stopped(help_, True)
    book.forget()
    assert book.capture_stopped(help_)
