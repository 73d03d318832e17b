"""Group commit in the database thread: shared commits, each event answered after its own."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_core
from bot.config import Settings, SimilarSettings
from bot.core import PendingQuestion
from bot.events import (
    Actor,
    CommandInvocation,
    InboundEvent,
    IncomingMessage,
    MessageDeleted,
    Outbound,
    Reply,
    Where,
)
from bot.runtime import AsyncCore
from knowledge.models import Entry
from knowledge.storage import GroupFailed
from tests.sqlite_file import sqlite_of

WHERE = Where("slack", "T1", "C1", channel_name="help")
BASE = datetime(2030, 1, 1, tzinfo=UTC)


def question(i: int, text: str = "") -> IncomingMessage:
    actor = Actor("slack", f"U{i % 7}", f"user{i % 7}", "T1")
    text = text or f"how do I tune the widget number {i} for sqlite?"
    return IncomingMessage(WHERE, actor, f"{1_900_000_000 + i}.000100", text, BASE + timedelta(i))


def committed_message_ids(db_path: Path) -> set[str]:
    """What another connection sees: only committed rows."""
    conn = sqlite3.connect(db_path)
    try:
        return {str(r[0]) for r in conn.execute("SELECT message_id FROM entries")}
    finally:
        conn.close()


@pytest.fixture
def async_core(tmp_path: Path) -> Iterator[AsyncCore]:
    core = AsyncCore(build_core(Settings(), tmp_path / "copbot.db"))
    yield core
    core.close()
    core.core.repertoire.close()


async def test_concurrent_events_share_commits_and_each_returns_after_its_commit(
    tmp_path: Path,
) -> None:
    # No suggestions: a question's lookup runs (and commits) on its own after its group.
    async_core = AsyncCore(
        build_core(Settings(similar=SimilarSettings(enabled=False)), tmp_path / "copbot.db")
    )
    commits: list[str] = []
    conn = await async_core.run(lambda: sqlite_of(async_core.core.repertoire).db.conn)
    conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    events = [question(i) for i in range(60)]
    seen_after_return: list[bool] = []

    async def send(event: IncomingMessage) -> None:
        await async_core.handle(event)
        seen_after_return.append(event.message_id in committed_message_ids(tmp_path / "copbot.db"))

    await asyncio.gather(*(send(e) for e in events))
    assert seen_after_return == [True] * len(events)
    assert committed_message_ids(tmp_path / "copbot.db") == {e.message_id for e in events}
    assert len(commits) < len(events) // 4  # grouped, not one commit per event
    async_core.close()
    async_core.core.repertoire.close()


def answer(i: int, root: IncomingMessage) -> IncomingMessage:
    actor = Actor("slack", f"U{i % 5 + 10}", f"helper{i % 5}", "T1")
    return IncomingMessage(
        WHERE,
        actor,
        f"{1_900_000_000 + i}.000200",
        f"try the pragma settings, run {i}",
        BASE + timedelta(i),
        root.message_id,
    )


async def test_question_hooks_wait_until_the_group_is_committed_and_hold_no_other_event(
    async_core: AsyncCore, tmp_path: Path
) -> None:
    """Capture first: the lookup runs after the commit; only the question's caller waits for it."""
    core = async_core.core
    db_path = tmp_path / "copbot.db"
    seen_by_hook: list[set[str]] = []

    def spy(entry: Entry, message: IncomingMessage) -> list[Outbound]:
        seen_by_hook.append(committed_message_ids(db_path))
        return [Reply(where=message.where, text=f"about entry {entry.id}")]

    core.question_hooks.append(spy)
    root = question(0)
    events: list[IncomingMessage] = [root, *(answer(i, root) for i in range(1, 11))]
    gate = threading.Event()
    held = asyncio.ensure_future(async_core.run(gate.wait))  # the database thread is busy
    returned: list[str] = []

    async def send(event: IncomingMessage) -> list[Outbound]:
        out = await async_core.handle(event)
        returned.append(event.message_id)
        return out

    sending = [asyncio.ensure_future(send(e)) for e in events]
    await asyncio.sleep(0)  # every event is waiting before the thread takes them: one group
    gate.set()
    await held
    results = await asyncio.gather(*sending)
    everything = {e.message_id for e in events}
    assert seen_by_hook == [everything]  # the whole group was committed before the lookup
    assert returned[-1] == root.message_id  # the others returned at their commit
    assert [o.text for o in results[0] if isinstance(o, Reply)][-1].startswith("about entry")
    assert all(not out for out in results[1:])


async def test_a_deleted_question_gets_no_lookup(async_core: AsyncCore) -> None:
    core = async_core.core
    asked: list[int] = []

    def spy(entry: Entry, message: IncomingMessage) -> list[Outbound]:
        asked.append(entry.id)
        return []

    core.question_hooks.append(spy)
    root, other = question(0), question(1)
    gate = threading.Event()
    held = asyncio.ensure_future(async_core.run(gate.wait))
    sending = [
        asyncio.ensure_future(async_core.handle(e))
        for e in (root, other, MessageDeleted(WHERE, root.message_id))
    ]
    await asyncio.sleep(0)
    gate.set()
    await held
    await asyncio.gather(*sending)
    assert len(asked) == 1  # the other question only: the deleted one's lookup was dropped


