"""The discord.py client: the intents and permissions copbot needs, and its listeners.

The client only receives; each listener hands the discord.py object to the
adapter (a :class:`GatewayTarget`: :class:`adapters.discord.adapter.DiscordAdapter`),
which translates it for the core and sends the answer back.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp
import discord
from discord import app_commands

from adapters.catchup import CatchUpReport
from adapters.discord.commands import CommandTarget, command_payload, install, payload_hash
from adapters.discord.feedback import FeedbackButton
from adapters.discord.share_button import ShareButton
from bot.config import Settings
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)


def copbot_intents() -> discord.Intents:
    """Exactly the gateway intents the features need (the README explains each)."""
    intents = discord.Intents.none()
    intents.guilds = (
        True  # channels, threads, roles, forum tags: where a message is, who can see it
    )
    intents.guild_messages = True  # messages created, edited and deleted in servers
    intents.guild_reactions = True  # the accept (✅) and save (📌) reactions
    intents.message_content = True  # privileged: the text of messages, to keep it
    return intents


#: The bot permissions the invite link asks for (the README explains each).
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,  # see channels, forum posts and their messages
    read_message_history=True,  # fetch a message to save it (📌 on an old message)
    send_messages=True,  # post /cop ask questions, accepted-answer notes, digests
    send_messages_in_threads=True,  # ... and the same inside threads and forum posts
    create_public_threads=True,  # open a thread under a /cop ask question for its answers
    embed_links=True,  # search results and digests are embeds
    attach_files=True,  # a digest's optional chart
)

#: The OAuth2 scopes of the invite link: the bot user, and its slash commands.
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int) -> str:
    """The link that adds copbot to a server with exactly the scopes and permissions it needs."""
    return discord.utils.oauth_url(
        application_id, permissions=REQUIRED_PERMISSIONS, scopes=list(SCOPES)
    )


class CopbotTree(app_commands.CommandTree):
    """The command tree; a command that fails still answers the member, who would wait forever."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("Discord command %r failed", interaction.data, exc_info=error)
        text = "Sorry, something went wrong on my side. It was logged; please try again."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the member about the failure")


class GatewayTarget(CommandTarget, Protocol):
    """What the client hands its events to: the adapter (its commands, catch-up, listeners)."""

    core: AsyncCore
    settings: Settings

    async def begin_catch_up(self) -> None: ...
    async def catch_up(self, guild_id: int | None = None) -> CatchUpReport: ...
    async def on_message(self, message: discord.Message) -> None: ...
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None: ...
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None: ...
    async def on_raw_reaction(self, payload: discord.RawReactionActionEvent) -> None: ...
    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None: ...
    async def on_thread_create(self, thread: discord.Thread) -> None: ...
    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None: ...
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None: ...
    async def on_raw_bulk_message_delete(
        self, payload: discord.RawBulkMessageDeleteEvent
    ) -> None: ...
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None: ...


class CopbotClient(discord.Client):
    """A :class:`discord.Client` whose events go to the adapter."""

    def __init__(self, adapter: GatewayTarget, *, sync_commands: bool = True) -> None:
        super().__init__(
            intents=copbot_intents(),
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.adapter = adapter
        self.sync_commands = sync_commands
        self.tree = CopbotTree(self)
        install(self.tree, adapter.core.commands, adapter)

    async def setup_hook(self) -> None:
        """After login: listen for button clicks, and register the commands if they changed."""
        self.add_dynamic_items(FeedbackButton, ShareButton)
        if not self.sync_commands:
            return
        guild_ids = self.adapter.settings.discord.guild_ids
        for guild_id in guild_ids:
            self.tree.copy_global_to(guild=discord.Object(id=guild_id))
        scopes: list[discord.Object | None] = (
            [discord.Object(id=g) for g in guild_ids] if guild_ids else [None]
        )
        for guild in scopes:
            await self._sync(guild)

    async def _sync(self, guild: discord.Object | None) -> None:
        """Register the commands of one scope when their payload changed; never fatal.

        Discord limits how often commands may be registered, and registering on
        every start is what made a 503 there stop the bot: the payload's hash is
        kept, and a failure is logged and retried at the next start.
        """
        where = f"server {guild.id}" if guild is not None else "globally"
        key = f"discord.commands.{self.application_id}.{guild.id if guild else 'global'}"
        digest = payload_hash(command_payload(self.tree, guild))
        core = self.adapter.core
        if await core.recall(key) == digest:
            log.info("Discord: /cop unchanged %s; not registered again", where)
            return
        try:
            await self.tree.sync(guild=guild)
        except discord.Forbidden:
            log.error(
                "Discord refused to register /cop %s: is copbot in it, invited with the "
                "applications.commands scope? (README: 'Connect to Discord')",
                where,
            )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.error(
                "Discord: could not register /cop %s (%s); the commands registered before "
                "still work, and copbot tries again at its next start",
                where,
                exc,
            )
        else:
            await core.remember(key, digest)
            when = "" if guild is not None else " (Discord may take up to an hour to show it)"
            log.info("Discord: registered /cop %s%s", where, when)

    async def on_connect(self) -> None:
        # Dispatched as READY is parsed, before the session's first message event.
        await self.adapter.begin_catch_up()

    async def on_ready(self) -> None:
        # READY comes after every new session (not after a RESUME, which replays):
        # read what was said while we were disconnected.
        self.loop.create_task(self.adapter.catch_up(), name="copbot-discord-catch-up")
        if self.user is not None and self.application_id is not None:
            log.info(
                "Discord: logged in as %s in %d server(s). Invite link: %s",
                self.user,
                len(self.guilds),
                invite_url(self.application_id),
            )

    async def on_guild_join(self, guild: discord.Guild) -> None:
        # Added (back) to a server: read what was said there while copbot was out of it.
        self.loop.create_task(self.adapter.catch_up(guild.id), name="copbot-discord-rejoin")

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.adapter.on_raw_message_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.adapter.on_raw_message_delete(payload)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_raw_reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_raw_reaction(payload)

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        await self.adapter.on_guild_channel_update(before, after)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        await self.adapter.on_thread_create(thread)

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        await self.adapter.on_thread_update(before, after)

    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        await self.adapter.on_raw_thread_update(payload)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.adapter.on_raw_bulk_message_delete(payload)

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.adapter.on_raw_thread_delete(payload)
