"""``/cop profile [@member]``: what a member knows and has given, as this channel may see it."""

from __future__ import annotations

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands.arguments import actor_member, plural, resolve_member
from bot.errors import UserError
from bot.events import Outbound, ResultItem
from bot.results import entry_item, entry_title, mark_outdated
from knowledge.profiles import member_profile

__all__ = ["PROFILE_COMMAND"]


def _profile(ctx: CommandContext) -> list[Outbound]:
    repertoire = ctx.services.repertoire
    if ctx.args.strip():
        member = resolve_member(ctx, ctx.args, "profile")
        member_id = member.id
    else:
        member_id = actor_member(ctx)
    profile = member_profile(repertoire, member_id, ctx.viewer)
    if profile is None:  # pragma: no cover - resolve_member returns known members
        raise UserError(messages.UNKNOWN_PROFILE)
    name = profile.member.display_name
    lines = [f"👤 *{name}* ({profile.member.platform})"]
    if profile.identities:
        also = ", ".join(f"{m.platform} as {m.display_name}" for m in profile.identities)
        lines[0] += f" — also on {also}"
    if profile.is_empty:
        lines.append("Nothing here yet that this channel may see.")
        return [ctx.reply("\n".join(lines))]
    given: list[str] = []
    if profile.answers:
        given.append(f"{plural(profile.answers, 'answer')} ({profile.accepted} accepted)")
    if profile.knowhow:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(profile.knowhow_by_kind.items()))
        given.append(f"{profile.knowhow} know-how ({kinds})")
    summary = "Gave " + "; ".join(given) if given else "Gave nothing yet"
    summary += f"; asked {plural(profile.questions, 'question')}."
    lines.append(summary)
    if profile.thanks:
        givers = ", ".join(profile.thanks.givers[:6])
        more = len(profile.thanks.givers) - 6
        lines.append(
            f"🙏 Thanked {plural(profile.thanks.count, 'time')} by {givers}"
            + (f" and {more} more" if more > 0 else "")
            + "."
        )
    if profile.topics:
        parts = []
        for topic in profile.topics:
            bits = []
            if topic.accepted:
                bits.append(f"{topic.accepted} accepted")
            if topic.answers - topic.accepted:
                bits.append(plural(topic.answers - topic.accepted, "other answer"))
            if topic.knowhow:
                bits.append(f"{topic.knowhow} know-how")
            parts.append(f"#{topic.tag} ({', '.join(bits)})")
        lines.append("Knows about: " + ", ".join(parts))
    if profile.open_questions:
        lines.append("Asked, still open:")
        for item in profile.open_questions:
            state = (
                "no answer yet"
                if item.answers == 0
                else f"{plural(item.answers, 'answer')}, none accepted"
            )
            lines.append(f"  • #{item.entry.id} {entry_title(item.entry)} ({state})")
    items: tuple[ResultItem, ...] = ()
    if profile.recent:
        lines.append("Recent contributions:")
        items = mark_outdated(
            ctx.services, tuple(entry_item(c.entry, c.title) for c in profile.recent)
        )
    return [ctx.reply("\n".join(lines), items=items)]


PROFILE_COMMAND = CommandSpec(
    "profile",
    "profile [@member]",
    "what a member knows and has given",
    _profile,
    (Param("member", "A @member, a name or platform:user-id (default: you)", required=False),),
)
