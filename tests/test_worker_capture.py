"""Two workers writing one PostgreSQL at once: the database's keys decide, nothing fails.

Each test opens two repertoires (two processes' sessions) on one database.
The first writes inside a transaction it has not committed; the second writes
the same thing from a thread and must wait on the unique key (seen in the
server's lock table, not guessed with a sleep), then find the row the first
committed: one row, and no error for the event that came second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import psycopg
import pytest

from knowledge.models import ChannelRef, EntryKind, NewEntry, SourceKey
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.sqlite.database import is_lock_error
from knowledge.storage import EntryFilter, Viewer

pytestmark = pytest.mark.workers

T = TypeVar("T")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HELP = ChannelRef("slack", "T1", "C-help")


@pytest.fixture
def two(pg_dsn: str) -> Iterator[tuple[PostgresRepertoire, PostgresRepertoire]]:
    first, second = PostgresRepertoire.connect(pg_dsn), PostgresRepertoire.connect(pg_dsn)
    yield first, second
    first.close()
    second.close()


class Blocked:
    """``fn()`` on a thread; ``result()`` once it returned (or raised)."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.value: object = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[[], object]) -> None:
        try:
            self.value = fn()
        except BaseException as exc:  # handed to the test
            self.error = exc

    def result(self) -> object:
        self.thread.join(10)
        assert not self.thread.is_alive(), "the second worker never finished"
        if self.error is not None:
            raise self.error
        return self.value


def wait_until_blocked(pg_dsn: str, blocked: Blocked) -> None:
    """Until a session waits on a lock (the second worker on the first one's key)."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for _ in range(500):
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            if row and int(row[0]) > 0:
                return
            assert blocked.thread.is_alive(), f"it did not wait: {blocked.error or blocked.value}"
            conn.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("the second worker never waited on the first one's row")


def race(
    pg_dsn: str,
    first: PostgresRepertoire,
    second: PostgresRepertoire,
    write: Callable[[PostgresRepertoire], T],
) -> tuple[T, object]:
    """``write`` by the first worker (uncommitted), then by the second, then commit."""
    with first.transaction():
        mine = write(first)
        theirs = Blocked(lambda: write(second))
        wait_until_blocked(pg_dsn, theirs)
    return mine, theirs.result()


def question(author: int, message_id: str = "1700.01") -> NewEntry:
    return NewEntry(
        kind=EntryKind.QUESTION,
        source=SourceKey("slack", "T1", "C-help", message_id),
        text="How do I rotate the API keys?",
        author_id=author,
        created_at=T0,
        visibility="public",
        title="How do I rotate the API keys?",
        channel_name="help",
    )


def test_the_same_message_saved_by_two_workers_is_one_entry(
    pg_dsn: str, two: tuple[PostgresRepertoire, PostgresRepertoire]
) -> None:
    first, second = two
    author = first.upsert_member("slack", "T1", "U1", "Ana", at=T0)
    (mine, created), theirs = race(pg_dsn, first, second, lambda r: r.save_entry(question(author)))
    assert created is True
    assert theirs == (mine, False)  # the second found the first's entry, without an error
    everything = Viewer.operator_including_private()
    assert [e.id for e in first.entries(everything, EntryFilter())] == [mine]


def test_a_new_member_seen_by_two_workers_at_once_is_one_member(
    pg_dsn: str, two: tuple[PostgresRepertoire, PostgresRepertoire]
) -> None:
    first, second = two
    mine, theirs = race(
        pg_dsn, first, second, lambda r: r.upsert_member("slack", "T1", "U7", "Bo", at=T0)
    )
    assert theirs == mine
    assert [m.id for m in first.find_members("U7")] == [mine]


def test_an_event_id_is_handled_by_one_worker_and_not_lost_when_that_one_fails(
    pg_dsn: str, two: tuple[PostgresRepertoire, PostgresRepertoire]
) -> None:
    first, second = two
    mine, theirs = race(pg_dsn, first, second, lambda r: r.mark_event_seen("slack", "Ev1", T0))
    assert (mine, theirs) == (True, False)
    # A worker that fails mid-event rolls its mark back: the other one handles the event.
    with pytest.raises(RuntimeError), first.transaction():
        assert first.mark_event_seen("slack", "Ev2", T0)
        theirs_now = Blocked(lambda: second.mark_event_seen("slack", "Ev2", T0))
        wait_until_blocked(pg_dsn, theirs_now)
        raise RuntimeError("the first worker failed before committing")
    assert theirs_now.result() is True


def test_a_channel_closed_by_one_worker_after_another_reopened_it_stays_closed(
    two: tuple[PostgresRepertoire, PostgresRepertoire],
) -> None:
    """No worker decides from a stale memory of a channel another worker changed."""
    first, second = two
    at = [T0 + timedelta(minutes=m) for m in range(4)]

    def claim(rep: PostgresRepertoire, visibility: str, when: datetime) -> None:
        with rep.transaction():
            rep.upsert_channel("slack", "T1", "C-help", "help", visibility, at=when)

    claim(first, "private", at[0])
    claim(second, "private", at[1])  # both workers have seen it private
    author = first.upsert_member("slack", "T1", "U1", "Ana", at=T0)
    with first.transaction():
        first.save_entry(question(author))
    claim(second, "public", at[2])  # reopened, seen by the second worker
    claim(first, "private", at[3])  # closed again, seen by the first
    outsider = Viewer.in_channel(ChannelRef("slack", "T1", "C-other"))
    assert first.entries(outsider) == []
    assert second.entries(outsider) == []


def test_two_workers_deadlocking_is_an_error_worth_a_retry(pg_dsn: str) -> None:
    """The server aborts one of two deadlocked transactions; the core retries that one."""
    with psycopg.connect(pg_dsn, autocommit=True) as setup:
        setup.execute("INSERT INTO meta (key, value) VALUES ('a', '0'), ('b', '0')")
    with psycopg.connect(pg_dsn) as one, psycopg.connect(pg_dsn) as other:
        one.execute("UPDATE meta SET value = '1' WHERE key = 'a'")
        other.execute("UPDATE meta SET value = '2' WHERE key = 'b'")
        crossing = Blocked(lambda: one.execute("UPDATE meta SET value = '1' WHERE key = 'b'"))
        wait_until_blocked(pg_dsn, crossing)
        errors: list[BaseException] = []
        try:
            other.execute("UPDATE meta SET value = '2' WHERE key = 'a'")
        except psycopg.Error as exc:
            errors.append(exc)
        try:
            crossing.result()
        except psycopg.Error as exc:
            errors.append(exc)
        assert len(errors) == 1
        assert is_lock_error(errors[0])
        one.rollback()
        other.rollback()
    assert not is_lock_error(psycopg.errors.UniqueViolation("duplicate key"))


def test_bulk_writers_of_two_processes_take_turns(
    pg_dsn: str, two: tuple[PostgresRepertoire, PostgresRepertoire]
) -> None:
    """An import's batch waits for another process's batch to commit, instead of deadlocking."""
    first, second = two

    def second_batch() -> bool:
        with second.transaction():
            second.take_bulk_turn()
            return second.mark_event_seen("slack", "Ev-bulk", T0)

    with first.transaction():
        first.take_bulk_turn()
        waiting = Blocked(second_batch)
        wait_until_blocked(pg_dsn, waiting)
        assert first.mark_event_seen("slack", "Ev-bulk", T0)
    assert waiting.result() is False  # it ran after the first batch, and saw its work


def test_a_delete_and_a_create_of_one_message_on_two_workers_leave_it_deleted(
    pg_dsn: str, two: tuple[PostgresRepertoire, PostgresRepertoire]
) -> None:
    """The create waits for the delete's transaction, then sees its tombstone (write skew)."""
    first, second = two
    author = first.upsert_member("slack", "T1", "U1", "Ana", at=T0)
    new = question(author)

    def create() -> bool:  # what capture does with a message: tombstone check, then save
        with second.transaction():
            if second.is_tombstoned(new.source):
                return False
            second.save_entry(new)
            return True

    with first.transaction():
        first.add_tombstone(new.source, T0)
        racing = Blocked(create)
        wait_until_blocked(pg_dsn, racing)
        first.delete_message(new.source)
    assert racing.result() is False
    assert first.entries(Viewer.operator_including_private()) == []


