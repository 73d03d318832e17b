"""Search documents on PostgreSQL: weighted fields, answers joined, counts kept, privacy kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from knowledge.postgres.documents import reindex
from tests.pg_support import answer, document, entry
from tests.postgres_cluster import PostgresServer

pytestmark = pytest.mark.postgres


def _weights(conn: psycopg.Connection[Any], entry_id: int) -> dict[str, set[str]]:
    """Each lexeme of the entry's document with the weight classes it appears in."""
    rows = conn.execute(
        "SELECT t.lexeme, t.weights FROM entries e, unnest(e.search_document) t WHERE e.id = %s",
        [entry_id],
    ).fetchall()
    return {str(lexeme): set(weights) for lexeme, weights in rows}


def _counts(conn: psycopg.Connection[Any], entry_id: int) -> tuple[int, bool]:
    row = conn.execute(
        "SELECT answer_count, has_accepted FROM entries WHERE id = %s", [entry_id]
    ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def test_title_tags_body_and_answers_carry_their_own_weights(
    pg_conn: psycopg.Connection[Any],
) -> None:
    question = entry(
        pg_conn,
        "Pandas merging: how do I join two frames on a column?",
        title="Pandas merging",
        tags=("dataframes",),
    )
    answer(pg_conn, question, "Pass the on argument")
    weights = _weights(pg_conn, question)
    assert weights["panda"] == {"A"} and weights["merg"] == {"A"}  # title, not repeated as body
    assert weights["datafram"] == {"B"}
    assert weights["join"] == {"C"} and weights["column"] == {"C"}
    assert weights["argument"] == {"D"}


def test_answers_have_no_document_of_their_own(pg_conn: psycopg.Connection[Any]) -> None:
    question = entry(pg_conn, "How do I cache results?")
    reply = answer(pg_conn, question, "functools lru_cache")
    row = pg_conn.execute("SELECT search_document FROM entries WHERE id = %s", [reply]).fetchone()
    assert row == (None,)
    assert "functool" in document(pg_conn, question)


def test_answer_count_and_acceptance_follow_the_thread(pg_conn: psycopg.Connection[Any]) -> None:
    question = entry(pg_conn, "Why is my build slow?")
    assert _counts(pg_conn, question) == (0, False)
    first = answer(pg_conn, question, "Turn on the cache")
    assert _counts(pg_conn, question) == (1, False)
    answer(pg_conn, question, "Use ccache")
    pg_conn.execute("UPDATE entries SET accepted = true WHERE id = %s", [first])
    # Rebuilding from the answer's id rebuilds its question.
    assert reindex(pg_conn, [first]) == 1
    assert _counts(pg_conn, question) == (2, True)


def test_a_linked_solution_joins_the_document_only_where_it_may_be_seen(
    pg_conn: psycopg.Connection[Any],
) -> None:
    public_old = entry(pg_conn, "Deploys fail with a timeout")
    answer(pg_conn, public_old, "raise the healthcheck grace period")
    private_old = entry(pg_conn, "Deploys fail again", channel="G9", visibility="private")
    answer(pg_conn, private_old, "the staging vpn password rotated")
    asked = entry(pg_conn, "My deploy times out")
    when = datetime(2026, 2, 1, tzinfo=UTC)

    pg_conn.execute(
        "INSERT INTO similar_links (question_id, entry_id, created_at) VALUES (%s, %s, %s)",
        [asked, public_old, when],
    )
    reindex(pg_conn, [asked])
    assert "healthcheck" in document(pg_conn, asked)
    assert _counts(pg_conn, asked) == (1, True)

    # A public question must not be findable by the words of a private channel's answer.
    pg_conn.execute(
        "UPDATE similar_links SET entry_id = %s WHERE question_id = %s", [private_old, asked]
    )
    reindex(pg_conn, [asked])
    assert "vpn" not in document(pg_conn, asked)
    assert _counts(pg_conn, asked) == (0, False)


def test_a_huge_thread_still_indexes(pg_conn: psycopg.Connection[Any]) -> None:
    # PostgreSQL refuses a tsvector over 1 MB; a thread's answers are cut well before.
    question = entry(pg_conn, "Paste your logs here")
    words = " ".join(f"token{i}" for i in range(40_000))
    for _ in range(3):
        answer(pg_conn, question, words, index=False)
    assert reindex(pg_conn, [question]) == 1
    assert "token1" in document(pg_conn, question)


def test_a_failed_statement_in_a_deferred_rebuild_surfaces_as_itself(pg_dsn: str) -> None:
    """A failed statement aborts PostgreSQL's transaction: the deferred rebuild must not run
    then, or its own "transaction is aborted" error hides the one that explains (a restore's
    bad row, a capture's constraint)."""
    from knowledge.postgres.repertoire import PostgresRepertoire

    repertoire = PostgresRepertoire.connect(pg_dsn)
    try:
        with (
            pytest.raises(psycopg.errors.UndefinedTable),
            repertoire.transaction(),
            repertoire.deferred_reindex(),
        ):
            repertoire.reindex(1)  # something to rebuild at the end
            repertoire.sql.execute("SELECT * FROM no_such_table")
        assert repertoire.flush_reindex() == 0  # nothing left pending for a later block
    finally:
        repertoire.close()


def test_a_session_the_server_ended_is_replaced_before_the_next_unit_of_work(
    pg_dsn: str, postgres_server: PostgresServer
) -> None:
    """A long-running bot outlives its session (a server restart, a failover): the unit of
    work that found it gone fails, the next one runs on a new session."""
    from knowledge.postgres.repertoire import PostgresRepertoire

    repertoire = PostgresRepertoire.connect(pg_dsn)
    try:
        pid = repertoire.conn.info.backend_pid
        with postgres_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError), repertoire.transaction():
            repertoire.set_meta("probe", "lost")
        with repertoire.transaction():
            repertoire.set_meta("probe", "kept")
        assert repertoire.get_meta("probe") == "kept"
        assert repertoire.conn.info.backend_pid != pid
    finally:
        repertoire.close()
