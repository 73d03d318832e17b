"""When digests fire, and that each (channel, period) is posted exactly once.

The real APScheduler runs in the test's event loop; only its idea of "now"
comes from the test's clock (see ``tests/digest_support.py``), so a week of
schedule takes no time and nothing depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import DigestSchedule
from bot.periods import occurrences, period_for, trigger_for
from bot.runtime import AsyncCore
from bot.schedule import RETRY_EVERY, DigestRuns, DigestScheduler
from knowledge.sqlite.repertoire import Repertoire
from tests.digest_support import (
    ANA,
    HELP,
    MovableClock,
    RecordingOutbox,
    known_community,
    make_core,
    run_due_jobs,
    say,
    scheduler_time,
)

PARIS = ZoneInfo("Europe/Paris")
UTC_ZONE = ZoneInfo("UTC")
#: Monday 2 March 2026, 09:00 UTC: the schedule's fire time in most tests.
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEKLY = {"channel": "slack:C-HELP", "days": "mon", "time": "09:00", "catch_up_hours": 6}


# ----------------------------------------------------------------------------- time


def test_daily_periods_tile_across_both_dst_changes() -> None:
    schedule = DigestSchedule(channel="slack:C1", days="*", time="09:00", period_days=1)
    trigger = trigger_for(schedule, PARIS)
    fires = occurrences(
        trigger, datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC)
    )
    assert all(f.astimezone(PARIS).hour == 9 for f in fires)  # 09:00 on the wall clock
    periods = [period_for(f, 1, PARIS) for f in fires]
    for (_, end), (start, _) in itertools.pairwise(periods):
        assert start == end  # no gap, no overlap
    lengths = {p[0].date(): (p[1] - p[0]) for p in periods}
    assert lengths[datetime(2026, 3, 28).date()] == timedelta(hours=23)  # spring forward
    assert lengths[datetime(2026, 10, 24).date()] == timedelta(hours=25)  # fall back
    assert lengths[datetime(2026, 6, 1).date()] == timedelta(hours=24)


def test_a_wall_time_that_happens_twice_fires_once() -> None:
    schedule = DigestSchedule(channel="slack:C1", days="*", time="02:30", period_days=1)
    fires = occurrences(
        trigger_for(schedule, PARIS),
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 27, tzinfo=UTC),
    )
    assert [f.astimezone(PARIS).day for f in fires] == [24, 25, 26]
    # Starting between the two 02:30s of 25 October does not fire the second one.
    between = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST, before the clock goes back
    assert trigger_for(schedule, PARIS).get_next_fire_time(None, between).day == 26


def test_a_wall_time_that_does_not_exist_fires_once() -> None:
    schedule = DigestSchedule(channel="slack:C1", days="*", time="02:30", period_days=1)
    fires = occurrences(
        trigger_for(schedule, PARIS),
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        datetime(2026, 3, 30, 12, tzinfo=UTC),
    )
    assert [f.astimezone(PARIS).strftime("%d %H:%M") for f in fires] == ["29 03:30", "30 02:30"]


def test_days_of_week() -> None:
    schedule = DigestSchedule(channel="slack:C1", days="mon,thu", time="17:45")
    fires = occurrences(trigger_for(schedule, UTC_ZONE), MONDAY_9, MONDAY_9 + timedelta(days=14))
    assert [f.strftime("%a %H:%M") for f in fires] == ["Mon 17:45", "Thu 17:45"] * 2


# ----------------------------------------------------------------------------- the log


def test_racing_claims_on_two_connections_post_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Repertoire.open(path).close()  # migrated once
    start, end = MONDAY_9 - timedelta(days=7), MONDAY_9
    winners: list[int | None] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        repertoire = Repertoire.open(path)
        try:
            barrier.wait()
            winners.append(repertoire.digest_log.claim("slack:C1", start, end, MONDAY_9))
        finally:
            repertoire.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([w for w in winners if w is not None]) == 1


def _scheduler(
    path: Path, clock: MovableClock, outbox: RecordingOutbox, **schedule: object
) -> tuple[DigestScheduler, AsyncCore]:
    core = make_core(path, clock, {"digests": [{**WEEKLY, **schedule}]})
    async_core = AsyncCore(core)
    scheduler = DigestScheduler(
        async_core, outbox, clock=clock, scheduler=AsyncIOScheduler(timezone=UTC_ZONE)
    )
    return scheduler, async_core


async def _stop(scheduler: DigestScheduler, async_core: AsyncCore) -> None:
    scheduler.shutdown()
    await asyncio.sleep(0)  # let the loop run the shutdown it was handed
    async_core.close()
    async_core.core.services.repertoire.close()


def _seed(path: Path, clock: MovableClock) -> None:
    core = make_core(path, clock)
    known_community(core, MONDAY_9)
    core.services.repertoire.close()


# ----------------------------------------------------------------------------- the scheduler


async def test_schedule_fires_and_posts_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 - timedelta(minutes=1))
    _seed(path, clock)
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        scheduler, async_core = _scheduler(path, clock, outbox)
        await scheduler.start()
        assert outbox.posts == []  # nothing due yet, nothing missed
        clock.at = MONDAY_9
        assert await run_due_jobs(scheduler.scheduler) == [EVENT_JOB_EXECUTED]
        assert len(outbox.posts) == 1
        assert outbox.posts[0].title.startswith("Weekly digest for #help")
        # Firing again for the same occurrence (a second wake-up) posts nothing.
        assert await scheduler.run(0, window=timedelta(hours=1)) is False
        clock.at = MONDAY_9 + timedelta(days=7)
        say(
            async_core.core,
            HELP,
            ANA,
            "q-new",
            "How do I test a DAG quickly?",
            clock.at - timedelta(days=1),
        )
        # The weekly job and the retry job are both due: they race for the period.
        assert await run_due_jobs(scheduler.scheduler, expected=2) == [EVENT_JOB_EXECUTED] * 2
        assert len(outbox.posts) == 2  # the next week is a new period, posted once
        runs = async_core.core.services.repertoire.digest_log.runs()
        assert [(r.period_end, r.status, r.message_id) for r in runs] == [
            (MONDAY_9, "posted", "msg-1"),
            (MONDAY_9 + timedelta(days=7), "posted", "msg-2"),
        ]
        await _stop(scheduler, async_core)


async def test_a_late_wakeup_within_the_grace_still_posts(tmp_path: Path) -> None:
    """APScheduler's default misfire grace (1 s) would skip this run silently."""
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 - timedelta(minutes=1))
    _seed(path, clock)
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        scheduler, async_core = _scheduler(path, clock, outbox)
        await scheduler.start()
        clock.at = MONDAY_9 + timedelta(minutes=20)  # the loop was busy, the laptop asleep
        # The digest job (20 min late) and the retry job both run; one of them posts.
        assert await run_due_jobs(scheduler.scheduler, expected=2) == [EVENT_JOB_EXECUTED] * 2
        assert len(outbox.posts) == 1
        run = async_core.core.services.repertoire.digest_log.runs()[0]
        assert run.period_end == MONDAY_9  # the period of the missed time, not of "now"
        await _stop(scheduler, async_core)


