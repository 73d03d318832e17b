"""``copbot digest``: a channel's digest now, printed or posted once per period.

The rules (what a digest holds, when it fires, exactly once) live in
``bot/``; this module only picks the outbox. The scheduler that posts digests
while the bot runs is started by :mod:`adapters.digest_jobs`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import click

from adapters.cli_options import CommandRefused, config_option, db_option, opened
from bot.channel_spec import ChannelSpec
from bot.config import DigestSchedule, Settings
from bot.core import Core
from bot.digest import build_digest, resolve_channel
from bot.events import Post
from bot.periods import latest_occurrence, period_for, schedule_period, trigger_for
from bot.ports import Outbox
from bot.render_text import render_post
from bot.runtime import AsyncCore
from bot.schedule import DigestRuns, chart_dir_for

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


@click.command("digest")
@click.option("--channel", "spec", required=True, help="platform:ID or platform:#name.")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Print it (default).")
@click.option("--post", "mode", flag_value="post", help="Post it to the channel, once per period.")
@click.option("--days", type=click.IntRange(1, 366), default=None, help="Days it covers.")
@click.option("--chart/--no-chart", default=None, help="Attach the PNG chart (needs matplotlib).")
@db_option
@config_option
def digest_command(
    spec: str,
    mode: str,
    days: int | None,
    chart: bool | None,
    db_path: str | None,
    config_path: Path | None,
) -> None:
    """Show (or post) a channel's digest now."""

    with opened(config_path, db_path) as (loaded, core):
        charts = chart_dir_for(loaded.database)
        try:
            if mode == "post":
                click.echo(asyncio.run(_post_digest(core, spec, days, charts, chart)))
            else:
                click.echo(preview(core, spec, days, charts, chart))
        except DigestError as exc:
            raise CommandRefused(str(exc)) from exc


async def _post_digest(
    core: Core, spec: str, days: int | None, charts: Path, chart: bool | None
) -> str:
    from adapters.base import Outboxes
    from adapters.runner import make_adapters

    outbox: Outbox = PrintOutbox()
    async_core = AsyncCore(core)
    try:
        if not spec.startswith("console:"):
            outboxes = Outboxes()
            for adapter in make_adapters(async_core, core.services.settings, http=False, port=None):
                outboxes.register(adapter)
            outbox = outboxes
        return await post_now(core, spec, days, outbox, charts, chart)
    finally:
        async_core.close()
