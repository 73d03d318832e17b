"""The Discord adapter: discord.py events in, the core's answers out.

It translates (:mod:`adapters.discord.translate`), calls the core through its
database thread (:class:`bot.runtime.AsyncCore`), and renders what comes back
(:mod:`adapters.discord.render`). It decides nothing about the community:
what is a question, an answer, an accept or a save is the core's business.

Commands always defer first (``ephemeral=True``), because Discord drops an
interaction not answered within 3 seconds; the core's replies then go out as
follow-ups. A reply meant for one member that does not come from an
interaction (e.g. "saved" after a 📌 reaction) goes to them as a DM, since
Discord has no ephemeral messages outside interactions.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import discord

from adapters.discord.client import CopbotClient
from adapters.discord.commands import ShareView
from adapters.discord.render import Rendered, cut, render_post, render_reply
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
)
from bot.config import ConfigError, Settings
from bot.events import (
    CommandInvocation,
    FetchMessage,
    ForumPostChanged,
    InboundEvent,
    Outbound,
    Post,
    Reply,
    SaveRequest,
    Where,
)
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "DISCORD_TOKEN"
_NO_PINGS = discord.AllowedMentions.none()
#: How many thread/channel lookups and message origins we remember (bounded memory).
_MEMORY = 5000


@dataclass
class _Delivery:
    """What has been sent for one interaction so far."""

    interaction: discord.Interaction | None
    followed_up: bool = False


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
        self.client = CopbotClient(self, sync_commands=sync_commands)
        self._channels: OrderedDict[int, AnyChannel] = OrderedDict()
        self._origins: OrderedDict[tuple[str, str], int] = OrderedDict()

    # ------------------------------------------------------------------ PlatformAdapter

    async def start(self) -> None:
        """Log in and stay connected until closed."""
        try:
            await self.client.start(self._token)
        except discord.LoginFailure:
            raise ConfigError(
                f"Discord refused {TOKEN_ENV_VAR}: reset the bot token in the developer portal "
                "and export the new one."
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(
                "Discord refused the Message Content intent: turn on 'Message Content Intent' "
                "under Bot > Privileged Gateway Intents in the developer portal."
            ) from None

    async def post(self, post: Post) -> str | None:
        """Send a message nobody asked for in the moment (a digest); its message id."""
        rendered = render_post(post)
        target = await self._destination(post.where, post.thread_id)
        files: list[discord.File] = []
        if post.image_path and Path(post.image_path).is_file():
            image = Path(post.image_path)
            files.append(discord.File(image, filename=image.name))
            rendered.embeds[0].set_image(url=f"attachment://{image.name}")
        message = await target.send(
            content=rendered.content or None,
            embeds=rendered.embeds,
            files=files,
            allowed_mentions=_NO_PINGS,
        )
        return str(message.id)

    async def close(self) -> None:
        await self.client.close()

    # ------------------------------------------------------------------ places

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
        return place_of(channel, guild_id, channel_id)

    @staticmethod
    def _remember(memory: OrderedDict, key: object, value: object) -> None:  # type: ignore[type-arg]
        memory[key] = value
        memory.move_to_end(key)
        while len(memory) > _MEMORY:
            memory.popitem(last=False)

    # ------------------------------------------------------------------ gateway events

    async def _handle(self, event: InboundEvent, delivery: _Delivery | None = None) -> None:
        outbound = await self.core.handle(event)
        await self.deliver(outbound, delivery or _Delivery(None))

    def _is_me(self, user_id: int) -> bool:
        return self.client.user is not None and user_id == self.client.user.id

    async def on_message(self, message: discord.Message) -> None:
        if not is_chat_message(message) or self._is_me(message.author.id):
            return
        guild_id = message.guild.id if message.guild else None
        place = await self.place(message.channel, message.channel.id, guild_id)
        await self._handle(message_event(message, place, self.settings.discord.solved_tags))

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Edits come raw, so a message edited after a restart (not in the cache) still syncs."""
        if self._is_me(payload.message.author.id):
            return
        place = await self.place(None, payload.channel_id, payload.guild_id)
        event = edit_event(payload.message, place)
        if event is not None:
            await self._handle(event)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        place = await self.place(None, payload.channel_id, payload.guild_id)
        await self._handle(delete_event(payload.message_id, place))

    async def on_raw_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if self._is_me(payload.user_id):
            return
        place = await self.place(None, payload.channel_id, payload.guild_id)
        # A FetchMessage for this message must look in the thread, not the parent.
        self._remember(
            self._origins,
            (place.where.channel, str(payload.message_id)),
            place.source_channel_id,
        )
        user = payload.member or self.client.get_user(payload.user_id)
        await self._handle(reaction_event(payload, place, user))

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
        place = place_of(after, after.guild.id, after.id)
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
        place = place_of(parent, payload.guild_id, payload.parent_id)
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
        place = place_of(parent, payload.guild_id, payload.parent_id)
        await self._handle(delete_event(payload.thread_id, place))

    # ------------------------------------------------------------------ interactions

    async def _interaction_place(self, interaction: discord.Interaction) -> Place:
        channel_id = interaction.channel_id or 0
        return await self.place(interaction.channel, channel_id, interaction.guild_id)

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        """``/cop <sub> ...``: defer at once, then let the core answer."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        place = await self._interaction_place(interaction)
        invocation = CommandInvocation(
            where=place.where,
            actor=actor_of(interaction.user, place.where.workspace),
            text=text,
            at=interaction.created_at,
            thread_id=place.thread_id,
            event_id=f"interaction:{interaction.id}",
        )
        await self._handle(invocation, _Delivery(interaction))

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Save to repertoire" context menu: a save on purpose, so DMs count too."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        place = await self._interaction_place(interaction)
        workspace = place.where.workspace
        request = SaveRequest(
            where=place.where,
            saver=actor_of(interaction.user, workspace),
            message_id=str(message.id),
            text=message.content,
            author=actor_of(message.author, workspace),
            created_at=message.created_at,
            permalink=message.jump_url,
            thread_id=place.thread_id,
            event_id=f"interaction:{interaction.id}",
        )
        await self._handle(request, _Delivery(interaction))

    async def share_results(self, interaction: discord.Interaction) -> None:
        """The share button: post the results the member saw, in the same channel, for all."""
        shown = interaction.message
        if shown is None or not shown.embeds:
            await interaction.response.send_message("Those results are gone.", ephemeral=True)
            return
        header = shown.content.splitlines()[0] if shown.content else "Search results"
        await interaction.response.send_message(
            content=cut(f"{interaction.user.mention} shared: {header}", 2000),
            embeds=shown.embeds,
            allowed_mentions=_NO_PINGS,
        )

    # ------------------------------------------------------------------ sending

    async def deliver(self, outbound: list[Outbound], delivery: _Delivery) -> None:
        """Send what the core said; close an interaction that got no follow-up."""
        for item in outbound:
            try:
                if isinstance(item, Reply):
                    await self._send_reply(item, delivery)
                elif isinstance(item, Post):
                    await self.post(item)
                elif isinstance(item, FetchMessage):
                    await self._fetch_and_save(item, delivery)
            except discord.HTTPException:
                log.exception("Discord refused a message to %s", item.where.ref)
        if delivery.interaction is not None and not delivery.followed_up:
            await delivery.interaction.followup.send("Done.", ephemeral=True)
            delivery.followed_up = True

    async def _send_reply(self, reply: Reply, delivery: _Delivery) -> None:
        rendered = render_reply(reply)
        interaction = delivery.interaction
        if reply.ephemeral:
            for_caller = interaction is not None and (
                reply.recipient is None or reply.recipient.user_id == str(interaction.user.id)
            )
            if interaction is not None and for_caller:
                await self._follow_up(interaction, rendered, share="share" in reply.actions)
                delivery.followed_up = True
            elif reply.recipient is not None:
                await self._direct_message(int(reply.recipient.user_id), rendered)
            return
        message = await self._send_public(reply.where, reply.thread_id, rendered)
        if reply.anchor_entry_id is not None:
            await self._anchor(reply, message)
        if interaction is not None and not delivery.followed_up:
            await interaction.followup.send(f"Posted: {message.jump_url}", ephemeral=True)
            delivery.followed_up = True

    async def _follow_up(
        self, interaction: discord.Interaction, rendered: Rendered, *, share: bool
    ) -> None:
        if share and rendered.embeds:
            await interaction.followup.send(
                content=rendered.content,
                embeds=rendered.embeds,
                view=ShareView(self),
                ephemeral=True,
                allowed_mentions=_NO_PINGS,
            )
        else:
            await interaction.followup.send(
                content=rendered.content,
                embeds=rendered.embeds,
                ephemeral=True,
                allowed_mentions=_NO_PINGS,
            )

    async def _direct_message(self, user_id: int, rendered: Rendered) -> None:
        try:
            dm = await self.client.create_dm(discord.Object(id=user_id))
            await dm.send(
                content=rendered.content, embeds=rendered.embeds, allowed_mentions=_NO_PINGS
            )
        except discord.HTTPException as exc:  # DMs closed: the note is lost, nothing else
            log.info("could not DM member %s: %s", user_id, exc)

    async def _destination(self, where: Where, thread_id: str | None) -> discord.abc.Messageable:
        """The thread when there is one (its id is the root's id), else the channel."""
        guild_id = int(where.workspace) if where.workspace else None
        if thread_id:
            thread = await self.channel(int(thread_id), guild_id)
            if isinstance(thread, discord.Thread):
                return thread
        found = await self.channel(int(where.channel), guild_id)
        if isinstance(found, discord.abc.Messageable):
            return found
        return self.client.get_partial_messageable(int(where.channel), guild_id=guild_id)

    async def _send_public(
        self, where: Where, thread_id: str | None, rendered: Rendered
    ) -> discord.Message:
        target = await self._destination(where, thread_id)
        reference = None
        if thread_id and not isinstance(target, discord.Thread):
            # No thread yet under that message: answer it in the channel, as a reply.
            reference = discord.MessageReference(
                message_id=int(thread_id), channel_id=int(where.channel), fail_if_not_exists=False
            )
        if reference is not None:
            return await target.send(
                content=rendered.content,
                embeds=rendered.embeds,
                reference=reference,
                allowed_mentions=_NO_PINGS,
            )
        return await target.send(
            content=rendered.content, embeds=rendered.embeds, allowed_mentions=_NO_PINGS
        )

    async def _anchor(self, reply: Reply, message: discord.Message) -> None:
        """``/cop ask``: open a thread under the posted question and bind the entry to it."""
        assert reply.anchor_entry_id is not None
        if isinstance(message.channel, discord.TextChannel):
            first_line = reply.text.splitlines()[0] if reply.text else "Question"
            name = cut(first_line.removeprefix("❓ ").strip(), 100) or "Question"
            try:
                await message.create_thread(name=name)
            except discord.HTTPException as exc:
                log.warning("could not open a thread for a question: %s", exc)
        await self.core.link_posted_message(
            reply.anchor_entry_id, str(message.id), message.jump_url
        )

    async def _fetch_and_save(self, request: FetchMessage, delivery: _Delivery) -> None:
        """The core needs a message it never stored (📌 on an old message): fetch, then save."""
        where = request.where
        source_id = self._origins.get((where.channel, request.message_id), int(where.channel))
        guild_id = int(where.workspace) if where.workspace else None
        channel = self.client.get_partial_messageable(source_id, guild_id=guild_id)
        try:
            message = await channel.fetch_message(int(request.message_id))
        except discord.NotFound:
            log.info("message %s is gone; nothing saved", request.message_id)
            return
        thread_id = str(source_id) if str(source_id) != where.channel else None
        save = SaveRequest(
            where=where,
            saver=request.saver,
            message_id=request.message_id,
            text=message.content,
            author=actor_of(message.author, where.workspace),
            created_at=message.created_at,
            kind=request.kind,
            permalink=message.jump_url,
            thread_id=thread_id,
        )
        await self.deliver(await self.core.handle(save), delivery)
