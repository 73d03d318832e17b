"""``/cop link`` and ``/cop unlink``: one member's identities on several platforms.

A link needs both sides: it is asked for on one platform and confirmed from
the other, so nobody can claim another member's identity.
"""

from __future__ import annotations

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands.arguments import MENTION, actor_member
from bot.errors import UsageError
from bot.events import Outbound
from knowledge.identity import IdentityError, linked_identities, pending_links, request_link, unlink

__all__ = ["IDENTITY_COMMANDS"]


def _split_identity(text: str, command_name: str) -> tuple[str, str]:
    platform, sep, user_id = text.strip().partition(":")
    mention = MENTION.match(user_id.strip())
    if mention:
        user_id = mention.group(1)
    if not sep or not platform or not user_id.strip():
        raise UsageError(
            messages.IDENTITY_SHAPE,
            command_name,
        )
    return platform.lower(), user_id.strip()


def _link(ctx: CommandContext) -> list[Outbound]:
    repertoire = ctx.services.repertoire
    me = actor_member(ctx)
    if not ctx.args.strip():
        lines = []
        for member in linked_identities(repertoire, me):
            lines.append(f"• linked: {member.platform}:{member.user_id} ({member.display_name})")
        for pending in pending_links(repertoire, me):
            if pending.outgoing:
                lines.append(
                    f"• waiting for {pending.to_platform}:{pending.to_user_id} to confirm "
                    f"(there: `/cop link {pending.from_member.platform}:"
                    f"{pending.from_member.user_id}`)"
                )
            else:
                asker = pending.from_member
                lines.append(
                    f"• {asker.platform}:{asker.user_id} ({asker.display_name}) says it is you: "
                    f"confirm with `/cop link {asker.platform}:{asker.user_id}`"
                )
        if not lines:
            lines.append(
                "No linked identities. On one platform type `/cop link <other platform>:<your "
                "id there>`, then confirm from the other platform."
            )
        return [ctx.reply("\n".join(lines))]
    platform, user_id = _split_identity(ctx.args, "link")
    try:
        result = request_link(repertoire, me, platform, user_id, ctx.invocation.at)
    except IdentityError as exc:
        raise UsageError(str(exc), "link") from None
    inv = ctx.invocation
    back = f"`/cop link {inv.where.platform}:{inv.actor.user_id}`"
    if result.status == "confirmed":
        other = result.other
        name = f"{other.platform}:{other.user_id}" if other else f"{platform}:{user_id}"
        return [ctx.reply(f"🔗 Linked: you are also {name}. Both sides confirmed.")]
    if result.status == "already-linked":
        return [ctx.reply(f"You are already linked with {platform}:{user_id}.")]
    return [
        ctx.reply(
            f"Half done: to confirm that {platform}:{user_id} is you, type {back} there. "
            "The link needs a confirmation from both sides."
        )
    ]


def _unlink(ctx: CommandContext) -> list[Outbound]:
    platform, user_id = _split_identity(ctx.args, "unlink")
    if unlink(ctx.services.repertoire, actor_member(ctx), platform, user_id):
        return [ctx.reply(f"Unlinked {platform}:{user_id}.")]
    return [ctx.reply(f"You had no link with {platform}:{user_id}.")]


IDENTITY_COMMANDS = (
    CommandSpec(
        "link",
        "link [platform:user-id]",
        "link your identities on Slack and Discord",
        _link,
        (
            Param(
                "identity",
                "You on the other platform, e.g. slack:U0123 (empty: your links)",
                required=False,
            ),
        ),
    ),
    CommandSpec(
        "unlink",
        "unlink platform:user-id",
        "remove a link between your identities",
        _unlink,
        (Param("identity", "The identity to unlink, e.g. slack:U0123"),),
    ),
)
