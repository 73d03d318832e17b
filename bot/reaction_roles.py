"""What a reaction means besides accepting an answer: saving know-how, and thanks.

Capture (:meth:`bot.capture.Capture.on_reaction`) asks these rules about every
reaction. The save reaction saves a message as a how-to and each of
``kind_reactions`` as its kind of know-how; the thanks reaction thanks the
message's author, silently, like any reaction, and taking it back withdraws it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.config import CaptureSettings
from bot.emoji import canonical
from bot.events import Actor, KnowhowKind, ReactionChange
from knowledge.models import ChannelRef, Entry, EntryKind, SourceKey
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.thanks import record_thanks, withdraw_reaction_thanks

__all__ = ["save_kind_for", "thank_by_reaction", "thanked_entry"]


def save_kind_for(rules: CaptureSettings, emoji: str) -> KnowhowKind | None:
    """The kind of know-how a reaction saves as, or ``None`` when it saves nothing."""
    if emoji == canonical(rules.save_reaction):
        return KnowhowKind.HOWTO
    for reaction, kind in rules.kind_reactions.items():
        if emoji == canonical(reaction):
            return KnowhowKind(kind)
    return None


def thanked_entry(entries: list[Entry]) -> Entry | None:
    """Of the entries made from one message, the one a thank-you is for."""
    order = {EntryKind.ANSWER: 0, EntryKind.KNOWHOW: 1, EntryKind.QUESTION: 2}
    return min(entries, key=lambda e: order[e.kind]) if entries else None


def thank_by_reaction(
    repertoire: RelationalRepertoire,
    rules: CaptureSettings,
    change: ReactionChange,
    emoji: str,
    src: SourceKey,
    member_id: Callable[[Actor, str], int],
    now: datetime,
) -> None:
    """The thanks reaction (``emoji``, canonical) on ``src`` thanks, or un-thanks, its author.

    ``member_id`` is capture's: the giver becomes a member only when there is
    an entry to thank.
    """
    if emoji != canonical(rules.thanks_reaction) or change.actor.is_bot:
        return
    entry = thanked_entry(repertoire.entries_for_message(src))
    if entry is None:
        return
    giver_id = member_id(change.actor, change.where.workspace)
    if change.added:
        record_thanks(
            repertoire,
            giver_id,
            entry.author_id,
            entry_id=entry.id,
            where=ChannelRef(src.platform, src.workspace, src.channel),
            visibility=change.where.visibility.value,
            at=change.at or now,
            via="reaction",
        )
    else:
        withdraw_reaction_thanks(repertoire, giver_id, entry.id)