async def test_restart_after_a_missed_time_catches_up_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 + timedelta(hours=2))  # the bot was down at 09:00
    _seed(path, clock)
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        for _restart in range(3):
            scheduler, async_core = _scheduler(path, clock, outbox)
            await scheduler.start()
            await _stop(scheduler, async_core)
            clock.advance(timedelta(minutes=30))
    assert len(outbox.posts) == 1
    assert outbox.posts[0].title.startswith("Weekly digest for #help, 23 Feb – 02 Mar")


async def test_no_catch_up_beyond_the_grace_period(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 + timedelta(hours=7))  # catch_up_hours = 6
    _seed(path, clock)
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        scheduler, async_core = _scheduler(path, clock, outbox)
        await scheduler.start()
        await _stop(scheduler, async_core)
    assert outbox.posts == []


async def test_two_processes_racing_for_one_period_post_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 - timedelta(minutes=1))
    _seed(path, clock)
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        first, first_core = _scheduler(path, clock, outbox)
        second, second_core = _scheduler(path, clock, outbox)  # its own connection and thread
        await first.start()
        await second.start()
        clock.at = MONDAY_9
        await asyncio.gather(run_due_jobs(first.scheduler), run_due_jobs(second.scheduler))
        # And a catch-up racing both of them.
        await asyncio.gather(first.catch_up(), second.catch_up())
        await _stop(first, first_core)
        await _stop(second, second_core)
    assert len(outbox.posts) == 1


async def test_a_failed_post_is_retried_then_posted_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 + timedelta(minutes=5))
    _seed(path, clock)
    outbox = RecordingOutbox(fail_next=1)
    with scheduler_time(clock):
        scheduler, async_core = _scheduler(path, clock, outbox)
        await scheduler.start()  # the catch-up's post fails
        runs = async_core.core.services.repertoire.digest_log.runs()
        assert [r.status for r in runs] == ["failed"] and outbox.posts == []
        clock.advance(RETRY_EVERY)  # the retry job comes round
        assert await run_due_jobs(scheduler.scheduler) == [EVENT_JOB_EXECUTED]
        assert len(outbox.posts) == 1
        assert await scheduler.catch_up() == 0
        assert len(outbox.posts) == 1
        await _stop(scheduler, async_core)


