"""The Discord adapter: discord.py events in, the core's answers out.

It translates (:mod:`adapters.discord.translate`), calls the core through its
database thread (:class:`bot.runtime.AsyncCore`), and hands what comes back
to the outbox (:mod:`adapters.discord.outbox`). It decides nothing about the
community: what is a question, an answer, an accept or a save is the core's
business.

Commands always defer first (``ephemeral=True``), because Discord drops an
interaction not answered within 3 seconds; the core's replies then go out as
follow-ups.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime

import discord

from adapters.catchup import CatchUp, CatchUpReport
from adapters.discord.catchup import DiscordHistory
from adapters.discord.client import CopbotClient
from adapters.discord.outbox import InteractionContext, Outbox
from adapters.discord.places import Directory
from adapters.discord.translate import (
    AnyChannel,
    Place,
    actor_of,
    delete_event,
    edit_event,
    forum_tags,
    is_chat_message,
    is_solved,
    message_event,
    place_of,
    reaction_event,
    split_tags,
    visibility_of,
)
from adapters.supervisor import CredentialsRejected
from bot.config import ConfigError, Settings
from bot.events import (
    AcceptMark,
    Actor,
    ChannelVisibilityChanged,
    CommandInvocation,
    ForumPostChanged,
    InboundEvent,
    Post,
    SaveRequest,
    ShareRequest,
    SuggestionFeedback,
)
from bot.read_marks import Mark
from bot.runtime import AsyncCore
from knowledge.models import ChannelRef

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "DISCORD_TOKEN"


class DiscordAdapter:
    """A connection to Discord for one community (satisfies ``PlatformAdapter``)."""

    platform = "discord"

    def __init__(
        self,
        core: AsyncCore,
        settings: Settings,
        *,
        token: str | None = None,
        sync_commands: bool = True,
    ) -> None:
        self.core = core
        self.settings = settings
        self._token = token if token is not None else os.environ.get(TOKEN_ENV_VAR, "")
        if not self._token.strip():
            raise ConfigError(
                f"[discord] is enabled but {TOKEN_ENV_VAR} is not set: export the bot token "
                "from the Discord developer portal (Bot > Reset Token), see the README section "
                "'Connect to Discord'."
            )
        self._sync_commands = sync_commands
        self._connect()
        self.catchup = CatchUp(core, DiscordHistory(self), self._handle)
        self._marks: dict[ChannelRef, Mark] | None = None
        self._catching_up = asyncio.Lock()
        self._started = False

    def _connect(self) -> None:
        """A discord.py client and what sends through it (a closed client cannot log in again)."""
        self.client = CopbotClient(self, sync_commands=self._sync_commands)
        self.directory = Directory(self.client, self.settings.discord.everyone_roles)
        self.outbox = Outbox(self.client, self.core, self.directory)

    # ------------------------------------------------------------------ PlatformAdapter

    async def start(self) -> None:
        """Log in and stay connected until closed (each attempt with a fresh client)."""
        if self._started:
            self._connect()
        self._started = True
        try:
            await self.client.start(self._token)
        except discord.LoginFailure:
            raise CredentialsRejected(
                TOKEN_ENV_VAR,
                f"Discord refused {TOKEN_ENV_VAR}: reset the bot token in the developer portal "
                "(Bot > Reset Token) and export the new one.",
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(
                "Discord refused the Message Content intent: turn on 'Message Content Intent' "
                "under Bot > Privileged Gateway Intents in the developer portal."
            ) from None

    async def post(self, post: Post) -> str | None:
        """Send a message nobody asked for in the moment (a digest); its message id."""
        return await self.outbox.post(post)

    async def close(self) -> None:
        """Close the client; its HTTP session is closed even when this close is cancelled.

        discord.py closes in a task of its own and keeps it: a close cancelled as
        it begins (the runner stopping while the supervisor closes a failed
        attempt) cancels that task before it ran, which left the HTTP session
        open and made every later close re-raise the cancellation.
        """
        client = self.client
        try:
            await client.close()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this close is being cancelled: the caller stops
            # else: an earlier close was cancelled; what it left undone is done below
        finally:
            await asyncio.shield(client.http.close())  # closing a closed session is a no-op

    async def begin_catch_up(self) -> None:
        """A new gateway session: live messages must not move the read marks past the gap."""
        self._marks = await self.catchup.begin()

    async def catch_up(self, guild_id: int | None = None) -> CatchUpReport:
        """Read what was said while away, from each channel's read mark (``adapters.catchup``).

        ``guild_id``: only that server's channels (copbot was added back to it).
        """
        async with self._catching_up:
            try:
                if guild_id is not None:
                    marks = await self.core.run(self.core.marks.marks, "discord")
                    only = {ref for ref in marks if ref.workspace == str(guild_id)}
                    return await self.catchup.run(marks, only=only)
                pending, self._marks = self._marks, None
                return await self.catchup.run(pending or await self.catchup.begin())
            except Exception:  # a failed catch-up must not stop live capture
                log.exception("catching up on missed Discord messages failed")
                return CatchUpReport(failures=1)

    # ------------------------------------------------------------------ gateway events

    async def _handle(
        self,
        event: InboundEvent,
        interaction: discord.Interaction | None = None,
        actor: Actor | None = None,
    ) -> None:
        """Let the core answer ``event``; its private replies go to ``actor`` (or the caller)."""
        outbound = await self.core.handle(event)
        if actor is None and interaction is not None:
            actor = actor_of(interaction.user, event.where.workspace)
        await self.outbox.deliver(outbound, InteractionContext(interaction), actor)

    async def channel(self, channel_id: int, guild_id: int | None) -> AnyChannel | None:
        return await self.directory.channel(channel_id, guild_id)

    async def place(
        self, channel: AnyChannel | None, channel_id: int, guild_id: int | None
    ) -> Place:
        return await self.directory.place(channel, channel_id, guild_id)

    def is_me(self, user_id: int) -> bool:
        return self.client.user is not None and user_id == self.client.user.id

    async def on_message(self, message: discord.Message) -> None:
        if not is_chat_message(message) or self.is_me(message.author.id):
            return
        guild_id = message.guild.id if message.guild else None
        place = await self.place(message.channel, message.channel.id, guild_id)
        await self._handle(message_event(message, place, self.settings.discord.solved_tags))

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Edits come raw, so a message edited after a restart (not in the cache) still syncs."""
        if self.is_me(payload.message.author.id):
            return
        place = await self.place(None, payload.channel_id, payload.guild_id)
        event = edit_event(payload.message, place)
        if event is not None:
            await self._handle(event)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        place = await self.place(None, payload.channel_id, payload.guild_id)
        await self._handle(delete_event(payload.message_id, place))

    async def on_raw_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if self.is_me(payload.user_id):
            return
        place = await self.place(None, payload.channel_id, payload.guild_id)
        # A FetchMessage for this message must look in the thread, not the parent.
        self.directory.note_origin(place, payload.message_id)
        user = payload.member or self.client.get_user(payload.user_id)
        change = reaction_event(payload, place, user)
        await self._handle(change, actor=change.actor)

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        """Permissions changed so that @everyone can (no longer) view it: tell the core now.

        Everything said in the channel (and its threads, placed in it) follows.
        """
        if visibility_of(before) == visibility_of(after):
            return
        place = place_of(after, after.guild.id, after.id)
        await self._handle(ChannelVisibilityChanged(place.where, datetime.now(UTC)))

    async def on_thread_create(self, thread: discord.Thread) -> None:
        """Join new public threads so their messages reach us (private ones need an invite)."""
        if thread.me is None and thread.type != discord.ChannelType.private_thread:
            try:
                await thread.join()
            except discord.HTTPException as exc:
                log.warning("could not join thread %s: %s", thread.id, exc)

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        """A forum post's tags or title changed: tell the core what changed."""
        if not isinstance(after.parent, discord.ForumChannel):
            return
        solved_names = self.settings.discord.solved_tags
        was, now = is_solved(before, solved_names), is_solved(after, solved_names)
        old_tags, new_tags = forum_tags(before, solved_names), forum_tags(after, solved_names)
        if was == now and old_tags == new_tags and before.name == after.name:
            return
        place = place_of(after, after.guild.id, after.id, self.directory.everyone_roles)
        await self._handle(
            ForumPostChanged(
                where=place.where,
                thread_id=str(after.id),
                solved=now if was != now else None,
                tags=new_tags if old_tags != new_tags else None,
                title=after.name if before.name != after.name else "",
            )
        )

    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        """A post that was not cached (archived, or from before a restart) changed.

        With no "before" to compare, only what is safe to repeat is sent: the
        tags, the title, and "solved" when a solved tag is on. (A missing
        solved tag is not sent: it may just never have been applied.)
        """
        if payload.thread is not None:
            return  # cached: on_thread_update compares before and after
        parent = await self.channel(payload.parent_id, payload.guild_id)
        if not isinstance(parent, discord.ForumChannel):
            return
        names = []
        for tag_id in payload.data.get("applied_tags", []):
            tag = parent.get_tag(int(tag_id))
            if tag is not None:
                names.append(tag.name)
        tags, solved = split_tags(names, self.settings.discord.solved_tags)
        place = place_of(parent, payload.guild_id, payload.parent_id, self.directory.everyone_roles)
        await self._handle(
            ForumPostChanged(
                where=place.where,
                thread_id=str(payload.thread_id),
                solved=True if solved else None,
                tags=tags,
                title=str(payload.data.get("name", "")),
            )
        )

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """A moderator purged messages: each one's entries go."""
        place = await self.place(None, payload.channel_id, payload.guild_id)
        for message_id in sorted(payload.message_ids):
            await self._handle(delete_event(message_id, place))

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A deleted forum post takes its question (the starter message) with it."""
        parent = await self.channel(payload.parent_id, payload.guild_id)
        if not isinstance(parent, discord.ForumChannel):
            return
        place = place_of(parent, payload.guild_id, payload.parent_id, self.directory.everyone_roles)
        await self._handle(delete_event(payload.thread_id, place))

    # ------------------------------------------------------------------ interactions

    async def _accept(self, interaction: discord.Interaction) -> tuple[Place, Actor, str]:
        """Defer at once (Discord's 3 s), then: where it was used, by whom, and its event id."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel_id = interaction.channel_id or 0
        place = await self.place(interaction.channel, channel_id, interaction.guild_id)
        actor = actor_of(interaction.user, place.where.workspace)
        return place, actor, f"interaction:{interaction.id}"

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        """``/cop <sub> ...``: defer at once, then let the core answer."""
        place, actor, event_id = await self._accept(interaction)
        invocation = CommandInvocation(
            where=place.where,
            actor=actor,
            text=text,
            at=interaction.created_at,
            thread_id=place.thread_id,
            event_id=event_id,
        )
        await self._handle(invocation, interaction)

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Save to repertoire" context menu: a save on purpose, so DMs count too."""
        place, saver, event_id = await self._accept(interaction)
        workspace = place.where.workspace
        request = SaveRequest(
            where=place.where,
            saver=saver,
            message_id=str(message.id),
            text=message.content,
            author=actor_of(message.author, workspace),
            created_at=message.created_at,
            permalink=message.jump_url,
            thread_id=place.thread_id,
            event_id=event_id,
        )
        await self._handle(request, interaction)

    async def suggestion_feedback(
        self, interaction: discord.Interaction, verdict: str, suggestion_id: int, entry_id: int
    ) -> None:
        """A "Solved it" / "Not related" click under a suggestion: feedback for the core."""
        place, actor, event_id = await self._accept(interaction)
        feedback = SuggestionFeedback(
            where=place.where,
            actor=actor,
            suggestion_id=suggestion_id,
            verdict=verdict,
            entry_id=entry_id,
            event_id=event_id,
            at=interaction.created_at,
        )
        await self._handle(feedback, interaction)

    async def share_entry(self, interaction: discord.Interaction, entry_id: int) -> None:
        """A "Share" button under results: the core re-checks that the entry may be shown here."""
        place, actor, event_id = await self._accept(interaction)
        request = ShareRequest(
            where=place.where,
            actor=actor,
            entry_id=entry_id,
            event_id=event_id,
        )
        await self._handle(request, interaction)

    async def mark_solution(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Mark solution" menu: the member's mark on that answer, as the ✅ reaction."""
        place, actor, event_id = await self._accept(interaction)
        mark = AcceptMark(
            where=place.where,
            message_id=str(message.id),
            actor=actor,
            event_id=event_id,
            at=interaction.created_at,
        )
        await self._handle(mark, interaction)
