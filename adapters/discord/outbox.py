"""Sending the core's answers to Discord: replies, follow-ups, DMs, posts, fetches.

An interaction was deferred (``ephemeral=True``) before the core was asked, so
replies for the caller go out as ephemeral follow-ups, and an interaction that
got none is closed with a short one. A reply meant for one member outside an
interaction (e.g. "saved" after a 📌 reaction) goes to them as a DM, since
Discord has no ephemeral messages there. Public replies go into the thread
when there is one (its id is the root message's id), else into the channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from adapters.discord.feedback import LABELS, feedback_view
from adapters.discord.places import Directory
from adapters.discord.render import Rendered, render_post, render_reply
from adapters.discord.share_button import share_view
from adapters.discord.translate import actor_of
from bot.events import FetchMessage, Outbound, Post, Reply, SaveRequest, Where
from bot.render_text import cut
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


@dataclass
class Delivery:
    """What has been sent for one interaction so far (``None``: not from an interaction)."""

    interaction: discord.Interaction | None = None
    followed_up: bool = False


class Outbox:
    """Renders and sends what the core returns."""

    def __init__(
        self,
        client: discord.Client,
        core: AsyncCore,
        directory: Directory,
    ) -> None:
        self.client = client
        self.core = core
        self.directory = directory

    async def post(self, post: Post) -> str | None:
        """Send a message nobody asked for in the moment (a digest); its message id."""
        rendered = render_post(post)
        target = await self._destination(post.where, post.thread_id)
        files: list[discord.File] = []
        if post.image_path and Path(post.image_path).is_file():
            image = Path(post.image_path)
            files.append(discord.File(image, filename=image.name))
            rendered.embeds[0].set_image(url=f"attachment://{image.name}")
        content = rendered.content
        allowed = NO_PINGS
        if rendered.pings:  # only members the core chose to ping (opt-in), nobody else
            content = " ".join([content, *(f"<@{user_id}>" for user_id in rendered.pings)])
            allowed = discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(id=u) for u in rendered.pings]
            )
        message = await target.send(
            content=content.strip() or None,
            embeds=rendered.embeds,
            files=files,
            allowed_mentions=allowed,
        )
        return str(message.id)

    async def deliver(self, outbound: list[Outbound], delivery: Delivery) -> None:
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

    async def _send_reply(self, reply: Reply, delivery: Delivery) -> None:
        rendered = render_reply(reply)
        interaction = delivery.interaction
        if reply.ephemeral:
            for_caller = interaction is not None and (
                reply.recipient is None or reply.recipient.user_id == str(interaction.user.id)
            )
            if interaction is not None and for_caller:
                shared = [i.entry_id for i in reply.items] if "share" in reply.actions else []
                await self._follow_up(interaction, rendered, shared)
                delivery.followed_up = True
            elif reply.recipient is not None:
                await self._direct_message(int(reply.recipient.user_id), rendered)
            return
        view = None
        verdicts = tuple(a for a in reply.actions if a in LABELS)
        if reply.suggestion_id is not None and verdicts and reply.items:
            view = feedback_view(reply.suggestion_id, [i.entry_id for i in reply.items], verdicts)
        message = await self._send_public(reply.where, reply.thread_id, rendered, view)
        if reply.anchor_entry_id is not None:
            await self.deliver(await self._anchor(reply, message), Delivery())
        if reply.suggestion_id is not None:
            # Reactions on this message (✅ solved it, 👎 not related) are feedback on it.
            await self.core.reply_posted(reply, str(message.id))
        if interaction is not None and not delivery.followed_up:
            await interaction.followup.send(f"Posted: {message.jump_url}", ephemeral=True)
            delivery.followed_up = True

    async def _follow_up(
        self, interaction: discord.Interaction, rendered: Rendered, shared: list[int]
    ) -> None:
        if shared and rendered.embeds:
            await interaction.followup.send(
                content=rendered.content,
                embeds=rendered.embeds,
                view=share_view(shared[: len(rendered.embeds)]),
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
        else:
            await interaction.followup.send(
                content=rendered.content,
                embeds=rendered.embeds,
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )

    async def _direct_message(self, user_id: int, rendered: Rendered) -> None:
        try:
            dm = await self.client.create_dm(discord.Object(id=user_id))
            await dm.send(
                content=rendered.content, embeds=rendered.embeds, allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:  # DMs closed: the note is lost, nothing else
            log.info("could not DM member %s: %s", user_id, exc)

    async def _destination(self, where: Where, thread_id: str | None) -> discord.abc.Messageable:
        """The thread when there is one (its id is the root's id), else the channel."""
        guild_id = int(where.workspace) if where.workspace else None
        if thread_id:
            thread = await self.directory.channel(int(thread_id), guild_id)
            if isinstance(thread, discord.Thread):
                return thread
        found = await self.directory.channel(int(where.channel), guild_id)
        if isinstance(found, discord.abc.Messageable):
            return found
        return self.client.get_partial_messageable(int(where.channel), guild_id=guild_id)

    async def _send_public(
        self,
        where: Where,
        thread_id: str | None,
        rendered: Rendered,
        view: discord.ui.View | None = None,
    ) -> discord.Message:
        target = await self._destination(where, thread_id)
        reference = None
        if thread_id and not isinstance(target, discord.Thread):
            # No thread yet under that message: answer it in the channel, as a reply.
            reference = discord.MessageReference(
                message_id=int(thread_id), channel_id=int(where.channel), fail_if_not_exists=False
            )
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        if reference is not None:
            extra["reference"] = reference
        return await target.send(
            content=rendered.content, embeds=rendered.embeds, allowed_mentions=NO_PINGS, **extra
        )

    async def _anchor(self, reply: Reply, message: discord.Message) -> list[Outbound]:
        """``/cop ask``: open a thread under the posted question and bind the entry to it.

        Returns what the core says now that the question has its message
        (similar past answers), to be sent like any reply.
        """
        assert reply.anchor_entry_id is not None
        if isinstance(message.channel, discord.TextChannel):
            first_line = reply.text.splitlines()[0] if reply.text else "Question"
            name = cut(first_line.removeprefix("❓ ").strip(), 100) or "Question"
            try:
                await message.create_thread(name=name)
            except discord.HTTPException as exc:
                log.warning("could not open a thread for a question: %s", exc)
        return await self.core.link_posted_message(
            reply.anchor_entry_id, str(message.id), message.jump_url
        )

    async def _fetch_and_save(self, request: FetchMessage, delivery: Delivery) -> None:
        """The core needs a message it never stored (📌 on an old message): fetch, then save."""
        where = request.where
        source_id = self.directory.origin(where, request.message_id)
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
