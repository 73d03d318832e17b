"""The gentle follow-up: once, in the thread, only where the channel opted in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.events import Post
from bot.mentions import MENTION_START, mention
from bot.runtime import AsyncCore
from bot.schedule import DigestScheduler
from knowledge.models import ChannelRef
from tests.digest_support import (
    ANA,
    BEN,
    CAM,
    HELP,
    SECRET,
    TIPS,
    WEEK_END,
    MovableClock,
    RecordingOutbox,
    accept,
    make_core,
    say,
    share,
)

RULES = {
    "channels": {
        "rules": [
            {"channel": "slack:C-HELP", "follow_up_hours": 24},
            {"channel": "slack:#secret", "follow_up_hours": 24, "follow_up_mention": True},
        ]
    }
}


def _community(path: Path, clock: MovableClock) -> None:
    core = make_core(path, clock, RULES)
    old = clock.at - timedelta(days=30)
    # Past knowledge: an answered question on pandas memory, private know-how on pandas.
    say(core, HELP, ANA, "q-past", "How do I lower pandas memory for big frames?", old)
    say(core, HELP, BEN, "q-past-r1", "Use category dtype for repeated strings.", old, "q-past")
    accept(core, HELP, ANA, "q-past-r1", old + timedelta(minutes=5))
    share(core, SECRET, CAM, "k-secret", "Private pandas memory trick", old, "pandas")
    # Open questions: one due (30 h old), one too young (2 h), one in a channel without follow-ups.
    say(
        core,
        HELP,
        CAM,
        "q-due",
        "Why is pandas memory so high after a merge?",
        clock.at - timedelta(hours=30),
    )
    say(
        core,
        HELP,
        ANA,
        "q-young",
        "Why is pandas memory high on read_csv?",
        clock.at - timedelta(hours=2),
    )
    say(
        core,
        TIPS,
        ANA,
        "q-tips",
        "Anyone know why pandas memory spikes?",
        clock.at - timedelta(hours=48),
    )
    # Long past due: left alone (switching follow-ups on must not nudge old history).
    say(
        core,
        HELP,
        ANA,
        "q-ancient",
        "Why does pandas memory leak in loops?",
        clock.at - timedelta(days=20),
    )
    core.services.repertoire.close()


def _scheduler(
    path: Path, clock: MovableClock, outbox: RecordingOutbox
) -> tuple[DigestScheduler, AsyncCore]:
    async_core = AsyncCore(make_core(path, clock, RULES))
    return (
        DigestScheduler(
            async_core, outbox, clock=clock, scheduler=AsyncIOScheduler(timezone="UTC")
        ),
        async_core,
    )


async def test_a_due_question_gets_one_follow_up_in_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(WEEK_END)
    _community(path, clock)
    outbox = RecordingOutbox()
    scheduler, async_core = _scheduler(path, clock, outbox)
    assert await scheduler.follow_up_scan() == 1
    post: Post = outbox.posts[0]
    assert post.thread_id == "q-due" and post.where == HELP
    text = post.text + "\n" + "\n".join(line for s in post.sections for line in s.lines)
    assert "24 hours" in post.text
    assert "lower pandas memory" in text and "category dtype" in text  # similar past answer
    assert "Ben" in text  # who knows pandas memory
    assert "Private pandas memory trick" not in text  # private know-how stays in #secret
    experts = next(s for s in post.sections if s.title == "Members who know the topic")
    assert "Ben" in experts.lines[0] and "Cam" not in experts.lines[0]  # Cam asked it
    # Scanning again (or after a restart) sends nothing more.
    assert await scheduler.follow_up_scan() == 0
    async_core.close()
    async_core.core.services.repertoire.close()
    again, again_core = _scheduler(path, clock, RecordingOutbox())
    assert await again.follow_up_scan() == 0
    again_core.close()
    again_core.core.services.repertoire.close()
    # The young one becomes due a day later: one more, never q-tips or q-ancient.
    clock.advance(timedelta(hours=23))
    later, later_core = _scheduler(path, clock, outbox)
    assert await later.follow_up_scan() == 1
    assert [p.thread_id for p in outbox.posts] == ["q-due", "q-young"]
    later_core.close()
    later_core.core.services.repertoire.close()


async def test_an_answered_question_gets_no_follow_up(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(WEEK_END)
    _community(path, clock)
    core = make_core(path, clock, RULES)
    say(
        core,
        HELP,
        BEN,
        "q-due-r1",
        "Merges copy both frames.",
        clock.at - timedelta(hours=1),
        "q-due",
    )
    core.services.repertoire.close()
    outbox = RecordingOutbox()
    scheduler, async_core = _scheduler(path, clock, outbox)
    assert await scheduler.follow_up_scan() == 0
    assert outbox.posts == []
    async_core.close()


async def test_a_failed_follow_up_is_retried_once_it_can_be_posted(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(WEEK_END)
    _community(path, clock)
    outbox = RecordingOutbox(fail_next=1)
    scheduler, async_core = _scheduler(path, clock, outbox)
    assert await scheduler.follow_up_scan() == 0
    assert await scheduler.follow_up_scan() == 1
    assert await scheduler.follow_up_scan() == 0
    assert [p.thread_id for p in outbox.posts] == ["q-due"]
    repertoire = async_core.core.services.repertoire
    question = repertoire.question_for_thread(ChannelRef("slack", "T1", "C-HELP"), "q-due")
    assert question is not None
    assert repertoire.digest_log.followed_up() == {question.id}
    async_core.close()


async def test_private_channel_follow_up_pings_when_opted_in(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(WEEK_END)
    _community(path, clock)
    core = make_core(path, clock, RULES)
    say(
        core,
        SECRET,
        ANA,
        "q-s",
        "Why is pandas memory high in our private job?",
        clock.at - timedelta(hours=25),
    )
    core.services.repertoire.close()
    outbox = RecordingOutbox()
    scheduler, async_core = _scheduler(path, clock, outbox)
    await scheduler.follow_up_scan()
    secret = next(p for p in outbox.posts if p.thread_id == "q-s")
    text = "\n".join(line for s in secret.sections for line in s.lines)
    pings = {mention("U-BEN", "Ben"), mention("U-CAM", "Cam")}
    assert any(token in text for token in pings)  # pinged, as the rule asks
    public = next(p for p in outbox.posts if p.thread_id == "q-due")
    assert MENTION_START not in "\n".join(line for s in public.sections for line in s.lines)
    async_core.close()
