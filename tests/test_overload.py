"""Overload: an event storm is absorbed without loss, and the loop never waits on SQLite."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.ports import FixedClock
from bot.runtime import MAX_GROUP, AsyncCore
from tests.snapshot import snapshot
from tests.streams import START, community_stream


@pytest.mark.parametrize("size", [1_200, pytest.param(6_000, marks=pytest.mark.slow)])
async def test_a_storm_of_concurrent_events_loses_nothing(tmp_path: Path, size: int) -> None:
    # Only messages: their effect does not depend on the order the storm lands in.
    events = [e for e in community_stream(11, size) if type(e).__name__ == "IncomingMessage"]
    # More waiting events than the database thread takes at once: several groups.
    assert len(events) > 2 * MAX_GROUP
    sequential = build_core(Settings(), tmp_path / "seq.db", clock=FixedClock(START))
    stormed = AsyncCore(build_core(Settings(), tmp_path / "storm.db", clock=FixedClock(START)))
    try:
        for event in events:
            sequential.handle(event)
        await asyncio.gather(*(stormed.handle(event) for event in events))
        expected = snapshot(sequential.repertoire)
        got = await stormed.run(snapshot, stormed.core.repertoire)
        assert len(expected["entries"]) > len(events) // 2
        assert got == expected
    finally:
        sequential.repertoire.close()
        stormed.close()
        stormed.core.repertoire.close()


async def test_a_slow_database_call_does_not_block_the_event_loop(tmp_path: Path) -> None:
    """The slow call waits for proof that the loop kept running (a gateway heartbeat would)."""
    core = AsyncCore(build_core(Settings(), tmp_path / "slow.db", clock=FixedClock(START)))
    heartbeat_ran = threading.Event()

    def slow_query() -> bool:
        # Holds the database thread until the loop has run another coroutine.
        return heartbeat_ran.wait(timeout=10)

    async def heartbeat() -> None:
        await asyncio.sleep(0)
        heartbeat_ran.set()

    try:
        slow = asyncio.ensure_future(core.run(slow_query))
        await asyncio.sleep(0)
        await heartbeat()
        assert await slow is True
    finally:
        core.close()
        core.core.repertoire.close()