def answer(author: int, thread: str = "1700.01") -> NewEntry:
    return NewEntry(
        kind=EntryKind.ANSWER,
        source=SourceKey("slack", "T1", "C-help", "1700.02"),
        text="Run the rotation playbook from the vault runbook.",
        author_id=author,
        created_at=T0 + timedelta(minutes=1),
        visibility="public",
        thread_id=thread,
        channel_name="help",
    )


@pytest.mark.parametrize("first_saves", ["question", "answer"])
def test_a_question_and_its_answer_saved_at_once_by_two_workers_meet(
    pg_dsn: str, two: tuple[PostgresRepertoire, PostgresRepertoire], first_saves: str
) -> None:
    """Two messages, two keys: without taking turns each would miss the other's row."""
    first, second = two
    author = first.upsert_member("slack", "T1", "U1", "Ana", at=T0)
    asked, replied = question(author), answer(author)
    mine, theirs = (asked, replied) if first_saves == "question" else (replied, asked)
    first.save_entry(question(author, "1600.01"))  # the channel is known: no wait on its row
    with first.transaction():
        first.save_entry(mine)
        racing = Blocked(lambda: second.save_entry(theirs))
        wait_until_blocked(pg_dsn, racing)
    racing.result()
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT answer_count, search_document::text FROM entries WHERE message_id = %s",
            [asked.source.message_id],
        ).fetchone()
    assert row is not None
    count, document = row
    assert count == 1  # the question counts the answer
    assert "'runbook'" in document  # and its document holds the answer's words
