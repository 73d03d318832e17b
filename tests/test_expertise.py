"""Expertise counts help given to others: replies in one's own thread add nothing.

An asker who writes "still slow…" three times under their own question has
not answered anything. If those replies counted, the asker would outrank the
member who did answer and be named as "who knows" in ``/cop who``, in the
gentle follow-up and in a digest's open questions: the one ranking
(:func:`knowledge.expertise.rank_experts`) serves all three, so each is checked.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import DigestSchedule
from bot.core import Core
from bot.events import CommandInvocation, Post, Reply
from bot.runtime import AsyncCore
from bot.schedule import DigestRuns, DigestScheduler
from tests.digest_support import (
    ANA,
    BEN,
    CAM,
    HELP,
    WEEK_END,
    MovableClock,
    RecordingOutbox,
    make_core,
    say,
)

CONFIG = {"channels": {"rules": [{"channel": "slack:C-HELP", "follow_up_hours": 24}]}}


def _community(core: Core, now: MovableClock) -> None:
    """Ana asks about the airflow scheduler and replies three times in her own thread;
    Ben answers once. Later Cam asks about the airflow scheduler, and nobody answers."""
    asked = now.at - timedelta(days=3)
    say(core, HELP, ANA, "q-slow", "Why is my airflow scheduler so slow?", asked)
    for n, text in enumerate(
        (
            "Still slow after restarting the airflow scheduler.",
            "Still slow with more airflow workers too.",
            "Still slow: the airflow scheduler sits at 100% CPU.",
        ),
        start=1,
    ):
        say(core, HELP, ANA, f"q-slow-r{n}", text, asked + timedelta(hours=n), "q-slow")
    say(
        core,
        HELP,
        BEN,
        "q-slow-ben",
        "Raise the airflow scheduler's parsing interval.",
        asked + timedelta(hours=5),
        "q-slow",
    )
    say(
        core,
        HELP,
        CAM,
        "q-cam",
        "How do I speed up the airflow scheduler?",
        now.at - timedelta(hours=30),
    )


def _lines(post: Post) -> str:
    return "\n".join(line for section in post.sections for line in section.lines)


def test_who_ranks_the_answerer_not_the_asker_replying_to_herself(tmp_path: Path) -> None:
    clock = MovableClock(WEEK_END)
    core = make_core(tmp_path / "e.db", clock, CONFIG)
    _community(core, clock)
    out = core.handle(CommandInvocation(HELP, CAM, "who airflow scheduler", clock.at))
    reply = next(o for o in out if isinstance(o, Reply))
    assert "Ben" in reply.text
    assert "Ana" not in reply.text
    core.services.repertoire.close()


async def test_the_follow_up_names_the_answerer_not_the_asker(tmp_path: Path) -> None:
    clock = MovableClock(WEEK_END)
    path = tmp_path / "e.db"
    seeding = make_core(path, clock, CONFIG)
    _community(seeding, clock)
    seeding.services.repertoire.close()
    outbox = RecordingOutbox()
    async_core = AsyncCore(make_core(path, clock, CONFIG))
    scheduler = DigestScheduler(
        async_core, outbox, clock=clock, scheduler=AsyncIOScheduler(timezone="UTC")
    )
    assert await scheduler.follow_up_scan() == 1
    (post,) = outbox.posts
    assert post.thread_id == "q-cam"
    experts = next(s for s in post.sections if s.title == "Members who know the topic")
    assert experts.lines == ("Ben",)
    async_core.close()
    async_core.core.services.repertoire.close()


def test_the_digest_names_the_answerer_for_an_open_question(tmp_path: Path) -> None:
    clock = MovableClock(WEEK_END)
    core = make_core(tmp_path / "e.db", clock, CONFIG)
    _community(core, clock)
    schedule = DigestSchedule(channel="slack:C-HELP")
    prepared = DigestRuns(core.services).prepare(schedule, WEEK_END)
    assert prepared is not None
    open_line = next(line for line in _lines(prepared.post).splitlines() if "speed up" in line)
    assert open_line.endswith("who knows: Ben")
    core.services.repertoire.close()
