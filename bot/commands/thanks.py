"""``/cop thanks @member [for #entry]``, and the thanks leaderboard where a channel wants one.

A thank-you counts once per member and entry; thanking oneself (on any linked
identity) is not counted. The leaderboard is off unless the channel's rule or
``practice.leaderboard`` turns it on: points can turn help into a contest.
"""

from __future__ import annotations

from datetime import timedelta

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands.arguments import ENTRY_REF, actor_member, plural, resolve_member, visible_entry
from bot.config import Settings
from bot.errors import UsageError, UserError
from bot.events import Outbound, Where
from bot.results import entry_title
from knowledge.identity import identity_group
from knowledge.models import ChannelRef, Entry
from knowledge.storage import Viewer
from knowledge.text import shorten
from knowledge.thanks import record_thanks, thanks_leaderboard

__all__ = ["THANKS_COMMAND", "leaderboard_on"]


def leaderboard_on(settings: Settings, where: Where) -> bool:
    """Whether the thanks leaderboard may be shown in ``where`` (its rule, else the default)."""
    rule = settings.rule_for(where)
    return settings.practice.leaderboard if rule.leaderboard is None else rule.leaderboard


def _thread_answer(ctx: CommandContext, member_id: int) -> Entry | None:
    """In a thread, the member's latest answer there (what a thank-you is likely for)."""
    inv = ctx.invocation
    if not inv.thread_id:
        return None
    ids = identity_group(ctx.services.repertoire, member_id)
    here = ChannelRef(inv.where.platform, inv.where.workspace, inv.where.channel)
    return ctx.services.repertoire.latest_answer_in_thread(
        Viewer.in_channel(here), here, inv.thread_id, tuple(ids)
    )


def _thanks(ctx: CommandContext) -> list[Outbound]:
    repertoire = ctx.services.repertoire
    text = ctx.args.strip()
    if not text or text.lower() in {"top", "leaderboard", "board"}:
        return _leaderboard(ctx, asked=bool(text))
    first, _, rest = text.partition(" ")
    rest = rest.strip()
    if rest.lower().startswith("for "):
        rest = rest[4:].strip()
    entry: Entry | None = None
    if ENTRY_REF.match(first) and first.startswith("#"):
        entry = visible_entry(ctx, first, "thanks")
        receiver_id = entry.author_id
    else:
        receiver_id = resolve_member(ctx, first, "thanks").id
        ref = rest.split(" ")[0] if rest else ""
        if ref.startswith("#") and ENTRY_REF.match(ref):
            entry = visible_entry(ctx, ref, "thanks")
            rest = rest[len(ref) :].strip()
            if entry.author_id not in identity_group(repertoire, receiver_id):
                raise UserError(messages.entry_not_by(entry.id, entry.author_name))
        else:
            entry = _thread_answer(ctx, receiver_id)
    giver_id = actor_member(ctx)
    receiver = repertoire.get_member(receiver_id)
    assert receiver is not None
    if receiver_id in identity_group(repertoire, giver_id):
        raise UserError(messages.THANKS_YOURSELF)
    where = ctx.invocation.where
    recorded = record_thanks(
        repertoire,
        giver_id,
        receiver_id,
        entry_id=entry.id if entry else None,
        where=ctx.viewer,
        visibility=where.visibility.value,
        at=ctx.invocation.at,
        reason=shorten(rest, 200),
    )
    what = f" for “{entry_title(entry)}” (#{entry.id})" if entry else ""
    if rest:
        what += f": {shorten(rest, 120)}"
    if not recorded:
        return [
            ctx.reply(
                f"You already thanked {receiver.display_name}"
                + (f" for #{entry.id}" if entry else "")
                + "; a thank-you counts once per member and entry."
            )
        ]
    giver = ctx.invocation.actor.display_name or ctx.invocation.actor.user_id
    return [ctx.reply(f"🙏 {giver} thanks {receiver.display_name}{what}", ephemeral=False)]


def _leaderboard(ctx: CommandContext, asked: bool) -> list[Outbound]:
    where = ctx.invocation.where
    if not leaderboard_on(ctx.services.settings, where):
        if not asked:
            raise UsageError(messages.THANKS_WHOM, "thanks")
        return [
            ctx.reply(
                "There is no thanks leaderboard in this channel (points can turn help into a "
                "contest; a channel can turn one on with `leaderboard = true`). "
                "`/cop profile @member` shows who thanked whom."
            )
        ]
    since = ctx.services.clock.now() - timedelta(days=90)
    helpers = thanks_leaderboard(ctx.services.repertoire, ctx.viewer, since)
    if not helpers:
        return [ctx.reply("No thanks in the last 90 days yet.")]
    lines = ["Most thanked in the last 90 days:"]
    for rank, helper in enumerate(helpers, 1):
        lines.append(
            f"{rank}. {helper.member.display_name} — {plural(helper.count, 'thank-you', 'thanks')}"
        )
    return [ctx.reply("\n".join(lines))]


THANKS_COMMAND = CommandSpec(
    "thanks",
    "thanks @member [for #entry | for <what>]",
    "thank a member for their help",
    _thanks,
    (
        Param("member", "A @member to thank (or `top` for the leaderboard)"),
        Param("what", "What for: an #entry or a few words", required=False, prefix="for "),
    ),
)