async def test_an_empty_period_is_logged_and_posts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    clock = MovableClock(MONDAY_9 + timedelta(minutes=5))
    make_core(path, clock).services.repertoire.close()  # no activity at all
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        scheduler, async_core = _scheduler(path, clock, outbox)
        await scheduler.start()
        assert outbox.posts == []
        assert [r.status for r in async_core.core.services.repertoire.digest_log.runs()] == [
            "empty"
        ]
        await _stop(scheduler, async_core)
    noted = RecordingOutbox()
    with scheduler_time(clock):
        scheduler, async_core = _scheduler(tmp_path / "n.db", clock, noted, empty="note")
        await scheduler.start()
        await _stop(scheduler, async_core)
    assert len(noted.posts) == 1 and not noted.posts[0].sections


async def test_time_zone_schedule_fires_at_local_time(tmp_path: Path) -> None:
    """09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer."""
    path = tmp_path / "r.db"
    winter = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # Monday, CET
    summer = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Monday, CEST
    clock = MovableClock(winter - timedelta(minutes=1))
    _seed(path, clock)
    config = {"community": {"timezone": "Europe/Paris"}, "digests": [{**WEEKLY, "empty": "note"}]}
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        core = make_core(path, clock, config)
        async_core = AsyncCore(core)
        scheduler = DigestScheduler(
            async_core, outbox, clock=clock, scheduler=AsyncIOScheduler(timezone=PARIS)
        )
        await scheduler.start()
        clock.at = winter
        await run_due_jobs(scheduler.scheduler)
        clock.at = summer - timedelta(seconds=1)
        scheduler.scheduler.wakeup()
        await asyncio.sleep(0)
        assert len(outbox.posts) == 1  # 07:59:59 CEST is not 09:00
        clock.at = summer
        await run_due_jobs(scheduler.scheduler)
        await _stop(scheduler, async_core)
    ends = [r.period_end for r in Repertoire.open(path).digest_log.runs()]
    assert ends == [winter, summer]
    assert summer - winter == timedelta(days=7) - timedelta(hours=1)  # the week DST began
    assert len(outbox.posts) == 2


def test_prepare_builds_nothing_for_a_claimed_period(tmp_path: Path) -> None:
    clock = MovableClock(MONDAY_9)
    core = make_core(tmp_path / "r.db", clock)
    known_community(core, MONDAY_9)
    runs = DigestRuns(core.services)
    schedule = DigestSchedule.model_validate(WEEKLY)
    first = runs.prepare(schedule, MONDAY_9)
    assert first is not None and first.post.sections
    assert runs.prepare(schedule, MONDAY_9) is None  # claimed, not yet posted
    runs.finish(first.run_id, "posted", "m1")
    assert runs.prepare(schedule, MONDAY_9) is None


@pytest.mark.parametrize("days", ["monday-ish", "8", "1-5", "sun,xyz"])
def test_bad_days_is_a_config_error_naming_the_key(days: str) -> None:
    from bot.config import ConfigError, parse_settings

    with pytest.raises(ConfigError, match=r"digests\.0\.days"):
        parse_settings({"digests": [{"channel": "slack:C1", "days": days}]})


async def test_a_digest_whose_build_fails_is_retried_then_posted_once(tmp_path: Path) -> None:
    """A build that raises (here: the chart cannot be written) must not leave the slot claimed.

    The chart directory's place is taken by a file, so drawing the chart raises
    inside the build. Once the file is gone, the retry job builds and posts the
    same period's digest, once.
    """
    path = tmp_path / "r.db"
    charts = tmp_path / "charts"
    charts.write_text("not a directory")
    clock = MovableClock(MONDAY_9 + timedelta(minutes=5))
    _seed(path, clock)
    outbox = RecordingOutbox()
    with scheduler_time(clock):
        core = make_core(path, clock, {"digests": [{**WEEKLY, "chart": True}]})
        async_core = AsyncCore(core)
        scheduler = DigestScheduler(
            async_core,
            outbox,
            clock=clock,
            scheduler=AsyncIOScheduler(timezone=UTC_ZONE),
            chart_dir=charts,
        )
        await scheduler.start()  # the catch-up's build raises
        log = core.services.repertoire.digest_log
        assert [(r.period_end, r.status) for r in log.runs()] == [(MONDAY_9, "failed")]
        assert outbox.posts == []
        charts.unlink()
        clock.advance(RETRY_EVERY)  # the retry job comes round
        assert await run_due_jobs(scheduler.scheduler) == [EVENT_JOB_EXECUTED]
        assert len(outbox.posts) == 1
        assert outbox.posts[0].image_path.startswith(str(charts))
        assert [(r.period_end, r.status, r.message_id) for r in log.runs()] == [
            (MONDAY_9, "posted", "msg-1")
        ]
        clock.advance(RETRY_EVERY)
        assert await scheduler.catch_up() == 0
        assert len(outbox.posts) == 1
        await _stop(scheduler, async_core)
