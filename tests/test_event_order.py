"""Duplicates and disorder: a replay in any order ends in the clean stream's state.

Slack retries an event up to 3 times (Socket Mode has been seen to deliver one
twice); Discord replays on RESUME; imports overlap. The long variant (10,000
events) is marked ``slow`` (``pytest --runslow``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.events import IncomingMessage, MessageDeleted
from bot.ports import FixedClock
from knowledge.models import SourceKey
from knowledge.storage import Viewer
from tests.snapshot import snapshot
from tests.streams import START, community_stream, messy

EVERYTHING = Viewer.operator_including_private()


def _core(path: Path) -> Core:
    settings = Settings.model_validate({"capture": {"accept_votes": 2}})
    return build_core(settings, path, clock=FixedClock(START))


@pytest.mark.parametrize("size", [1_500, pytest.param(10_000, marks=pytest.mark.slow)])
@pytest.mark.parametrize("seed", [1, 2])
def test_messy_replay_ends_in_the_clean_state(tmp_path: Path, seed: int, size: int) -> None:
    events = community_stream(seed, size)
    clean = _core(tmp_path / "clean.db")
    replayed = _core(tmp_path / "messy.db")
    try:
        for event in events:
            clean.handle(event)
        for event in messy(events, seed):
            replayed.handle(event)
        expected = snapshot(clean.repertoire)
        got = snapshot(replayed.repertoire)
        # The stream must exercise what we claim: answers, accepts and deletes all happen.
        assert sum(1 for e in expected["entries"] if e[0] == "answer") > size // 10
        assert any(e[10] for e in expected["entries"]), "no accepted answer in the stream"
        assert any(isinstance(e, MessageDeleted) for e in events)
        assert got["entries"] == expected["entries"]
        assert got["reactions"] == expected["reactions"]
        assert got["documents"] == expected["documents"]
    finally:
        clean.repertoire.close()
        replayed.repertoire.close()


def test_a_delete_before_its_create_keeps_the_message_out(tmp_path: Path) -> None:
    events = [e for e in community_stream(7, 200) if isinstance(e, IncomingMessage)]
    question = next(e for e in events if e.is_top_level and e.where.visibility != "dm")
    core = _core(tmp_path / "r.db")
    try:
        core.handle(MessageDeleted(question.where, question.message_id, "del-1"))
        core.handle(question)
        assert core.repertoire.count_entries(EVERYTHING) == 0
        where = question.where
        key = SourceKey(where.platform, where.workspace, where.channel, question.message_id)
        assert core.repertoire.latest_edit(key) is None
    finally:
        core.repertoire.close()
