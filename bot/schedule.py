"""Digests and follow-ups on a schedule: APScheduler in the bot's loop, the log as truth.

Two APScheduler 3 traps shape this module:

* its default ``misfire_grace_time`` is one second, so a job that wakes late
  (a busy loop, a suspended laptop) is silently skipped: ours is the
  schedule's catch-up window, with ``coalesce=True`` and ``max_instances=1``;
* re-adding a stored job at start-up with ``replace_existing=True``
  recomputes its next run and drops a run missed while the bot was down: we
  keep jobs in memory only, and at start-up catch up ourselves: for each
  schedule, the latest occurrence within ``catch_up_hours`` runs once if the
  digest log has no row for it.

Every run goes claim -> post -> mark through :class:`~knowledge.relational.digest_log.DigestLog`,
so a restart, a catch-up racing the regular firing, or a second process on
the same database posts a (channel, period) once. The claim and the building
happen on the core's database thread; the post goes out through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import ChannelRule, DigestSchedule
from bot.digest import build_digest, resolve_channel
from bot.events import Post
from bot.followup import FollowUps
from bot.periods import latest_occurrence, schedule_period, trigger_for
from bot.ports import Clock, Outbox, Services
from bot.runtime import AsyncCore
from knowledge.backends import DatabaseTarget

log = logging.getLogger(__name__)

#: A firing job looks back at least this far for its occurrence (catch_up_hours may be 0).
MIN_FIRE_WINDOW = timedelta(minutes=5)
#: How often unanswered questions are checked for a follow-up.
FOLLOW_UP_EVERY = timedelta(minutes=10)
#: How often a digest whose post failed (platform down) is tried again, within its catch-up window.
RETRY_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PreparedDigest:
    run_id: int
    post: Post


class DigestRuns:
    """The database side of a digest run: claim and build, then mark. Database thread only."""

    def __init__(self, services: Services, chart_dir: Path | None = None) -> None:
        self.services = services
        self.chart_dir = chart_dir
        self.log = services.repertoire.digest_log

    def prepare(self, schedule: DigestSchedule, occurrence: datetime) -> PreparedDigest | None:
        """Claim the (channel, period) of ``occurrence`` and build its post.

        ``None`` when the slot was already taken (posted, racing, or empty and
        skipped) or the period is empty and the schedule says skip.
        """
        tz = self.services.settings.community.tz
        start, end = schedule_period(schedule, occurrence, tz)
        now = self.services.clock.now()
        run_id = self.log.claim(schedule.channel, start, end, now)
        if run_id is None:
            log.info("digest for %s ending %s already claimed; not posting", schedule.channel, end)
            return None
        try:
            target = resolve_channel(self.services.repertoire, schedule.channel)
            post = build_digest(
                self.services, target, schedule, start, end, chart_dir=self.chart_dir
            )
        except Exception:
            self.log.mark(run_id, "failed", now)
            raise
        if post is None:
            self.log.mark(run_id, "empty", now)
            return None
        return PreparedDigest(run_id, post)

    def finish(self, run_id: int, status: str, message_id: str = "") -> None:
        self.log.mark(run_id, status, self.services.clock.now(), message_id)


class DigestScheduler:
    """Runs every configured digest and the follow-up scan in the bot's event loop."""

    def __init__(
        self,
        core: AsyncCore,
        outbox: Outbox,
        *,
        clock: Clock | None = None,
        scheduler: AsyncIOScheduler | None = None,
        chart_dir: Path | None = None,
        follow_up_every: timedelta = FOLLOW_UP_EVERY,
        schedules: tuple[DigestSchedule, ...] | None = None,
    ) -> None:
        services = core.services
        self.core = core
        self.outbox = outbox
        self.settings = services.settings
        self.clock = clock or services.clock
        self.tz = self.settings.community.tz
        self.scheduler = scheduler or AsyncIOScheduler(timezone=self.tz)
        self.runs = DigestRuns(services, chart_dir)
        self.follow_ups = FollowUps(services)
        self.follow_up_every = follow_up_every
        self.schedules = self.settings.digests if schedules is None else schedules

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Schedule every digest (in memory), start, then catch up on missed ones once."""
        for index, schedule in enumerate(self.schedules):
            grace = _grace(schedule)
            self.scheduler.add_job(
                self.fire,
                trigger_for(schedule, self.tz),
                args=[index],
                id=f"digest-{index}",
                name=f"digest {schedule.channel}",
                misfire_grace_time=int(max(grace, MIN_FIRE_WINDOW).total_seconds()),
                coalesce=True,
                max_instances=1,
            )
        if self.schedules:
            # Idempotent by the log: posted periods are skipped, failed ones claimed again.
            self.scheduler.add_job(
                self.catch_up,
                self._every(RETRY_EVERY),
                id="digest-retry",
                name="retry failed digests",
                misfire_grace_time=int(RETRY_EVERY.total_seconds()),
                coalesce=True,
                max_instances=1,
            )
        if self.follow_ups.rules():
            self.scheduler.add_job(
                self.follow_up_scan,
                self._every(self.follow_up_every),
                id="follow-ups",
                name="unanswered follow-ups",
                misfire_grace_time=int(self.follow_up_every.total_seconds()),
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.start()
        await self.catch_up()
        if self.follow_ups.rules():
            await self.follow_up_scan()

    def _every(self, interval: timedelta) -> IntervalTrigger:
        """An interval counted from our clock (APScheduler's default start is its own now)."""
        return IntervalTrigger(
            seconds=interval.total_seconds(),
            start_date=self.clock.now() + interval,
            timezone=self.tz,
        )

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # ------------------------------------------------------------------ digests

    async def catch_up(self) -> int:
        """Post, once, each schedule's latest occurrence within its catch-up window."""
        posted = 0
        for index, schedule in enumerate(self.schedules):
            if await self.run(index, window=_grace(schedule)):
                posted += 1
        return posted

    async def fire(self, index: int) -> None:
        """The scheduled job: run the occurrence that is due now."""
        await self.run(index, window=max(_grace(self.schedules[index]), MIN_FIRE_WINDOW))

    async def run(self, index: int, *, window: timedelta) -> bool:
        """Run schedule ``index``'s latest occurrence within ``window``; ``True`` if posted."""
        schedule = self.schedules[index]
        if window <= timedelta(0):
            return False
        occurrence = latest_occurrence(trigger_for(schedule, self.tz), self.clock.now(), window)
        if occurrence is None:
            return False
        return await self.run_occurrence(schedule, occurrence)

    async def run_occurrence(self, schedule: DigestSchedule, occurrence: datetime) -> bool:
        """Claim, post, mark one occurrence; ``True`` when this call posted it."""
        try:
            prepared = await self.core.run(self.runs.prepare, schedule, occurrence)
        except Exception:
            log.exception("could not build the digest for %s", schedule.channel)
            return False
        if prepared is None:
            return False
        try:
            message_id = await self.outbox.post(prepared.post)
        except Exception:
            log.exception("posting the digest to %s failed; it will be retried", schedule.channel)
            await self.core.run(self.runs.finish, prepared.run_id, "failed")
            return False
        await self.core.run(self.runs.finish, prepared.run_id, "posted", message_id or "")
        return True

    # ------------------------------------------------------------------ follow-ups

    async def follow_up_scan(self) -> int:
        """Send the follow-up of every question that is due; returns how many went out."""
        sent = 0
        due: list[tuple[int, ChannelRule]] = await self.core.run(self.follow_ups.due)
        for entry_id, rule in due:
            try:
                prepared = await self.core.run(self.follow_ups.prepare, entry_id, rule)
            except Exception:
                log.exception("could not build the follow-up of entry %s", entry_id)
                continue
            if prepared is None:
                continue
            try:
                message_id = await self.outbox.post(prepared.post)
            except Exception:
                log.exception("posting the follow-up of entry %s failed", entry_id)
                await self.core.run(self.follow_ups.finish, entry_id, "failed")
                continue
            await self.core.run(self.follow_ups.finish, entry_id, "posted", message_id or "")
            sent += 1
        return sent


def _grace(schedule: DigestSchedule) -> timedelta:
    return timedelta(hours=schedule.catch_up_hours)


def chart_dir_for(database: DatabaseTarget | str | Path) -> Path:
    """Digest charts live beside the database file, in ``charts/`` (a server has no folder:
    see :attr:`~knowledge.backends.DatabaseTarget.local_dir`)."""
    if isinstance(database, DatabaseTarget):
        return database.local_dir / "charts"
    return Path(database).resolve().parent / "charts"
