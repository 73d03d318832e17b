"""Digest periods are half-open: what happens at a fire time counts in exactly one digest.

A digest firing at ``T`` covers ``[T - period, T)``; the next one covers
``[T, T + period)``. Something posted exactly at ``T`` (a fire time is a
whole minute, and chat timestamps often are too) must appear in the second
digest and not the first, in every section: know-how, answered questions,
open questions, who helped and the activity counts. Around daylight saving
changes the periods must still tile: no instant in two periods, none in
neither.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import DigestSchedule
from bot.digest import SECTION_TITLES
from bot.events import Post
from bot.periods import occurrences, period_for, schedule_period, trigger_for
from bot.schedule import DigestRuns
from tests.digest_support import (
    ANA,
    BEN,
    CAM,
    DEE,
    HELP,
    TIPS,
    MovableClock,
    make_core,
    say,
    share,
)

PARIS = ZoneInfo("Europe/Paris")
TICK = timedelta(microseconds=1)


def _section(post: Post, name: str) -> tuple[str, ...]:
    """The lines of one section (none when the digest has no such section)."""
    title = SECTION_TITLES[name]
    return next((s.lines for s in post.sections if s.title == title), ())


def _mentions(post: Post, name: str, needle: str) -> bool:
    return any(needle in line for line in _section(post, name))


@pytest.mark.parametrize(
    ("zone", "boundary"),
    [
        ("UTC", datetime(2026, 6, 10, 9, 0, tzinfo=UTC)),
        # 09:00 in Paris the morning after the clocks went back: a 25-hour period before it.
        ("Europe/Paris", datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        # ... and the morning after they went forward: a 23-hour period before it.
        ("Europe/Paris", datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    ],
)
def test_an_entry_at_a_fire_time_counts_in_exactly_one_of_two_adjacent_digests(
    tmp_path: Path, zone: str, boundary: datetime
) -> None:
    tz = ZoneInfo(zone)
    schedule = DigestSchedule(channel="slack:C-HELP", days="*", time="09:00", period_days=1)
    fires = occurrences(trigger_for(schedule, tz), boundary - timedelta(days=2), boundary)
    assert fires[-1] == boundary  # the boundary is a real fire time of the schedule
    hours = {"UTC": 24, "Europe/Paris": 25 if boundary.month == 10 else 23}[zone]
    assert boundary - fires[-2] == timedelta(hours=hours)
    clock = MovableClock(boundary + timedelta(days=2))
    core = make_core(tmp_path / "b.db", clock, {"community": {"timezone": zone}})
    # In the first period only: a question half a day before, know-how just before the boundary.
    say(
        core,
        HELP,
        ANA,
        "q-pandas",
        "How do I cut pandas memory use?",
        boundary - timedelta(hours=12),
    )
    share(core, TIPS, CAM, "k-logs", "Rotate airflow logs nightly", boundary - TICK, "airflow")
    # A question answered in the first period, with its asker's own reply exactly at the end.
    say(
        core, HELP, BEN, "q-air", "Why does my airflow sensor hang?", boundary - timedelta(hours=10)
    )
    say(
        core,
        HELP,
        ANA,
        "q-air-r1",
        "Use deferrable sensors.",
        boundary - timedelta(hours=5),
        "q-air",
    )
    say(core, HELP, BEN, "q-air-r2", "Still stuck, trying pools.", boundary, "q-air")
    # Exactly at the boundary: an answer, know-how and a new question that stays open.
    say(core, HELP, BEN, "q-pandas-r1", "Use category dtype.", boundary, "q-pandas")
    share(core, TIPS, DEE, "k-parquet", "Partition parquet by date", boundary, "parquet")
    say(core, HELP, CAM, "q-kafka", "Why does kafka consumer lag keep growing?", boundary)

    runs = DigestRuns(core.services)
    first = runs.prepare(schedule, boundary)
    second = runs.prepare(schedule, boundary + timedelta(days=1))
    assert first is not None and second is not None
    digests = (first.post, second.post)

    def where_shown(section: str, needle: str) -> list[int]:
        return [i for i, post in enumerate(digests) if _mentions(post, section, needle)]

    # Each thing said at the boundary is in the second digest, and only there.
    assert where_shown("knowhow", "Partition parquet by date") == [1]
    assert where_shown("answered", "How do I cut pandas memory") == [1]
    assert where_shown("unanswered", "kafka consumer lag") == [1]
    assert where_shown("helpers", "Ben") == [1]
    assert where_shown("helpers", "Dee") == [1]
    # One tick earlier is the first digest's.
    assert where_shown("knowhow", "Rotate airflow logs") == [0]
    assert where_shown("helpers", "Cam") == [0]
    # The first digest shows the answer given in its period, not the one at its end.
    (airflow,) = [line for line in _section(first.post, "answered") if "airflow" in line]
    assert "Ana: Use deferrable sensors." in airflow
    assert _section(first.post, "activity")[0] == "Questions asked: 2 (previous period: 0)"
    assert _section(first.post, "activity")[3] == "Answers given: 1 · know-how shared: 1"
    assert _section(second.post, "activity")[0] == "Questions asked: 1 (previous period: 2)"
    assert _section(second.post, "activity")[3] == "Answers given: 2 · know-how shared: 1"
    core.services.repertoire.close()


# ----------------------------------------------------------------------------- properties

#: Zones with daylight saving in both hemispheres, half-hour and 45-minute offsets,
#: a 30-minute DST shift (Lord Howe), and zones without DST.
ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/St_Johns",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    # Every zone above changes its clocks between 00:00 and 04:00: later wall times
    # exist, once, every day (the hours before have their own property below).
    hour=st.integers(4, 23),
    minute=st.sampled_from([0, 1, 15, 30, 45, 59]),
    weekly=st.booleans(),
    weekday=st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    first_day=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    probes=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=8),
)
def test_periods_tile_the_calendar_across_daylight_saving(
    zone: str,
    hour: int,
    minute: int,
    weekly: bool,
    weekday: str,
    first_day: date,
    probes: list[float],
) -> None:
    """A year of a daily or weekly schedule: consecutive periods meet exactly, and any
    instant falls in exactly one period; each period spans its days on the wall clock."""
    tz = ZoneInfo(zone)
    days = 7 if weekly else 1
    schedule = DigestSchedule(
        channel="slack:C1",
        days=weekday if weekly else "*",
        time=f"{hour:02d}:{minute:02d}",
        period_days=days,
    )
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    fires = occurrences(trigger_for(schedule, tz), start, start + timedelta(days=366))
    assert len(fires) in ((52, 53) if weekly else (366, 367))
    assert all(fire.tzinfo is UTC for fire in fires)  # fire times are handed out in UTC
    periods = [schedule_period(schedule, fire, tz) for fire in fires]
    for (_, end), (begin, _) in itertools.pairwise(periods):
        assert begin == end  # no gap, no overlap
    for (begin, end), fire in zip(periods, fires, strict=True):
        assert end == fire
        assert begin.tzinfo is UTC and end.tzinfo is UTC  # periods are stored and compared in UTC
        local_begin, local_end = begin.astimezone(tz), end.astimezone(tz)
        assert (local_begin.hour, local_begin.minute) == (hour, minute)
        assert (local_end.hour, local_end.minute) == (hour, minute)
        assert local_end.date() - local_begin.date() == timedelta(days=days)
    span = periods[-1][1] - periods[0][0]
    for probe in probes:
        instant = periods[0][0] + span * probe
        if instant >= periods[-1][1]:
            continue
        assert sum(1 for begin, end in periods if begin <= instant < end) == 1


def test_daily_periods_at_a_wall_time_that_happens_twice_tile() -> None:
    """02:30 happens twice in Paris on 25 October 2026: the digest fires at the first one,
    and the periods on both sides of it meet there."""
    schedule = DigestSchedule(channel="slack:C1", days="*", time="02:30", period_days=1)
    fires = occurrences(
        trigger_for(schedule, PARIS),
        datetime(2026, 10, 22, tzinfo=UTC),
        datetime(2026, 10, 29, tzinfo=UTC),
    )
    periods = [period_for(fire, 1, PARIS) for fire in fires]
    for (_, end), (begin, _) in itertools.pairwise(periods):
        assert begin == end
    assert datetime(2026, 10, 25, 0, 30, tzinfo=UTC) in fires  # 02:30 CEST, the first instance


def test_a_period_that_starts_on_a_repeated_wall_time_starts_at_its_first_instance() -> None:
    """An every-N-minutes digest can fire in the second 02:30 (CET); 364 days earlier is the
    previous year's fall-back night, whose 02:30 also happens twice: the first is taken (as
    for the daily digest above, so the periods of both kinds of schedule agree)."""
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    start, end = period_for(second_half_past_two, 364, PARIS)
    assert end == second_half_past_two
    assert start == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_an_every_n_minutes_schedule_fires_on_a_fixed_grid() -> None:
    """Interval schedules count from a fixed anchor, so a restart does not shift them."""
    schedule = DigestSchedule(channel="slack:C1", every_minutes=15, period_days=1)
    start = datetime(2026, 6, 1, 9, 7, tzinfo=UTC)
    fires = occurrences(trigger_for(schedule, PARIS), start, start + timedelta(hours=1))
    assert [f.strftime("%H:%M") for f in fires] == ["09:15", "09:30", "09:45", "10:00"]


def test_a_skipped_wall_time_leaves_no_hour_out_of_every_digest() -> None:
    """02:30 does not exist in Paris on 29 March 2026: the digest fires at 03:30 CEST and
    its period still starts at the previous day's 02:30, where the previous one ended."""
    schedule = DigestSchedule(channel="slack:C1", days="*", time="02:30", period_days=1)
    fires = occurrences(
        trigger_for(schedule, PARIS),
        datetime(2026, 3, 26, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    periods = [schedule_period(schedule, fire, PARIS) for fire in fires]
    for (_, end), (begin, _) in itertools.pairwise(periods):
        assert begin == end
    skipped_day = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert (datetime(2026, 3, 28, 1, 30, tzinfo=UTC), skipped_day) in periods


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 3),
    minute=st.sampled_from([0, 15, 30, 45, 59]),
    weekly=st.booleans(),
    weekday=st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    first_day=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
)
def test_periods_tile_the_calendar_at_hours_the_clocks_jump_over(
    zone: str, hour: int, minute: int, weekly: bool, weekday: str, first_day: date
) -> None:
    """Every zone above changes its clocks between 00:00 and 04:00: a year of a schedule in
    those hours still gives periods that meet exactly, over skipped and repeated times."""
    tz = ZoneInfo(zone)
    schedule = DigestSchedule(
        channel="slack:C1",
        days=weekday if weekly else "*",
        time=f"{hour:02d}:{minute:02d}",
        period_days=7 if weekly else 1,
    )
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    fires = occurrences(trigger_for(schedule, tz), start, start + timedelta(days=366))
    assert len(fires) in ((52, 53) if weekly else (366, 367))
    periods = [schedule_period(schedule, fire, tz) for fire in fires]
    for (_, end), (begin, _) in itertools.pairwise(periods):
        assert begin == end


def test_a_daily_midnight_digest_fires_on_the_day_after_the_clocks_go_forward() -> None:
    schedule = DigestSchedule(channel="slack:C1", days="*", time="00:00", period_days=1)
    fires = occurrences(
        trigger_for(schedule, PARIS),
        datetime(2026, 3, 27, 12, tzinfo=UTC),
        datetime(2026, 4, 1, 12, tzinfo=UTC),
    )
    assert [f.astimezone(PARIS).day for f in fires] == [28, 29, 30, 31, 1]