def test_a_failed_unit_fails_its_whole_group_and_no_event_takes_a_savepoint(
    tmp_path: Path,
) -> None:
    core = build_core(Settings(), tmp_path / "copbot.db")
    repertoire = core.repertoire
    statements: list[str] = []
    sqlite_of(repertoire).db.conn.set_trace_callback(statements.append)
    with pytest.raises(GroupFailed), repertoire.group():
        assert core.capture.on_message(question(1)) is not None
        with contextlib.suppress(RuntimeError), repertoire.transaction():
            repertoire.set_meta("half", "done")
            raise RuntimeError("a bug the caller logs and carries on from")
        assert core.capture.on_message(question(2)) is not None
    sqlite_of(repertoire).db.conn.set_trace_callback(None)
    assert committed_message_ids(tmp_path / "copbot.db") == set()
    assert repertoire.get_meta("half") is None
    assert not [s for s in statements if s.upper().startswith("SAVEPOINT")]
    repertoire.close()


async def test_a_failing_event_is_rolled_back_alone(
    async_core: AsyncCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = async_core.core.capture
    original = capture.on_message

    def failing(event: IncomingMessage) -> Any:
        result = original(event)  # writes its entry, then fails: the savepoint must undo it
        if "boom" in event.text:
            raise RuntimeError("a bug in one event")
        return result

    monkeypatch.setattr(capture, "on_message", failing)
    events = [question(i, "why does boom break?" if i == 5 else "") for i in range(20)]
    results = await asyncio.gather(*(async_core.handle(e) for e in events))
    assert len(results) == len(events)  # every caller was answered
    stored = committed_message_ids(tmp_path / "copbot.db")
    assert stored == {e.message_id for i, e in enumerate(events) if i != 5}


async def test_a_group_whose_transaction_fails_is_applied_one_by_one(
    async_core: AsyncCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = async_core.core
    original = core.handle_group
    calls: list[int] = []
    failed: list[int] = []

    def locked_once(
        events: Sequence[InboundEvent], later: list[PendingQuestion] | None
    ) -> list[list[Outbound]]:
        calls.append(len(events))
        if len(events) > 1 and not failed:
            failed.append(len(events))
            original(events, later=later)  # applied, then the commit is lost
            raise sqlite3.OperationalError("database is locked")
        return original(events, later=later)

    def apply_then_lose(
        events: Sequence[InboundEvent], *, later: list[PendingQuestion] | None = None
    ) -> list[list[Outbound]]:
        with core.repertoire.transaction():
            return locked_once(events, later)

    monkeypatch.setattr(core, "handle_group", apply_then_lose)
    events = [question(i) for i in range(30)]
    await asyncio.gather(*(async_core.handle(e) for e in events))
    assert failed  # a group of several events did fail whole
    assert committed_message_ids(tmp_path / "copbot.db") == {e.message_id for e in events}


def test_a_search_in_a_group_finds_what_the_events_before_it_said(tmp_path: Path) -> None:
    """Documents are rebuilt at the end of a group, or before any event that may search."""
    core = build_core(Settings(), tmp_path / "copbot.db")
    root = question(0)
    said = IncomingMessage(
        WHERE,
        Actor("slack", "UH", "helper", "T1"),
        "1900000001.000200",
        "use the frobnicator flag",
        BASE + timedelta(1),
        root.message_id,
    )
    asker = Actor("slack", "U0", "user0", "T1")
    search = CommandInvocation(WHERE, asker, "search frobnicator", BASE + timedelta(2))
    results = core.handle_group([root, said, search])
    replies = [o for o in results[2] if isinstance(o, Reply)]
    titles = [item.title for reply in replies for item in reply.items]
    assert any("widget number 0" in t for t in titles)  # found by its new answer's word
    core.repertoire.close()


async def test_closing_still_answers_every_question_waiting_for_its_lookup(tmp_path: Path) -> None:
    async_core = AsyncCore(build_core(Settings(), tmp_path / "copbot.db"))
    asked: list[int] = []

    def spy(entry: Entry, message: IncomingMessage) -> list[Outbound]:
        asked.append(entry.id)
        return []

    async_core.core.question_hooks.append(spy)
    gate = threading.Event()
    held = asyncio.ensure_future(async_core.run(gate.wait))
    sending = [asyncio.ensure_future(async_core.handle(question(i))) for i in range(5)]
    await asyncio.sleep(0)
    closer = threading.Thread(target=async_core.close)
    closer.start()
    closer.join(timeout=0.2)  # close() has begun: the executor takes no new work
    gate.set()
    await held
    await asyncio.wait_for(asyncio.gather(*sending), timeout=30)
    closer.join()
    assert len(asked) == 5  # each question's lookup ran although the thread was closing
    async_core.core.repertoire.close()


def test_a_group_moves_each_read_mark_once_to_where_one_by_one_would(tmp_path: Path) -> None:
    other = Where("slack", "T1", "C2", channel_name="random")
    times = [3, 5, 5, 5, 2, 4, 0]  # out of order; in C1 a tie: the first of two equals stays
    events = [
        IncomingMessage(
            WHERE if i % 2 else other,
            Actor("slack", "U1", "ann", "T1"),
            f"{1_900_000_000 + i}.000100",
            f"chat line {i}",
            BASE + timedelta(minutes=t),
        )
        for i, t in enumerate(times)
    ]
    grouped = build_core(Settings(), tmp_path / "grouped.db")
    alone = build_core(Settings(), tmp_path / "alone.db")
    statements: list[str] = []
    conn = sqlite_of(grouped.repertoire).db.conn
    conn.set_trace_callback(statements.append)
    grouped.handle_group(events)
    conn.set_trace_callback(None)
    for event in events:
        alone.handle(event)
    marks = [core.marks.marks("slack") for core in (grouped, alone)]
    assert marks[0] == marks[1]
    assert {ref.channel: mid for ref, (_, mid) in marks[0].items()} == {
        "C1": "1900000001.000100",  # minute 5, said before the other minute-5 message
        "C2": "1900000002.000100",
    }
    assert sum(s.startswith("INSERT INTO read_marks") for s in statements) == 2
    grouped.repertoire.close()
    alone.repertoire.close()
