"""The forum-post rules of bot/forum.py, through Core.handle on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.events import (
    Actor,
    ForumPostChanged,
    IncomingMessage,
    ReactionChange,
    Reply,
    Visibility,
    Where,
)
from bot.ports import FixedClock
from knowledge.models import SourceKey

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
FORUM = Where("discord", "G1", "F1", Visibility.PUBLIC, "help")
ASKER = Actor("discord", "u-asker", "Asker", "G1")
ANN = Actor("discord", "u-ann", "Ann", "G1")
BEN = Actor("discord", "u-ben", "Ben", "G1")


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = build_core(Settings(), tmp_path / "c.db", clock=FixedClock(T0 + timedelta(days=1)))
    yield built
    built.services.repertoire.close()


def say(core: Core, who: Actor, message_id: str, text: str, minutes: int) -> None:
    is_post = message_id == "P1"
    core.handle(
        IncomingMessage(
            FORUM, who, message_id, text, T0 + timedelta(minutes=minutes),
            thread_id="P1", is_forum_post=is_post, title="Post" if is_post else "",
        )
    )  # fmt: skip


def accepted(core: Core, message_id: str) -> bool:
    [entry] = core.repertoire.entries_for_message(SourceKey("discord", "G1", "F1", message_id))
    return entry.accepted


def solved(
    value: bool | None, *, tags: tuple[str, ...] | None = None, title: str = ""
) -> ForumPostChanged:
    return ForumPostChanged(FORUM, "P1", solved=value, tags=tags, title=title)


def test_solved_accepts_the_latest_answer_not_by_the_asker(core: Core) -> None:
    say(core, ASKER, "P1", "why is my join slow", 0)
    say(core, ANN, "A1", "add an index", 1)
    say(core, BEN, "A2", "use a hash join", 2)
    say(core, ASKER, "A3", "thanks all", 3)
    [note] = core.handle(solved(True))
    assert isinstance(note, Reply) and not note.ephemeral and note.thread_id == "P1"
    assert "Ben" in note.text
    assert [accepted(core, m) for m in ("A1", "A2", "A3")] == [False, True, False]
    # It stands as the asker's accept: another member's reaction does not undo it.
    core.handle(ReactionChange(FORUM, "A2", ANN, "✅"))
    core.handle(ReactionChange(FORUM, "A2", ANN, "✅", added=False))
    assert accepted(core, "A2")


def test_solved_keeps_an_answer_already_accepted(core: Core) -> None:
    say(core, ASKER, "P1", "why is my join slow", 0)
    say(core, ANN, "A1", "add an index", 1)
    say(core, BEN, "A2", "use a hash join", 2)
    core.handle(ReactionChange(FORUM, "A1", ASKER, "✅"))
    assert core.handle(solved(True)) == []
    assert [accepted(core, m) for m in ("A1", "A2")] == [True, False]


def test_unsolved_withdraws_the_askers_accepts(core: Core) -> None:
    say(core, ASKER, "P1", "why is my join slow", 0)
    say(core, ANN, "A1", "add an index", 1)
    core.handle(solved(True))
    assert accepted(core, "A1")
    assert core.handle(solved(False)) == []
    assert not accepted(core, "A1")


def test_nothing_to_accept_and_unknown_posts_change_nothing(core: Core) -> None:
    assert core.handle(solved(True)) == []  # no such post
    say(core, ASKER, "P1", "why is my join slow", 0)
    say(core, ASKER, "A1", "found it myself", 1)
    assert core.handle(solved(True)) == []  # only the asker answered
    assert not accepted(core, "A1")


def test_tags_and_title_follow_the_post(core: Core) -> None:
    say(core, ASKER, "P1", "why is my join slow #sql", 0)
    core.handle(solved(None, tags=("postgres", "performance"), title="Slow join in Postgres"))
    [question] = core.repertoire.entries_for_message(SourceKey("discord", "G1", "F1", "P1"))
    assert question.tags == ("performance", "postgres", "sql")
    assert question.title == "Slow join in Postgres"
