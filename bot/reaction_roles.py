"""The practice rules that capture, search and share call into.

Kinds of know-how picked by reaction, the "still true until" date of an
``update``, the possibly-outdated mark on results, and thanks by reaction.
The ``/cop`` commands (profile, thanks, hosts, link, curation) live in
:mod:`bot.practice_commands`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from bot.config import CaptureSettings, Settings
from bot.emoji import canonical
from bot.errors import UsageError
from bot.events import KnowhowKind, Outbound, ReactionChange, ResultItem, Where
from bot.ports import Services
from knowledge.curation import outdated_entries
from knowledge.models import ChannelRef, Entry, EntryKind, SourceKey
from knowledge.thanks import record_thanks, withdraw_reaction_thanks

if TYPE_CHECKING:
    from bot.capture import Capture

_UNTIL = re.compile(r"^(?:until|valid-until|valid_until):(\S+)$", re.IGNORECASE)


def save_kind_for(rules: CaptureSettings, emoji: str) -> KnowhowKind | None:
    """The kind of know-how a reaction saves as, or ``None`` when it saves nothing."""
    if emoji == canonical(rules.save_reaction):
        return KnowhowKind.HOWTO
    for reaction, kind in rules.kind_reactions.items():
        if emoji == canonical(reaction):
            return KnowhowKind(kind)
    return None


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
            f"Could not read the date '{match.group(1)}'; write it as YYYY-MM-DD.", command
        ) from None


def mark_outdated(services: Services, items: tuple[ResultItem, ...]) -> tuple[ResultItem, ...]:
    """Set ``outdated`` on the items to show as possibly outdated now."""
    flagged = outdated_entries(
        services.repertoire,
        [i.entry_id for i in items],
        services.clock.now(),
        update_stale_days=services.settings.practice.update_stale_days,
    )
    return tuple(replace(i, outdated=True) if i.entry_id in flagged else i for i in items)


def leaderboard_on(settings: Settings, where: Where) -> bool:
    rule = settings.rule_for(where)
    return settings.practice.leaderboard if rule.leaderboard is None else rule.leaderboard


def thanked_entry(entries: list[Entry]) -> Entry | None:
    """Of the entries made from one message, the one a thank-you is for."""
    order = {EntryKind.ANSWER: 0, EntryKind.KNOWHOW: 1, EntryKind.QUESTION: 2}
    return min(entries, key=lambda e: order[e.kind]) if entries else None


def thanks_by_reaction(
    capture: Capture, change: ReactionChange, emoji: str, src: SourceKey
) -> list[Outbound]:
    """The thanks reaction thanks the message's author (silently, like any reaction)."""
    if emoji != canonical(capture.settings.capture.thanks_reaction) or change.actor.is_bot:
        return []
    entry = thanked_entry(capture.repertoire.entries_for_message(src))
    if entry is None:
        return []
    giver_id = capture.member_id(change.actor, change.where.workspace)
    if change.added:
        record_thanks(
            capture.repertoire,
            giver_id,
            entry.author_id,
            entry_id=entry.id,
            where=ChannelRef(src.platform, src.workspace, src.channel),
            visibility=change.where.visibility.value,
            at=change.at or capture.services.clock.now(),
            via="reaction",
        )
    else:
        withdraw_reaction_thanks(capture.repertoire, giver_id, entry.id)
    return []
