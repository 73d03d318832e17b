"""Finding Discord channels and threads, from discord.py's cache or the API.

Threads are channels of their own in Discord, and archived ones are not in the
cache: an edit or a reaction in one must still be located under its parent
(see :mod:`adapters.discord.translate`). What the API returns is remembered,
in bounded memory.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import discord

from adapters.discord.translate import AnyChannel, EveryoneRoles, Place, place_of
from bot.events import Where

log = logging.getLogger(__name__)

#: How many channel lookups and message origins we remember.
MEMORY = 5000


class Directory:
    """Channels by id, and which Discord channel (thread) holds a given message."""

    def __init__(self, client: discord.Client, everyone_roles: EveryoneRoles = ()) -> None:
        self.client = client
        self.everyone_roles = everyone_roles
        self._channels: OrderedDict[int, AnyChannel] = OrderedDict()
        self._origins: OrderedDict[tuple[str, str], int] = OrderedDict()

    async def channel(self, channel_id: int, guild_id: int | None) -> AnyChannel | None:
        """A channel or thread from discord.py's cache, else from the API (archived threads)."""
        guild = self.client.get_guild(guild_id) if guild_id else None
        found: AnyChannel | None
        if guild is not None:
            found = guild.get_channel_or_thread(channel_id)
        else:
            found = self.client.get_channel(channel_id)
        if found is not None:
            return found
        if channel_id in self._channels:
            self._channels.move_to_end(channel_id)
            return self._channels[channel_id]
        if not guild_id:
            return None
        try:
            fetched = await self.client.fetch_channel(channel_id)
        except discord.NotFound:
            return None  # e.g. a question with no thread under it yet
        except discord.HTTPException as exc:
            log.warning("could not look up Discord channel %s: %s", channel_id, exc)
            return None
        self._remember(self._channels, channel_id, fetched)
        return fetched

    async def place(
        self, channel: AnyChannel | None, channel_id: int, guild_id: int | None
    ) -> Place:
        if channel is None or isinstance(channel, discord.PartialMessageable):
            channel = await self.channel(channel_id, guild_id)
        return place_of(channel, guild_id, channel_id, self.everyone_roles)

    @staticmethod
    def _remember(memory: OrderedDict, key: object, value: object) -> None:  # type: ignore[type-arg]
        memory[key] = value
        memory.move_to_end(key)
        while len(memory) > MEMORY:
            memory.popitem(last=False)

    def note_origin(self, place: Place, message_id: int) -> None:
        """Remember that ``message_id`` lives in the thread of ``place`` (for fetching it)."""
        self._remember(
            self._origins, (place.where.channel, str(message_id)), place.source_channel_id
        )

    def origin(self, where: Where, message_id: str) -> int:
        """The id of the Discord channel that holds the message (a thread, or the channel)."""
        return self._origins.get((where.channel, message_id), int(where.channel))
