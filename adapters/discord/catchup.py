"""Catch up on what was said while copbot was away (a restart, a RESUME that failed).

The core keeps a read mark per channel: the newest message it saw there. On
every READY, each marked channel's history after that mark is read, and so
is the history of its threads (forum posts included) that moved since, and
each message goes through the same handler as a live MESSAGE_CREATE.
Replays are harmless: entries are keyed on the message. discord.py paces the
requests by Discord's rate-limit headers; a cap bounds a long absence.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

#: At most this many messages per channel or thread in one catch-up.
MAX_PER_SOURCE = 1_000


async def catch_up(adapter: DiscordAdapter) -> int:
    """Read every marked channel (and its threads) from its mark; how many messages were read."""
    marks = await adapter.core.run(adapter.core.core.read_marks, "discord")
    read = 0
    for ref, (_at, last_id) in marks.items():
        if not (last_id.isdigit() and ref.channel.isdigit()):
            continue
        guild_id = int(ref.workspace) if ref.workspace.isdigit() else None
        channel = await adapter.channel(int(ref.channel), guild_id)
        if channel is None:
            continue
        for source in _sources(channel, int(last_id)):
            try:
                async for message in source.history(
                    after=discord.Object(id=int(last_id)), limit=MAX_PER_SOURCE, oldest_first=True
                ):
                    await adapter.on_message(message)
                    read += 1
            except discord.HTTPException as exc:
                log.warning("catching up on Discord channel %s failed: %s", source.id, exc)
    if read:
        log.info("caught up on %d Discord message(s) said while away", read)
    return read


def _sources(channel: object, last_id: int) -> list[discord.TextChannel | discord.Thread]:
    """The channel itself when it has a history, and its threads that moved after the mark."""
    sources: list[discord.TextChannel | discord.Thread] = []
    if isinstance(channel, discord.TextChannel | discord.Thread):
        sources.append(channel)
    if isinstance(channel, discord.TextChannel | discord.ForumChannel):
        sources.extend(t for t in channel.threads if (t.last_message_id or 0) > last_id)
    return sources
