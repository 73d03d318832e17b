"""Expertise counts help given to others: replies in one's own thread add nothing.

An asker who writes "still slow…" three times under their own question has
not answered anything. If those replies counted, the asker would outrank the
member who did answer and be named as "who knows" in ``/cop who``, in the
gentle follow-up and in a digest's open questions: the one ranking
(:func:`knowledge.expertise.rank_experts`) serves all three, so each is checked.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import DigestSchedule
from bot.core import Core
from bot.events import Actor, CommandInvocation, Post, Reply
from bot.runtime import AsyncCore
from bot.schedule import DigestRuns, DigestScheduler
from knowledge.expertise import rank_experts
from tests.digest_support import (
    ANA,
    BEN,
    CAM,
    DEE,
    HELP,
    TIPS,
    WEEK_END,
    MovableClock,
    RecordingOutbox,
    accept,
    make_core,
    say,
    share,
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


# ----------------------------------------------------------------------------- the ranking itself

#: The documented ranking: an accepted answer weighs 3, know-how 2, another answer 1, and each
#: contribution halves in weight every 180 days.
ACCEPTED, KNOWHOW, ANSWER, HALF_LIFE_DAYS = 3.0, 2.0, 1.0, 180.0
NOW = WEEK_END


def _weight(kind: float, age: timedelta) -> float:
    return kind * math.pow(0.5, age / timedelta(days=HALF_LIFE_DAYS))


def test_the_ranking_weighs_each_kind_of_help_and_fades_with_age(tmp_path: Path) -> None:
    core = make_core(tmp_path / "r.db", MovableClock(NOW))
    ten_days, old, hour = timedelta(days=10), timedelta(days=190), timedelta(hours=1)
    # Ben: two accepted answers ten days ago, another answer 190 days ago.
    for n, asker in enumerate((ANA, DEE)):
        say(core, HELP, asker, f"q{n}", f"Why does airflow job {n} stall?", NOW - ten_days)
        say(core, HELP, BEN, f"q{n}-ben", "Raise the pool.", NOW - ten_days, f"q{n}")
        accept(core, HELP, asker, f"q{n}-ben", NOW - ten_days)
    say(core, HELP, ANA, "q-old", "Why is airflow slow to parse?", NOW - old)
    say(core, HELP, BEN, "q-old-ben", "Fewer top-level imports.", NOW - old, "q-old")
    # Cam: two other answers ten days ago and one 190 days ago, two know-how an hour and
    # two days ago.
    for n in range(2):
        say(core, HELP, CAM, f"q{n}-cam", "Or a bigger pool.", NOW - ten_days, f"q{n}")
    say(core, HELP, CAM, "q-old-cam", "Or parse less often.", NOW - old, "q-old")
    share(core, TIPS, CAM, "k1", "Airflow pools explained", NOW - hour, "airflow")
    share(core, TIPS, CAM, "k2", "Airflow sensors in reschedule mode", NOW - 2 * timedelta(1))
    experts = rank_experts(core.services.repertoire, "airflow", None, now=NOW)
    ben = 2 * _weight(ACCEPTED, ten_days) + _weight(ANSWER, old)
    cam = (
        2 * _weight(ANSWER, ten_days)
        + _weight(ANSWER, old)
        + _weight(KNOWHOW, hour)
        + _weight(KNOWHOW, 2 * timedelta(1))
    )
    assert cam > ben  # and Cam joined after Ben: the order is by score, not by member
    assert [
        (e.member.display_name, e.score, e.accepted_answers, e.answers, e.knowhow, e.latest)
        for e in experts
    ] == [
        ("Cam", round(cam, 3), 0, 3, 2, NOW - hour),
        ("Ben", round(ben, 3), 2, 3, 0, NOW - ten_days),
    ]
    # Without a time given, "now" is the real clock's, in UTC: the same members.
    assert [
        e.member.display_name for e in rank_experts(core.services.repertoire, "airflow", None)
    ] == [
        "Cam",
        "Ben",
    ]


def test_equal_scores_rank_the_earlier_member_first(tmp_path: Path) -> None:
    core = make_core(tmp_path / "t.db", MovableClock(NOW))
    say(core, HELP, ANA, "hello", "Why is kafka here?", NOW - timedelta(days=3))  # Ana joins first
    share(core, TIPS, DEE, "k-dee", "Kafka lag explained", NOW - timedelta(days=1), "kafka")
    share(core, TIPS, ANA, "k-ana", "Kafka rebalancing explained", NOW - timedelta(days=1), "kafka")
    experts = rank_experts(core.services.repertoire, "kafka", None, now=NOW)
    assert [(e.member.display_name, e.knowhow) for e in experts] == [("Ana", 1), ("Dee", 1)]


def test_every_word_of_a_topic_must_match(tmp_path: Path) -> None:
    core = make_core(tmp_path / "w.db", MovableClock(NOW))
    say(core, HELP, ANA, "q1", "Why does the airflow sensor hang?", NOW - timedelta(days=1))
    say(core, HELP, BEN, "q1-r", "Use reschedule mode.", NOW - timedelta(days=1), "q1")
    say(core, HELP, ANA, "q2", "Why is the airflow scheduler slow?", NOW - timedelta(days=1))
    say(core, HELP, CAM, "q2-r", "Fewer DAG files.", NOW - timedelta(days=1), "q2")
    experts = rank_experts(core.services.repertoire, "airflow scheduler", None, now=NOW)
    assert [e.member.display_name for e in experts] == ["Cam"]


def test_at_most_five_members_unless_asked(tmp_path: Path) -> None:
    core = make_core(tmp_path / "f.db", MovableClock(NOW))
    say(core, HELP, ANA, "q1", "Why does polars run out of memory?", NOW - timedelta(days=1))
    for n in range(7):
        helper = Actor("slack", f"U-H{n}", f"Helper {n}", "T1")
        say(core, HELP, helper, f"r{n}", f"Try streaming {n}.", NOW - timedelta(days=1), "q1")
    assert len(rank_experts(core.services.repertoire, "polars", None, now=NOW)) == 5
    assert len(rank_experts(core.services.repertoire, "polars", None, now=NOW, limit=7)) == 7
