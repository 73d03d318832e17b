"""Group commit in the database thread: shared commits, each event answered after its own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.events import Actor, InboundEvent, IncomingMessage, Outbound, Where
from bot.runtime import AsyncCore
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
    async_core: AsyncCore, tmp_path: Path
) -> None:
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

    def locked_once(events: Sequence[InboundEvent]) -> list[list[Outbound]]:
        calls.append(len(events))
        if len(events) > 1 and not failed:
            failed.append(len(events))
            original(events)  # applied, then the commit is lost: nothing may stay half-done
            raise sqlite3.OperationalError("database is locked")
        return original(events)

    def apply_then_lose(events: Sequence[InboundEvent]) -> list[list[Outbound]]:
        with core.repertoire.transaction():
            return locked_once(events)

    monkeypatch.setattr(core, "handle_group", apply_then_lose)
    events = [question(i) for i in range(30)]
    await asyncio.gather(*(async_core.handle(e) for e in events))
    assert failed  # a group of several events did fail whole
    assert committed_message_ids(tmp_path / "copbot.db") == {e.message_id for e in events}
