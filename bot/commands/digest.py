"""``/cop digest``: this channel's digest, now, shown only to the member who asked.

It uses the channel's schedule (its sections and period) when one is
configured, else the last seven days with every section. Nothing is logged:
asking for a preview never stops the scheduled digest.
"""

from __future__ import annotations

from bot import dm_policy, messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.config import DigestSchedule
from bot.digest import build_digest, schedule_for, target_for
from bot.errors import UsageError
from bot.events import Outbound
from bot.periods import period_for
from bot.render_text import render_post

MAX_DAYS = 366


def _digest(ctx: CommandContext) -> list[Outbound]:
    where = ctx.invocation.where
    if not dm_policy.has_digest(where):
        raise UsageError(messages.DIGEST_NOT_IN_A_CHANNEL, "digest")
    configured = schedule_for(ctx.services.settings, where)
    schedule = configured or DigestSchedule(channel=where.ref)
    words = ctx.args.split()
    if words:
        if len(words) != 1 or not words[0].isdigit() or not 1 <= int(words[0]) <= MAX_DAYS:
            raise UsageError(
                messages.digest_days(MAX_DAYS),
                "digest",
            )
        schedule = schedule.model_copy(update={"period_days": int(words[0])})
    now = ctx.services.clock.now()
    start, end = period_for(now, schedule.period_days, ctx.services.settings.community.tz)
    # A preview never says "skip": an empty period gets its one-line note.
    preview = schedule.model_copy(update={"empty": "note", "chart": False})
    post = build_digest(ctx.services, target_for(where), preview, start, end)
    assert post is not None  # empty = "note" always gives a post
    text = render_post(post)  # core replies are plain text; adapters style them
    if configured is None:
        text += "\n(No digest is scheduled for this channel; see [[digests]] in the config.)"
    return [ctx.reply(text)]


DIGEST_COMMANDS = (
    CommandSpec(
        "digest",
        "digest [days]",
        "this channel's digest now, only for you",
        _digest,
        (
            Param(
                "days",
                "How many days back (default: the configured period)",
                kind="integer",
                required=False,
                min_value=1,
                max_value=MAX_DAYS,
            ),
        ),
    ),
)
