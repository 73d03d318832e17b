"""Helpers for the digest and follow-up tests: a small known community, a recording
outbox, and a clock that both copbot and the real APScheduler read.

APScheduler 3 reads the time with ``datetime.now`` in two modules (the
scheduler loop and the executor's misfire check) and has no clock to inject,
so :func:`scheduler_time` swaps that name for a subclass whose ``now`` reads
our clock. Everything else about the scheduler is the real thing: its
triggers, job store, misfire handling, coalescing and asyncio executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import apscheduler.executors.base as executor_base
import apscheduler.schedulers.base as scheduler_base
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.events import (
    Actor,
    IncomingMessage,
    Post,
    ReactionChange,
    SaveRequest,
    Visibility,
    Where,
)

SLACK = "slack"
WS = "T1"
HELP = Where(SLACK, WS, "C-HELP", Visibility.PUBLIC, "help")
TIPS = Where(SLACK, WS, "C-TIPS", Visibility.PUBLIC, "tips")
SECRET = Where(SLACK, WS, "G-SECRET", Visibility.PRIVATE, "secret")
DM = Where(SLACK, WS, "D-ANA", Visibility.DM, "")

ANA = Actor(SLACK, "U-ANA", "Ana", WS)
BEN = Actor(SLACK, "U-BEN", "Ben", WS)
CAM = Actor(SLACK, "U-CAM", "Cam", WS)
DEE = Actor(SLACK, "U-DEE", "Dee", WS)


class MovableClock:
    """The one time a test controls: copbot's clock and APScheduler's ``now``."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta


@contextmanager
def scheduler_time(clock: MovableClock) -> Iterator[None]:
    """Make APScheduler read ``clock`` instead of the wall clock."""

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            return clock.at.astimezone(tz) if tz else clock.at.replace(tzinfo=None)

    saved = (scheduler_base.datetime, executor_base.datetime)
    scheduler_base.datetime = ClockDatetime
    executor_base.datetime = ClockDatetime
    try:
        yield
    finally:
        scheduler_base.datetime, executor_base.datetime = saved


async def run_due_jobs(scheduler: AsyncIOScheduler, expected: int = 1) -> list[int]:
    """Wake the scheduler now and wait until ``expected`` job outcomes were reported.

    Returns the APScheduler event codes (executed, missed, error). The wait is
    bounded only as a safety net: the test asserts on outcomes, never on time.
    """
    loop = asyncio.get_running_loop()
    codes: list[int] = []
    done = loop.create_future()

    def listener(event: Any) -> None:
        codes.append(event.code)
        if len(codes) >= expected and not done.done():
            loop.call_soon_threadsafe(done.set_result, None)

    mask = EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR
    scheduler.add_listener(listener, mask)
    try:
        scheduler.wakeup()
        await asyncio.wait_for(done, timeout=30)
    finally:
        scheduler.remove_listener(listener)
    return codes


@dataclass
class RecordingOutbox:
    """An outbox that keeps what it was asked to post (optionally failing first)."""

    posts: list[Post] = field(default_factory=list)
    fail_next: int = 0

    async def post(self, post: Post) -> str | None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("platform unreachable")
        self.posts.append(post)
        return f"msg-{len(self.posts)}"


def make_core(path: Path, clock: MovableClock, config: dict[str, Any] | None = None) -> Core:
    return build_core(Settings.model_validate(config or {}), path, clock=clock)


def say(
    core: Core,
    where: Where,
    who: Actor,
    message_id: str,
    text: str,
    at: datetime,
    thread: str | None = None,
) -> None:
    core.handle(IncomingMessage(where, who, message_id, text, at, thread_id=thread))


def accept(core: Core, where: Where, asker: Actor, answer_id: str, at: datetime) -> None:
    core.handle(ReactionChange(where, answer_id, asker, "white_check_mark", True, at=at))


def share(
    core: Core, where: Where, who: Actor, message_id: str, text: str, at: datetime, *tags: str
) -> None:
    core.handle(
        SaveRequest(where, who, message_id, text, who, at, title=text[:60], tags=tuple(tags))
    )


#: Monday 2026-03-02 09:00 UTC: the end of the week the known community lives in.
WEEK_END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def known_community(core: Core, end: datetime = WEEK_END) -> None:
    """A week of activity with one of everything, and a quieter week before it.

    This week (the seven days before ``end``):
    * help: q-pandas answered by Ben (accepted, after 30 min) and Cam;
      q-airflow answered by Cam after 2 h (not accepted); q-kafka still open;
    * tips: know-how "partition parquet by date" by Dee (#parquet);
    * secret (private): q-vault-secret open, know-how "rotate vault tokens" by Ana;
    * a DM saved on purpose by Ana ("dm-only-note").
    The week before: q-old (help) answered by Ben after 4 h; q-polars open.
    """
    week = end - timedelta(days=7)
    before = week - timedelta(days=7)
    # The week before.
    say(
        core,
        HELP,
        ANA,
        "q-old",
        "How do I read parquet partitions with polars lazily?",
        before + timedelta(days=1),
    )
    say(
        core,
        HELP,
        BEN,
        "q-old-r1",
        "Use scan_parquet with hive partitioning on.",
        before + timedelta(days=1, hours=4),
        "q-old",
    )
    say(
        core,
        HELP,
        DEE,
        "q-polars",
        "Is polars streaming stable enough for production jobs?",
        before + timedelta(days=2),
    )
    # This week.
    t = week + timedelta(days=1)
    say(core, HELP, ANA, "q-pandas", "How do I cut pandas memory use for a wide DataFrame?", t)
    say(
        core,
        HELP,
        BEN,
        "q-pandas-r1",
        "Convert repeated strings to category dtype.",
        t + timedelta(minutes=30),
        "q-pandas",
    )
    say(
        core,
        HELP,
        CAM,
        "q-pandas-r2",
        "Also downcast numeric columns.",
        t + timedelta(hours=1),
        "q-pandas",
    )
    accept(core, HELP, ANA, "q-pandas-r1", t + timedelta(hours=2))
    say(
        core,
        HELP,
        DEE,
        "q-airflow",
        "Why does my airflow sensor hog a worker slot?",
        t + timedelta(days=1),
    )
    say(
        core,
        HELP,
        CAM,
        "q-airflow-r1",
        "Switch the sensor to deferrable mode.",
        t + timedelta(days=1, hours=2),
        "q-airflow",
    )
    say(
        core,
        HELP,
        BEN,
        "q-kafka",
        "Why does kafka consumer lag keep growing during rebalancing?",
        t + timedelta(days=2),
    )
    share(
        core,
        TIPS,
        DEE,
        "k-parquet",
        "Partition parquet by date for fast pruning",
        t + timedelta(days=3),
        "parquet",
    )
    say(
        core,
        SECRET,
        CAM,
        "q-vault-secret",
        "Who can rotate the vault-secret token for staging?",
        t + timedelta(days=3),
    )
    share(
        core,
        SECRET,
        ANA,
        "k-vault",
        "Rotate vault tokens with the runbook",
        t + timedelta(days=4),
        "vault",
    )
    share(
        core, DM, ANA, "k-dm", "dm-only-note about pandas memory", t + timedelta(days=4), "pandas"
    )
