"""``/cop ask`` and ``/cop share``: adding to the repertoire on purpose.

``ask`` posts the question for everyone and captures it as if it had been
asked in chat (the adapter binds it to the message it posts). ``share`` keeps
know-how, of a kind, and an ``update`` may say until when it holds.
"""

from __future__ import annotations

import re
from datetime import date

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.errors import UsageError
from bot.events import IncomingMessage, KnowhowKind, Outbound, SaveRequest
from knowledge.text import extract_tags, strip_tags, title_from

__all__ = ["ASKED_PREFIX", "ASK_COMMAND", "SHARE_COMMAND", "take_until"]

_UNTIL = re.compile(r"^(?:until|valid-until|valid_until):(\S+)$", re.IGNORECASE)

#: A ``/cop ask`` question's message id until the platform posts it (then its real id).
ASKED_PREFIX = "ask-"


def _ask(ctx: CommandContext) -> list[Outbound]:
    if not ctx.args.strip():
        raise UsageError(messages.ASK_WHAT, "ask")
    inv = ctx.invocation
    message_id = ASKED_PREFIX + (inv.event_id or f"{inv.actor.user_id}-{inv.at.timestamp():.6f}")
    captured = ctx.capture.on_message(
        IncomingMessage(
            where=inv.where,
            author=inv.actor,
            message_id=message_id,
            text=ctx.args,
            created_at=inv.at,
            event_id="",
        ),
        explicit_question=True,
    )
    if captured is None:
        raise UsageError(messages.ASK_EMPTY, "ask")
    entry, _created = captured
    name = inv.actor.display_name or inv.actor.user_id
    return [
        ctx.reply(
            f"❓ {name} asks: {ctx.args.strip()}\n(Answer in this thread; the asker can mark "
            f"the answer that solved it.)",
            ephemeral=False,
            anchor_entry_id=entry.id,
        )
    ]


def take_until(text: str, command: str = "share") -> tuple[date | None, str]:
    """Take a leading ``until:YYYY-MM-DD`` off ``text``: ``(date or None, the rest)``."""
    first, _, rest = text.strip().partition(" ")
    match = _UNTIL.match(first)
    if match is None:
        return None, text.strip()
    try:
        return date.fromisoformat(match.group(1)), rest.strip()
    except ValueError:
        raise UsageError(
            messages.bad_date(match.group(1)), command
        ) from None


def _share(ctx: CommandContext) -> list[Outbound]:
    text = ctx.args.strip()
    kind = KnowhowKind.HOWTO
    first, _, rest = text.partition(" ")
    if first.lower().startswith("kind:"):
        wanted = first.split(":", 1)[1].lower()
        try:
            kind = KnowhowKind(wanted)
        except ValueError:
            kinds = ", ".join(k.value for k in KnowhowKind)
            raise UsageError(messages.unknown_kind(wanted, kinds), "share") from None
        text = rest.strip()
    valid_until, text = take_until(text)
    if valid_until is not None and kind != KnowhowKind.UPDATE:
        raise UsageError(messages.SHARE_UNTIL_NOT_UPDATE, "share")
    if not strip_tags(text):
        raise UsageError(messages.SHARE_WHAT, "share")
    inv = ctx.invocation
    message_id = f"share-{inv.event_id or f'{inv.actor.user_id}-{inv.at.timestamp():.6f}'}"
    return ctx.capture.on_save(
        SaveRequest(
            where=inv.where,
            saver=inv.actor,
            message_id=message_id,
            text=text,
            author=inv.actor,
            created_at=inv.at,
            title=title_from(text),
            tags=extract_tags(text),
            kind=kind,
            valid_until=valid_until,
        )
    )


_KINDS = tuple(k.value for k in KnowhowKind)

ASK_COMMAND = CommandSpec(
    "ask",
    "ask <question>",
    "ask the community; answers in the thread are kept",
    _ask,
    (Param("question", "Your question"),),
)
SHARE_COMMAND = CommandSpec(
    "share",
    "share [kind:howto|resource|story|update] [until:YYYY-MM-DD] <know-how> #tags",
    "add know-how (an update may say until when it holds)",
    _share,
    (
        Param("kind", "What kind of know-how", required=False, choices=_KINDS, prefix="kind:"),
        Param(
            "until",
            "An update holds until this day (YYYY-MM-DD)",
            required=False,
            prefix="until:",
        ),
        Param("text", "What to keep; #tags welcome"),
    ),
)
