"""Discord's platform operations for the shared delivery step (:mod:`adapters.delivery`).

An interaction was deferred (``ephemeral=True``) before the core was asked, so
private replies for the caller go out as ephemeral follow-ups, and an
interaction that got none is closed with a short one. A private reply meant
for one member outside an interaction (e.g. "saved" after a 📌 reaction) goes
to them as a DM, since Discord has no ephemeral messages there; a quiet offer
(``Reply.quiet``, a "possibly related" for the asker) is skipped instead.
Public replies go into the thread when there is one (its id is the root
message's id), else into the channel; a question posted for ``/cop ask`` gets
a thread of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from adapters.delivery import Delivery, FetchedMessage, Report, SendFailed, Sent
from adapters.discord.feedback import LABELS, feedback_view
from adapters.discord.places import Directory
from adapters.discord.render import Rendered, render_post, render_reply
from adapters.discord.share_button import share_view
from adapters.discord.translate import actor_of
from bot.events import Actor, Outbound, Post, Reply, Where
from bot.render_text import cut
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


@dataclass
class InteractionContext:
    """One delivery on Discord: the interaction it answers, if any, and whether it was."""

    interaction: discord.Interaction | None = None
    followed_up: bool = False


def _reason(exc: discord.HTTPException) -> str:
    if isinstance(exc, discord.Forbidden):
        return f"copbot may not post here; Discord said: {exc.text or 'Missing Permissions'}"
    return f"Discord said {exc.status} {exc.text}".strip()


class DiscordOps:
    """Send, post and read messages through discord.py (``PlatformOps``)."""

    def __init__(self, client: discord.Client, directory: Directory) -> None:
        self.client = client
        self.directory = directory

    async def send_post(self, post: Post) -> str | None:
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
        try:
            message = await target.send(
                content=content.strip() or None,
                embeds=rendered.embeds,
                files=files,
                allowed_mentions=allowed,
            )
        except discord.HTTPException as exc:
            raise SendFailed(_reason(exc)) from exc
        return str(message.id)

    async def send_private(self, reply: Reply, context: InteractionContext) -> None:
        rendered = render_reply(reply)
        interaction = context.interaction
        recipient = reply.recipient
        for_caller = interaction is not None and (
            recipient is None or recipient.user_id == str(interaction.user.id)
        )
        if interaction is not None and for_caller:
            shared = [i.entry_id for i in reply.items] if "share" in reply.actions else []
            try:
                await self._follow_up(interaction, rendered, shared)
            except discord.HTTPException as exc:
                raise SendFailed(_reason(exc)) from exc
            context.followed_up = True
        elif recipient is not None and not reply.quiet:
            await self._direct_message(int(recipient.user_id), rendered)
        # A quiet offer outside an interaction is skipped: Discord has no message
        # only one member sees there, and a DM for a "possibly related" is noise.

    async def send_public(self, reply: Reply, context: InteractionContext) -> Sent | None:
        rendered = render_reply(reply)
        view = None
        verdicts = tuple(a for a in reply.actions if a in LABELS)
        if reply.suggestion_id is not None and verdicts and reply.items:
            view = feedback_view(reply.suggestion_id, [i.entry_id for i in reply.items], verdicts)
        try:
            message = await self._send_public(reply.where, reply.thread_id, rendered, view)
        except discord.HTTPException as exc:
            raise SendFailed(_reason(exc)) from exc
        if reply.anchor_entry_id is not None:
            await self._open_thread(reply, message)
        interaction = context.interaction
        if interaction is not None and not context.followed_up:
            await interaction.followup.send(f"Posted: {message.jump_url}", ephemeral=True)
            context.followed_up = True
        return Sent(str(message.id), message.jump_url)

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

    async def _open_thread(self, reply: Reply, message: discord.Message) -> None:
        """``/cop ask``: a thread under the posted question, for its answers."""
        if not isinstance(message.channel, discord.TextChannel):
            return  # already in a thread or a forum post
        first_line = reply.text.splitlines()[0] if reply.text else "Question"
        name = cut(first_line.removeprefix("❓ ").strip(), 100) or "Question"
        try:
            await message.create_thread(name=name)
        except discord.HTTPException as exc:
            log.warning("could not open a thread for a question: %s", exc)

    async def fetch_message(self, where: Where, message_id: str) -> FetchedMessage | None:
        """The message behind a 📌 the core never stored (it looks in the right thread)."""
        source_id = self.directory.origin(where, message_id)
        guild_id = int(where.workspace) if where.workspace else None
        channel = self.client.get_partial_messageable(source_id, guild_id=guild_id)
        try:
            message = await channel.fetch_message(int(message_id))
        except discord.HTTPException as exc:
            log.info("could not read message %s (%s); nothing saved", message_id, exc)
            return None
        thread_id = str(source_id) if str(source_id) != where.channel else None
        return FetchedMessage(
            text=message.content,
            author=actor_of(message.author, where.workspace),
            created_at=message.created_at,
            permalink=message.jump_url,
            thread_id=thread_id,
        )


class Outbox:
    """The shared delivery step over Discord's operations."""

    def __init__(self, client: discord.Client, core: AsyncCore, directory: Directory) -> None:
        self.ops = DiscordOps(client, directory)
        self.delivery = Delivery(core, self.ops)

    async def post(self, post: Post) -> str | None:
        return await self.ops.send_post(post)

    async def deliver(
        self, outbound: list[Outbound], context: InteractionContext, actor: Actor | None = None
    ) -> Report:
        """Send what the core said; close an interaction that got no follow-up."""
        report = await self.delivery.deliver(outbound, context, actor=actor)
        interaction = context.interaction
        if interaction is not None and not context.followed_up:
            await interaction.followup.send("Done.", ephemeral=True)
            context.followed_up = True
        return report
