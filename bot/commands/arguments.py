"""What the practice commands take: members, entries and the one who typed the command.

Every lookup answers only what the command's channel may see: an entry from a
place it may not see reads as one that does not exist.
"""

from __future__ import annotations

import re

from bot import messages
from bot.command_registry import CommandContext
from bot.errors import UsageError, UserError
from knowledge.identity import identity_group
from knowledge.models import Entry, Member
from knowledge.storage import as_viewer
from knowledge.text import fold, shorten

__all__ = [
    "ENTRY_REF",
    "MENTION",
    "actor_member",
    "plural",
    "resolve_member",
    "visible_entry",
]

#: A member named by a chat mention: ``<@U123>``, ``<@!123>``, ``<@U123|name>``.
MENTION = re.compile(r"^<@!?([\w.-]+)(?:\|[^>]*)?>$")
#: An entry named by number: ``#12``, ``12`` or ``entry:12``.
ENTRY_REF = re.compile(r"^(?:#|entry:)?(\d+)$", re.IGNORECASE)


def plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def actor_member(ctx: CommandContext) -> int:
    """The member id of whoever typed the command."""
    inv = ctx.invocation
    return ctx.capture.member_id(inv.actor, inv.where.workspace)


def resolve_member(ctx: CommandContext, text: str, command_name: str) -> Member:
    """A member named by mention (``<@U123>``), ``platform:id``, ``@handle`` or name."""
    repertoire = ctx.services.repertoire
    where = ctx.invocation.where
    raw = text.strip()
    mention = MENTION.match(raw)
    candidates: list[Member] = []
    if mention:
        candidates = repertoire.members_with_user_id(where.platform, mention.group(1))
        if not candidates:  # a mention names a real member of this platform, even a quiet one
            member_id = repertoire.upsert_member(where.platform, where.workspace, mention.group(1))
            candidates = [m for m in [repertoire.get_member(member_id)] if m]
    elif ":" in raw and not raw.startswith("@"):
        platform, _, user_id = raw.partition(":")
        candidates = repertoire.members_with_user_id(platform.lower(), user_id)
    else:
        name = raw.lstrip("@")
        candidates = repertoire.find_members(name)
        if not candidates and name:
            wanted = fold(name).replace(" ", "")
            for member in repertoire.all_members():
                full = fold(member.display_name)
                if wanted in (full.replace(" ", ""), full.split(" ")[0]) or (
                    len(wanted) >= 3 and full.startswith(wanted)
                ):
                    candidates.append(member)
    if not candidates:
        raise UsageError(messages.unknown_member(shorten(raw, 40)), command_name)
    # The same person on several platforms is one candidate; prefer the viewer's platform.
    people: dict[int, Member] = {}
    for member in sorted(candidates, key=lambda m: (m.platform != where.platform, m.id)):
        group = identity_group(repertoire, member.id)
        if not any(g in people for g in group):
            people[member.id] = member
    if len(people) > 1:
        names = ", ".join(f"{m.display_name} ({m.platform}:{m.user_id})" for m in people.values())
        raise UsageError(messages.ambiguous_member(shorten(raw, 40), names), command_name)
    return next(iter(people.values()))


def visible_entry(ctx: CommandContext, ref: str, command_name: str) -> Entry:
    """The entry ``#12`` / ``12`` if the channel may see it (else as if it did not exist)."""
    match = ENTRY_REF.match(ref.strip())
    if match is None:
        raise UsageError(messages.not_an_entry_number(shorten(ref, 20)), command_name)
    entry = ctx.services.repertoire.entry_for(as_viewer(ctx.viewer), int(match.group(1)))
    if entry is None:
        raise UserError(messages.entry_not_shown(match.group(1)))
    return entry
