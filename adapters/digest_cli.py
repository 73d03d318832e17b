"""Digests from the composition root: ``copbot digest`` and the scheduler in chat and run.

The rules (what a digest holds, when it fires, exactly once) live in
``bot/``; this module only picks the outbox and starts or stops things.
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.channel_spec import ChannelSpec
from bot.config import DigestSchedule, Settings
from bot.core import Core
from bot.digest import build_digest, resolve_channel
from bot.events import Post
from bot.periods import latest_occurrence, period_for, schedule_period, trigger_for
from bot.ports import Outbox
from bot.render_text import render_post
from bot.runtime import AsyncCore
from bot.schedule import DigestRuns, DigestScheduler, chart_dir_for

log = logging.getLogger(__name__)

#: ``copbot digest --post`` posts the latest scheduled occurrence within this look-back.
POST_LOOKBACK = timedelta(days=8)


class DigestError(Exception):
    """``copbot digest`` cannot do what was asked; the message says why."""


class PrintOutbox:
    """Posts written to a text stream (the terminal), for console channels."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    async def post(self, post: Post) -> str | None:
        print(render_post(post), file=self.out, flush=True)
        return None


def schedule_for_spec(
    settings: Settings, spec: str, days: int | None, chart: bool | None = None
) -> DigestSchedule:
    """The configured schedule of a channel spec (else the defaults), ``days`` overriding."""
    try:
        wanted = ChannelSpec.parse(spec)
    except ValueError as exc:
        raise DigestError(str(exc)) from None
    schedule = next((s for s in settings.digests if s.spec == wanted), None)
    schedule = schedule or DigestSchedule(channel=spec)
    if days is not None:
        schedule = schedule.model_copy(update={"period_days": days})
    if chart is not None:
        schedule = schedule.model_copy(update={"chart": chart})
    return schedule


def preview(
    core: Core, spec: str, days: int | None, chart_dir: Path | None, chart: bool | None = None
) -> str:
    """The digest of the period ending now, rendered as text; nothing logged or posted."""
    services = core.services
    schedule = schedule_for_spec(services.settings, spec, days, chart)
    schedule = schedule.model_copy(update={"empty": "note"})
    target = resolve_channel(services.repertoire, spec)
    start, end = period_for(
        services.clock.now(), schedule.period_days, services.settings.community.tz
    )
    post = build_digest(services, target, schedule, start, end, chart_dir=chart_dir)
    assert post is not None
    return render_post(post)


async def post_now(
    core: Core,
    spec: str,
    days: int | None,
    outbox: Outbox,
    chart_dir: Path | None,
    chart: bool | None = None,
) -> str:
    """Post the digest of the latest scheduled period (or the one ending now), once."""
    services = core.services
    settings = services.settings
    schedule = schedule_for_spec(settings, spec, days, chart)
    now = services.clock.now()
    occurrence = None
    if any(s.channel == spec for s in settings.digests):
        trigger = trigger_for(schedule, settings.community.tz)
        occurrence = latest_occurrence(trigger, now, POST_LOOKBACK)
    occurrence = occurrence or now.replace(second=0, microsecond=0)
    runs = DigestRuns(services, chart_dir)
    prepared = runs.prepare(schedule, occurrence)
    start, end = schedule_period(schedule, occurrence, settings.community.tz)
    span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if prepared is None:
        done = runs.log.find(spec, start, end)
        status = done.status if done else "empty"
        return f"Nothing posted: the digest of {spec} for {span} is {status}."
    try:
        await outbox.post(prepared.post)
    except Exception as exc:
        runs.finish(prepared.run_id, "failed")
        raise DigestError(f"posting to {spec} failed ({exc}); run again to retry") from exc
    runs.finish(prepared.run_id, "posted")
    return f"Posted the digest of {spec} for {span}."


def demo_schedule(channel_ref: str, every_minutes: int) -> DigestSchedule:
    """The demo's digest: every N minutes for the current channel, a week back."""
    from bot.chart import charts_available

    return DigestSchedule(
        channel=channel_ref, every_minutes=every_minutes, empty="note", chart=charts_available()
    )


async def start_digests(
    async_core: AsyncCore,
    outbox: Outbox,
    db_path: Path,
    extra: tuple[DigestSchedule, ...] = (),
) -> DigestScheduler | None:
    """Start the digest and follow-up scheduler when anything is configured; else ``None``."""
    settings = async_core.core.services.settings
    schedules = (*settings.digests, *extra)
    has_follow_ups = any(r.follow_up_hours for r in settings.channels.rules)
    if not schedules and not has_follow_ups:
        return None
    scheduler = DigestScheduler(
        async_core, outbox, chart_dir=chart_dir_for(db_path), schedules=schedules
    )
    await scheduler.start()
    return scheduler
