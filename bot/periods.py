"""When a digest fires and which period it covers, in the community's time zone.

The same trigger drives APScheduler and our own look-back ("which occurrence
was the last one before now?"), so catching up after downtime and firing on
time always agree on the period, and so on the digest log's key.

Daylight saving: a wall-clock time that happens twice (autumn, 02:30 in
Europe/Paris) fires once, at its first instance; a time that does not exist
(spring, 02:30) fires once, an hour later on the clock, as APScheduler does.
A period is measured on the wall clock, so "daily at 09:00" covers 09:00 to
09:00 even across the 23- or 25-hour day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import DigestSchedule

#: Interval schedules count from this instant, so their occurrences are the
#: same before and after a restart.
INTERVAL_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """A cron trigger that fires a repeated wall-clock time (DST fall-back) once."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and is_repeated_wall_time(fire, self.timezone):
            # Step in UTC: wall-clock arithmetic on the repeated hour loses ``fold``.
            after = fire.astimezone(UTC)
            fire = super().get_next_fire_time(after, after + _TICK)
        return self._earlier_on_a_later_day(fire, now)

    def _earlier_on_a_later_day(self, fire: datetime | None, now: datetime) -> datetime | None:
        """An occurrence APScheduler skipped across a clock change, if there is one.

        APScheduler 3.11 computes the next fire after a 00:00 fire on the day the
        clocks go forward as two days later. Asking again from the start of each
        day in between finds the occurrence it stepped over.
        """
        if fire is None:
            return None
        tz = self.timezone
        day = now.astimezone(tz).replace(tzinfo=None).date() + timedelta(days=1)
        last = fire.astimezone(tz).date()
        while day < last:
            start = datetime(day.year, day.month, day.day).replace(tzinfo=tz)
            found: datetime | None = super().get_next_fire_time(None, start)
            if found is not None and found < fire:
                return found
            day += timedelta(days=1)
        return fire


def is_repeated_wall_time(moment: datetime, tz: tzinfo) -> bool:
    """True for the second instance of a local time that happens twice (DST fall-back)."""
    local = moment.astimezone(UTC).astimezone(tz)
    if local.fold != 1:
        return False
    return local.replace(fold=0).utcoffset() != local.utcoffset()


def trigger_for(schedule: DigestSchedule, tz: ZoneInfo) -> BaseTrigger:
    """The APScheduler trigger of one digest schedule."""
    if schedule.every_minutes is not None:
        return IntervalTrigger(
            minutes=schedule.every_minutes, start_date=INTERVAL_ANCHOR, timezone=tz
        )
    hour, minute = (int(part) for part in schedule.time.split(":"))
    return WallClockCronTrigger(
        day_of_week=schedule.days, hour=hour, minute=minute, second=0, timezone=tz
    )


def occurrences(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in ``[start, end]``, in UTC, oldest first."""
    out: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        fire = fire.astimezone(UTC)
        out.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + _TICK)
    return out


def latest_occurrence(trigger: BaseTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The last fire time at or before ``now`` and no older than ``within``, in UTC."""
    found = occurrences(trigger, now - within, now)
    return found[-1] if found else None


def period_for(
    end: datetime, days: int, tz: tzinfo, wall_time: time | None = None
) -> tuple[datetime, datetime]:
    """The ``[start, end)`` a digest firing at ``end`` covers: ``days`` back on the wall clock.

    ``wall_time`` is the schedule's own time of day, when it has one. It matters on the
    day the clocks go forward over it: the digest fires later on the clock than
    scheduled, and the period must still start at the scheduled time, where the
    previous period ended (the fire time alone cannot say: Pacific/Chatham's 03:00
    and 04:00 fire at one instant that day).
    """
    local_end = end.astimezone(tz)
    wall_end = local_end.replace(tzinfo=None, fold=0)
    if wall_time is not None:
        wall_end = _scheduled_wall_end(end, tz, wall_time) or wall_end
    start = (wall_end - timedelta(days=days)).replace(tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def schedule_period(
    schedule: DigestSchedule, fire: datetime, tz: tzinfo
) -> tuple[datetime, datetime]:
    """The period of one of ``schedule``'s fire times (see :func:`period_for`)."""
    return period_for(fire, schedule.period_days, tz, wall_time_of(schedule))


def wall_time_of(schedule: DigestSchedule) -> time | None:
    """The schedule's time of day; ``None`` for every-N-minutes schedules."""
    if schedule.every_minutes is not None:
        return None
    hour, minute = (int(part) for part in schedule.time.split(":"))
    return time(hour, minute)


def _scheduled_wall_end(end: datetime, tz: tzinfo, wall_time: time) -> datetime | None:
    """The skipped wall time a fire at ``end`` stands for, if the clocks jumped over it.

    A wall time that does not exist resolves (``fold=0``) to the instant the
    scheduler fires it, on its own day or, when the jump crosses midnight, the
    day before the fire's.
    """
    local_day = end.astimezone(tz).date()
    for day in (local_day, local_day - timedelta(days=1)):
        wall = datetime.combine(day, wall_time)
        resolved = wall.replace(tzinfo=tz)
        exists = resolved.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
        if not exists and resolved.astimezone(UTC) == end.astimezone(UTC):
            return wall
    return None
