"""``/cop web [on|off]``: whether what a member wrote appears on the public web view.

``off`` hides the member (and every identity linked to them) from every page
at once: their questions, answers and know-how, and their member page. Other
members' answers under a hidden question go with it (they have no page left).
``on`` shows them again. Without a word, it says where the member stands and
whether this channel is published.
"""

from __future__ import annotations

from bot import messages
from bot.capture import channel_ref
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands.arguments import actor_member
from bot.errors import UsageError
from bot.events import Outbound
from bot.publication import web_viewer
from knowledge.web_consent import is_hidden_from_web, set_web_optout

_OFF = {"off", "hide", "no", "optout", "opt-out"}
_ON = {"on", "show", "yes", "optin", "opt-in"}


def _web(ctx: CommandContext) -> list[Outbound]:
    word = ctx.args.strip().lower()
    repertoire = ctx.services.repertoire
    member_id = actor_member(ctx)
    now = ctx.services.clock.now()
    if word in _OFF:
        set_web_optout(repertoire, member_id, True, now)
        return [
            ctx.reply(
                "Done: nothing you wrote is shown on the public web view any more, and you have "
                "no member page there (search engines drop their copies when they next visit). "
                "`/cop web on` shows it again."
            )
        ]
    if word in _ON:
        set_web_optout(repertoire, member_id, False, now)
        hidden = is_hidden_from_web(repertoire, member_id)
        note = (
            " One of your linked identities still says off: say `/cop web on` there too."
            if hidden
            else ""
        )
        return [
            ctx.reply(
                "Done: what you wrote in published channels is shown on the public web view "
                f"again.{note}"
            )
        ]
    if word:
        raise UsageError(messages.WEB_WHICH, "web")
    settings = ctx.services.settings.web
    web = web_viewer(repertoire, ctx.services.settings)
    published = web.publishes(channel_ref(ctx.invocation.where))
    where = settings.base_url or "the web view"
    lines = [
        f"This channel is {'published on' if published else 'not published on'} {where}."
        + ("" if published else " Only channels an admin lists in `[web] channels` are."),
        "You are hidden from it (`/cop web on` to show what you wrote)."
        if is_hidden_from_web(repertoire, member_id)
        else "What you write in published channels is shown there (`/cop web off` hides it all).",
    ]
    return [ctx.reply("\n".join(lines))]


WEB_COMMANDS = (
    CommandSpec(
        "web",
        "web [on|off]",
        "show (on) or hide (off) what you wrote on the public web view",
        _web,
        (
            Param(
                "setting",
                "off hides what you wrote on the web view, on shows it (none: where you stand)",
                required=False,
                choices=("on", "off"),
            ),
        ),
    ),
)
