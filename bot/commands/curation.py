"""Curation: ``/cop retag``, ``retitle``, ``outdated``, ``history`` and ``undo``.

Flat membership: any member may correct an entry the channel may see, and any
member may undo a change. Every change is kept with who made it, so
``/cop history`` shows it and ``/cop undo`` reverts it.
"""

from __future__ import annotations

import re

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands.arguments import actor_member, visible_entry
from bot.errors import UsageError, UserError
from bot.events import Outbound
from bot.results import entry_title
from knowledge.curation import (
    Change,
    CurationError,
    change_field,
    get_change,
    history,
    latest_undoable,
    retag,
    undo,
    valid_until,
)
from knowledge.models import Entry
from knowledge.storage import as_viewer
from knowledge.text import normalize_tag, shorten

__all__ = ["CURATION_COMMANDS"]

_CHANGE_REF = re.compile(r"^c(\d+)$", re.IGNORECASE)
_CLEAR_WORDS = {"no", "off", "clear", "false", "not", "undo", "current", "fresh"}


def _done(ctx: CommandContext, change: Change | None, entry: Entry) -> list[Outbound]:
    if change is None:
        return [ctx.reply(f"#{entry.id} already looks like that; nothing changed.")]
    return [
        ctx.reply(
            f"✏️ #{entry.id}: {change.describe()} (change c{change.id}; "
            f"anyone can undo it with `/cop undo c{change.id}`)"
        )
    ]


def _entry_and_rest(ctx: CommandContext, name: str, example: str) -> tuple[Entry, str]:
    ref, _, rest = ctx.args.strip().partition(" ")
    if not ref:
        raise UsageError(messages.which_entry(example), name)
    return visible_entry(ctx, ref, name), rest.strip()


def _retag(ctx: CommandContext) -> list[Outbound]:
    entry, rest = _entry_and_rest(ctx, "retag", "retag #12 +polars -pandas")
    words = rest.split()
    if not words:
        raise UsageError(messages.RETAG_WHICH_TAGS, "retag")
    add = tuple(w[1:] for w in words if w.startswith("+"))
    remove = tuple(w[1:] for w in words if w.startswith("-"))
    plain = tuple(w.lstrip("#") for w in words if w[0] not in "+-")
    if not any(normalize_tag(t) for t in (*add, *remove, *plain)):
        raise UsageError(messages.RETAG_NO_TAGS, "retag")
    try:
        change = retag(
            ctx.services.repertoire,
            entry.id,
            actor_member(ctx),
            ctx.invocation.at,
            add=add,
            remove=remove,
            replace=plain or None,
        )
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return _done(ctx, change, entry)


def _retitle(ctx: CommandContext) -> list[Outbound]:
    entry, rest = _entry_and_rest(ctx, "retitle", "retitle #12 Reading huge CSVs with polars")
    if not rest:
        raise UsageError(messages.RETITLE_WHAT, "retitle")
    try:
        change = change_field(
            ctx.services.repertoire,
            entry.id,
            "title",
            shorten(rest, 200),
            actor_member(ctx),
            ctx.invocation.at,
        )
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return _done(ctx, change, entry)


def _outdated(ctx: CommandContext) -> list[Outbound]:
    entry, rest = _entry_and_rest(ctx, "outdated", "outdated #12")
    flag = rest.split(" ")[0].lower() not in _CLEAR_WORDS if rest else True
    try:
        change = change_field(
            ctx.services.repertoire,
            entry.id,
            "outdated",
            flag,
            actor_member(ctx),
            ctx.invocation.at,
        )
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return _done(ctx, change, entry)


def _history(ctx: CommandContext) -> list[Outbound]:
    entry, _rest = _entry_and_rest(ctx, "history", "history #12")
    changes = history(ctx.services.repertoire, entry.id)
    header = f"#{entry.id} {entry_title(entry)}"
    until = valid_until(ctx.services.repertoire, entry.id)
    if until is not None:
        header += f" (still true until {until.isoformat()})"
    if not changes:
        return [ctx.reply(f"{header}\nNo changes since it was captured.")]
    lines = [header]
    for change in changes:
        undone = f" — undone by c{change.undone_by}" if change.undone_by else ""
        lines.append(
            f"c{change.id} · {change.at:%Y-%m-%d %H:%M} UTC · {change.member_name}: "
            f"{change.describe()}{undone}"
        )
    lines.append("Undo one with `/cop undo c<N>` (or `/cop undo #entry` for the latest).")
    return [ctx.reply("\n".join(lines))]


def _undo(ctx: CommandContext) -> list[Outbound]:
    ref = ctx.args.strip().split(" ")[0] if ctx.args.strip() else ""
    repertoire = ctx.services.repertoire
    change_match = _CHANGE_REF.match(ref)
    if change_match:
        change = get_change(repertoire, int(change_match.group(1)))
        shown = (
            repertoire.entry_for(as_viewer(ctx.viewer), change.entry_id)
            if change is not None
            else None
        )
        if change is None or shown is None:
            # The same words whether it is missing or belongs to a place this
            # channel cannot see: the answer must not tell the two apart.
            raise UserError(messages.change_not_shown(ref.lower()))
        entry = shown
    elif ref:
        entry = visible_entry(ctx, ref, "undo")
        change = latest_undoable(repertoire, entry.id)
        if change is None:
            return [ctx.reply(f"#{entry.id} has no change to undo.")]
    else:
        raise UsageError(messages.UNDO_WHICH, "undo")
    try:
        reverting = undo(repertoire, change.id, actor_member(ctx), ctx.invocation.at)
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return [
        ctx.reply(f"↩️ #{entry.id}: undid c{change.id} ({change.describe()}) as c{reverting.id}.")
    ]


_ENTRY = Param("entry", "The entry's number, e.g. #12")

CURATION_COMMANDS = (
    CommandSpec(
        "retag",
        "retag <#entry> [#tag ...] [+tag] [-tag]",
        "change an entry's tags",
        _retag,
        (_ENTRY, Param("tags", "#tags to set, +tag to add, -tag to remove", required=False)),
    ),
    CommandSpec(
        "retitle",
        "retitle <#entry> <new title>",
        "fix an entry's title",
        _retitle,
        (_ENTRY, Param("title", "The new title")),
    ),
    CommandSpec(
        "outdated",
        "outdated <#entry> [no]",
        "flag an entry as outdated (`no` clears it)",
        _outdated,
        (_ENTRY, Param("flag", "`no` clears the flag", required=False, choices=("yes", "no"))),
    ),
    CommandSpec(
        "history",
        "history <#entry>",
        "who changed an entry, and when",
        _history,
        (_ENTRY,),
    ),
    CommandSpec(
        "undo",
        "undo <c-change | #entry>",
        "undo a curation change (anyone may)",
        _undo,
        (Param("change", "A change (c12) or an entry (#12): its latest change"),),
    ),
)
