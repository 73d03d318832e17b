"""The digest and follow-up scheduler beside a running chat (``copbot run``, ``chat``, ``demo``).

It starts only when a digest or a follow-up is configured; the demo may add
its own every-N-minutes digest of the current channel.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import DigestSchedule
from bot.ports import Outbox
from bot.runtime import AsyncCore
from bot.schedule import DigestScheduler, chart_dir_for
from knowledge.backends import DatabaseTarget

__all__ = ["demo_schedule", "start_digests"]


def demo_schedule(channel_ref: str, every_minutes: int) -> DigestSchedule:
    """The demo's digest: every N minutes for the current channel, a week back."""
    from bot.chart import charts_available

    return DigestSchedule(
        channel=channel_ref, every_minutes=every_minutes, empty="note", chart=charts_available()
    )


async def start_digests(
    async_core: AsyncCore,
    outbox: Outbox,
    db_path: DatabaseTarget | Path,
    extra: tuple[DigestSchedule, ...] = (),
) -> DigestScheduler | None:
    """Start the digest and follow-up scheduler when anything is configured; else ``None``."""
    settings = async_core.services.settings
    schedules = (*settings.digests, *extra)
    has_follow_ups = any(r.follow_up_hours for r in settings.channels.rules)
    if not schedules and not has_follow_ups:
        return None
    scheduler = DigestScheduler(
        async_core, outbox, chart_dir=chart_dir_for(db_path), schedules=schedules
    )
    await scheduler.start()
    return scheduler
