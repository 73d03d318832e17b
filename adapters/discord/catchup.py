"""Reading Discord's history back for the shared catch-up (:mod:`adapters.catchup`).

A channel's messages after the read mark come 100 at a time (Discord's
maximum per request), oldest first (``after=`` the last one read). Sources are
every channel with a history: text channels, the text chat of voice and stage
channels, and threads; a private thread is a channel of its own. Threads that
moved since the mark are found among the active threads Discord sent with the
server and the **archived** ones (``threads/archived/public``, newest archive
first, read until they were archived before the mark: posting in a thread
unarchives it, so an older one cannot hold anything new); forum posts are such
threads. Who gave a reaction is asked only for the reactions the core acts on.
discord.py paces the requests by Discord's rate-limit headers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Protocol

import discord

from adapters.catchup import Page, ReadFailed, ReadMessage
from adapters.discord.places import Directory
from adapters.discord.translate import (
    AnyChannel,
    Place,
    actor_of,
    is_chat_message,
    message_event,
)
from bot.config import Settings
from bot.emoji import canonical
from bot.events import ReactionChange
from bot.read_marks import Mark, reactions_that_matter
from knowledge.models import ChannelRef

log = logging.getLogger(__name__)

#: Discord's maximum number of messages per "Get Channel Messages" request.
PAGE_SIZE = 100

HistoryChannel = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.Thread


class ChannelSource(Protocol):
    """What the history reader needs from the adapter: its settings, places and identity."""

    settings: Settings
    directory: Directory

    async def channel(self, channel_id: int, guild_id: int | None) -> AnyChannel | None: ...

    async def place(
        self, channel: AnyChannel | None, channel_id: int, guild_id: int | None
    ) -> Place: ...

    def is_me(self, user_id: int) -> bool: ...


class DiscordHistory:
    """A ``HistoryReader`` over discord.py."""

    platform = "discord"

    def __init__(self, adapter: ChannelSource) -> None:
        self.adapter = adapter
        self._threads: dict[int, discord.Thread] = {}
        self._matter = reactions_that_matter(adapter.settings.capture)

    async def _channel(self, ref: ChannelRef, channel_id: int) -> AnyChannel | None:
        guild_id = int(ref.workspace) if ref.workspace.isdigit() else None
        if channel_id in self._threads:
            return self._threads[channel_id]
        return await self.adapter.channel(channel_id, guild_id)

    async def channel_pages(self, ref: ChannelRef, after: Mark) -> AsyncIterator[Page]:
        if not ref.channel.isdigit():
            return
        channel = await self._channel(ref, int(ref.channel))
        if not isinstance(channel, HistoryChannel):
            return  # a forum has no history of its own: its posts are threads
        async for page in self._pages(channel, _after_id(after), _after_id(after)):
            yield page

    async def thread_pages(
        self, ref: ChannelRef, thread_id: str, after: Mark
    ) -> AsyncIterator[Page]:
        if not thread_id.isdigit():
            return
        thread = await self._channel(ref, int(thread_id))
        if not isinstance(thread, discord.Thread):
            return  # a question with no thread under it (yet)
        async for page in self._pages(thread, 0, _after_id(after)):
            yield page

    async def moved_threads(self, ref: ChannelRef, after: Mark) -> set[str]:
        if not ref.channel.isdigit():
            return set()
        channel = await self._channel(ref, int(ref.channel))
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            return set()
        moved = [t for t in channel.threads if (t.last_message_id or 0) > _after_id(after)]
        try:
            async for thread in channel.archived_threads(limit=None):
                archived_at = thread.archive_timestamp
                if archived_at is not None and archived_at < after[0]:
                    break  # archived before the mark: nothing said in it since
                moved.append(thread)
        except discord.HTTPException as exc:
            log.warning("could not list the archived threads of %s: %s", channel.id, exc)
        for thread in moved:
            self._threads[thread.id] = thread
        return {str(thread.id) for thread in moved}

    async def _pages(
        self, channel: HistoryChannel, after_id: int, mark_id: int
    ) -> AsyncIterator[Page]:
        while True:
            read_at = datetime.now(UTC)  # before asking: see ``ReadMessage.read_at``
            try:
                messages = [
                    m
                    async for m in channel.history(
                        limit=PAGE_SIZE, after=discord.Object(id=after_id), oldest_first=True
                    )
                ]
            except discord.HTTPException as exc:
                lasting = isinstance(exc, discord.Forbidden | discord.NotFound)
                raise ReadFailed(f"{exc.status} {exc.text}".strip(), lasting=lasting) from exc
            if not messages:
                return
            yield [await self._read(message, message.id > mark_id, read_at) for message in messages]
            after_id = max(m.id for m in messages)
            if len(messages) < PAGE_SIZE:
                return

    async def _read(self, message: discord.Message, new: bool, read_at: datetime) -> ReadMessage:
        adapter = self.adapter
        guild_id = message.guild.id if message.guild else None
        place = await adapter.place(message.channel, message.channel.id, guild_id)
        adapter.directory.note_origin(place, message.id)
        event = None
        if is_chat_message(message) and not adapter.is_me(message.author.id):
            event = message_event(message, place, adapter.settings.discord.solved_tags)
        if isinstance(message.channel, discord.TextChannel) and message.thread is not None:
            self._threads[message.thread.id] = message.thread
        reactions: list[ReactionChange] = []
        for reaction in message.reactions:
            if not isinstance(reaction.emoji, str) or canonical(reaction.emoji) not in self._matter:
                continue
            # Who reacted is asked for after the page: as of just before that request.
            asked_at = datetime.now(UTC)
            try:
                async for user in reaction.users():
                    if adapter.is_me(user.id):
                        continue
                    actor = actor_of(user, place.where.workspace)
                    reactions.append(
                        ReactionChange(
                            place.where, str(message.id), actor, reaction.emoji, at=asked_at
                        )
                    )
            except discord.HTTPException as exc:
                log.info("could not read who reacted to %s: %s", message.id, exc)
        return ReadMessage(
            message_id=str(message.id),
            at=message.created_at.astimezone(UTC),
            event=event,
            read_at=read_at,
            new=new,
            reactions=tuple(reactions),
            opens_thread=isinstance(message.channel, discord.TextChannel)
            and message.thread is not None,
        )


def _after_id(mark: Mark) -> int:
    """The id to read after: the mark's message, else the first id of its moment."""
    return int(mark[1]) if mark[1].isdigit() else discord.utils.time_snowflake(mark[0])
